"""What a rule is, sees and returns: settings, series, findings and the Rule base class."""

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import List, Optional

#: The interface rules built with these helpers implement.
INTERFACE = "costwatch:rule@0.2.0"

#: Days per month costwatch turns a daily delta into a monthly impact with.
DAYS_PER_MONTH = 30.4


class BadConfig(Exception):
    """The rule's config table is wrong: which setting and why."""


class BadInput(Exception):
    """The data cannot be evaluated."""


# --- settings ----------------------------------------------------------------------------


class Setting:
    """One setting of a rule's config table: its kind, default, description and bounds."""

    def __init__(self, kind, default, description, minimum=None, maximum=None):
        self.kind = kind
        self.default = default
        self.description = description
        self.min = minimum
        self.max = maximum
        check_value(self, default)

    def __repr__(self):
        return f"{self.kind}({self.default!r})"


def number(default, description, min=None, max=None):
    """A finite number (`3` or `0.5`), optionally bounded."""
    return Setting("number", float(default), description, min, max)


def days(default, description, min=None, max=None):
    """A whole number of days, at least 1, optionally bounded."""
    return Setting("days", int(default), description, min, max)


def flag(default, description):
    """`true` or `false`."""
    return Setting("flag", bool(default), description)


def text(default, description):
    """A string."""
    return Setting("text", str(default), description)


def texts(default, description):
    """A list of strings."""
    return Setting("texts", list(default), description)


def check_value(setting, value):
    """Raises BadConfig-ready text (a ValueError) when `value` is not of the setting's kind or
    is out of its bounds."""
    kind = setting.kind
    ok = {
        "number": isinstance(value, (int, float)) and not isinstance(value, bool)
        and math.isfinite(value),
        "days": isinstance(value, int) and not isinstance(value, bool) and value >= 1,
        "flag": isinstance(value, bool),
        "text": isinstance(value, str),
        "texts": isinstance(value, list) and all(isinstance(v, str) for v in value),
    }[kind]
    if not ok:
        raise ValueError("not " + {
            "number": "a number", "days": "a positive whole number of days",
            "flag": "true or false", "text": "a string", "texts": "a list of strings",
        }[kind])
    if setting.min is not None and value < setting.min:
        raise ValueError(f"must be at least {setting.min:g}")
    if setting.max is not None and value > setting.max:
        raise ValueError(f"must be at most {setting.max:g}")


def toml_text(value):
    """A value as TOML text, as a user writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_text(v) for v in value) + "]"
    return str(value)


# --- what a rule sees and returns --------------------------------------------------------


@dataclass
class Key:
    """What a series is about; a dimension the rule did not ask for is an empty string."""

    account: str
    service: str
    service_name: str
    usage_type: str
    region: str

    def label(self):
        """`Amazon CloudWatch USE1-CW:MetricMonitorUsage in account 1 (us-east-1)`."""
        service = self.service_name or self.service
        out = " ".join(p for p in (service, self.usage_type) if p) or "spend"
        if self.account:
            out += f" in account {self.account}"
        if self.region:
            out += f" ({self.region})"
        return out

    def place(self):
        """`account 111122223333 us-east-1`, or `(all regions)` for a series summing them."""
        return f"account {self.account} {self.region or '(all regions)'}"


@dataclass
class Series:
    """Usage cost per calendar day in dollars, oldest first; the last value is the evaluated
    day. Days before `known_from` are 0.0 but unknown (costwatch has no data for them yet), not
    days without spend: baselines read `known()`."""

    key: Key
    amounts: List[float]
    known_from: int = 0

    def last(self):
        """Cost on the evaluated day."""
        return self.amounts[-1] if self.amounts else 0.0

    def known(self):
        """The days costwatch has data for, up to the evaluated day."""
        return self.amounts[self.known_from:]


@dataclass
class Context:
    """The evaluated day (`YYYY-MM-DD`, the last value of every series), its weekday (0 =
    Monday), the first day of billing data in the run's history, and the settings."""

    day: str
    weekday: int
    history_start: str
    config: dict = field(default_factory=dict)


class Severity(Enum):
    """How loudly a finding is reported."""

    INFO = 0
    WARNING = 1
    CRITICAL = 2

    @staticmethod
    def from_impact(monthly_impact, warning_at, critical_at):
        """Info below `warning_at` dollars a month, critical from `critical_at`, else warning."""
        if monthly_impact >= critical_at:
            return Severity.CRITICAL
        if monthly_impact >= warning_at:
            return Severity.WARNING
        return Severity.INFO


@dataclass
class Finding:
    """One anomaly on the evaluated day. The monthly impact defaults to
    `monthly(observed - expected)`; `budget_alert` (dollars a month) proposes an AWS Budgets
    alert for its scope."""

    key: Key
    severity: Severity
    observed: float
    expected: float
    message: str
    score: float = 0.0
    monthly_impact: Optional[float] = None
    detail: Optional[str] = None
    budget_alert: Optional[float] = None

    def __post_init__(self):
        if self.monthly_impact is None:
            self.monthly_impact = monthly(self.observed - self.expected)


def monthly(per_day):
    """Dollars a month from dollars a day."""
    return per_day * DAYS_PER_MONTH


def money(x):
    """`$1,234.56`, as costwatch prints money."""
    cents = int(math.floor(abs(x) * 100 + 0.5))
    return f"{'-' if x < 0 else ''}${cents // 100:,}.{cents % 100:02d}"


def median(xs):
    """The median, NaN for no values."""
    ordered = sorted(xs)
    n = len(ordered)
    if n == 0:
        return math.nan
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


# --- the rule ----------------------------------------------------------------------------


class Rule:
    """A detection rule. Subclasses set `id`, `version`, `description`, what data they need
    (`history_days`, `dimensions` of "account", "service", "usage_type", "region", and
    `usage_types` patterns where `*` matches any text), their settings as class attributes,
    and implement `check` (or `evaluate` for a whole batch). Each call builds the rule anew
    from its settings: keep no state between calls."""

    id = ""
    version = "0.1.0"
    description = ""
    history_days = 90
    dimensions = ()
    usage_types = ()

    @classmethod
    def schema(cls):
        """The settings as `(name, Setting)` pairs, in the order declared."""
        seen = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, Setting):
                    seen[name] = value
        return list(seen.items())

    @classmethod
    def from_config(cls, config):
        """The rule with its settings read from `config` (a dict) and checked: unknown keys,
        values of another kind or out of bounds raise BadConfig naming the setting; then
        `validate`."""
        schema = cls.schema()
        names = [name for name, _ in schema]
        unknown = [k for k in config if k not in names]
        if unknown:
            plural = "s" if len(unknown) > 1 else ""
            takes = ", ".join(names) or "no settings"
            raise BadConfig(f"unknown setting{plural} {', '.join(unknown)}; this rule takes {takes}")
        rule = cls()
        for name, setting in schema:
            value = config.get(name, setting.default)
            try:
                check_value(setting, value)
            except ValueError as why:
                raise BadConfig(f"{name} = {toml_text(value)}: {why}") from None
            setattr(rule, name, value)
        rule.validate()
        return rule

    def validate(self):
        """Checks how the settings combine (each is already checked); raise BadConfig."""

    def check(self, ctx, series):
        """The finding for one series on `ctx.day`, or None."""
        return None

    def evaluate(self, ctx, batch):
        """The findings of a batch: `check` for each series."""
        found = []
        for s in batch:
            finding = self.check(ctx, s)
            if finding is not None:
                found.append(finding)
        return found
