"""Fixtures for a rule's own tests, run natively (`python -m unittest`): series, a context for
a day, and running a rule as the host does (settings read and checked, then evaluated)."""

import datetime

from ._core import Context, Key, Series


def key(usage_type="USE1-BoxUsage:m5.large"):
    """A key in account 111122223333, service AmazonEC2, region us-east-1."""
    return Key("111122223333", "AmazonEC2", "Amazon Elastic Compute Cloud", usage_type, "us-east-1")


def series(amounts, known_from=0, usage_type="USE1-BoxUsage:m5.large"):
    """A series of `amounts` (oldest first, the last is the evaluated day)."""
    return Series(key(usage_type), list(amounts), known_from)


def context(day, config=None):
    """The context of evaluating `day` (`YYYY-MM-DD`) with its weekday and 90 days of history."""
    date = datetime.date.fromisoformat(day)
    start = date - datetime.timedelta(days=89)
    return Context(day, date.weekday(), start.isoformat(), dict(config or {}))


def run(rule_class, batch, day="2026-03-18", config=None):
    """Builds the rule from `config` (a dict) as the host does on every call and evaluates
    `batch` on `day`: the findings, or BadConfig."""
    ctx = context(day, config)
    return rule_class.from_config(ctx.config).evaluate(ctx, batch)
