"""Helpers for costwatch rule plugins written in Python (interface costwatch:rule@0.2.0).

A rule is a subclass of `Rule` with its settings as class attributes (`number`, `days`,
`flag`, `text`, `texts`) and a `check(ctx, series)` that returns a `Finding` or None. The app
module that componentize-py builds exports it with `Rule = export(MyRule)`:

    componentize-py -d wit/v0.2.0 -w rule-plugin componentize app -p . -p sdk/python -o rule.wasm

Pure Python: the same rule runs natively in its tests (`costwatch_rule.testing`).
"""

from ._core import (
    DAYS_PER_MONTH,
    INTERFACE,
    BadConfig,
    BadInput,
    Context,
    Finding,
    Key,
    Rule,
    Series,
    Setting,
    Severity,
    days,
    flag,
    median,
    money,
    monthly,
    number,
    text,
    texts,
)
from ._export import export
from ._host import debug, error, info, warn

__all__ = [
    "DAYS_PER_MONTH", "INTERFACE", "BadConfig", "BadInput", "Context", "Finding", "Key",
    "Rule", "Series", "Setting", "Severity", "days", "debug", "error", "export", "flag", "info",
    "median", "money", "monthly", "number", "text", "texts", "warn",
]
