"""The glue between a Rule subclass and the bindings componentize-py generates (`wit_world`):
typed settings and series in, findings out, BadConfig and BadInput as the interface's
rule-error, and any other exception reported to the host (report-crash) before the guest
stops, so costwatch quotes it whatever the runtime prints."""

import os
import traceback

from ._core import BadConfig, BadInput, Context, Key, Series

try:
    from componentize_py_types import Err
    from wit_world import exports
    from wit_world.imports import host
    from wit_world.imports import types as wit
except ImportError:  # natively, without componentize-py's bindings
    wit = None

_SDK_DIR = os.path.dirname(os.path.abspath(__file__))
_STDLIB_DIR = os.path.dirname(os.path.abspath(os.__file__))


def export(rule_class):
    """The class componentize-py exports as `costwatch:rule/rule`; write
    `Rule = export(MyRule)` in the app module. Natively it is the rule class itself."""
    if wit is None:
        return rule_class

    class Exported(exports.Rule):
        def info(self):
            return _guard(lambda: _info(rule_class))

        def validate_config(self, config):
            _guard(lambda: rule_class.from_config(_config(config)))

        def evaluate(self, context, batch):
            return _guard(lambda: _evaluate(rule_class, context, batch))

    return Exported


def _guard(call):
    try:
        return call()
    except BadConfig as e:
        raise Err(wit.RuleError_BadConfig(str(e)))
    except BadInput as e:
        raise Err(wit.RuleError_BadInput(str(e)))
    except Exception as e:
        host.report_crash(_crash(e))
        raise


def _crash(e):
    """The exception as the interface's crash: its type, message, and the innermost frame
    of the rule's own code."""
    frames = traceback.extract_tb(e.__traceback__)
    own = [f for f in frames if not os.path.abspath(f.filename).startswith((_SDK_DIR, _STDLIB_DIR))]
    frame = (own or frames or [None])[-1]
    location = None
    if frame is not None:
        location = f"{os.path.basename(frame.filename)}:{frame.lineno} in {frame.name}"
    trace = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    return wit.Crash(kind=type(e).__name__, message=str(e), location=location, trace=trace)


def _config(config):
    return {name: value.value for name, value in config}


def _info(rule_class):
    schema = [
        wit.Setting(
            name=name,
            kind=wit.SettingKind[s.kind.upper()],
            default_value=_value(s.kind, s.default),
            description=s.description,
            min=None if s.min is None else float(s.min),
            max=None if s.max is None else float(s.max),
        )
        for name, s in rule_class.schema()
    ]
    needs = wit.Needs(
        history_days=rule_class.history_days,
        dimensions=[wit.Dimension[d.upper().replace("-", "_")] for d in rule_class.dimensions],
        usage_types=list(rule_class.usage_types),
    )
    return wit.RuleInfo(
        id=rule_class.id,
        version=rule_class.version,
        description=rule_class.description,
        config_schema=schema,
        needs=needs,
    )


def _value(kind, value):
    return {
        "number": wit.Value_Number,
        "days": wit.Value_Days,
        "flag": wit.Value_Flag,
        "text": wit.Value_Text,
        "texts": wit.Value_Texts,
    }[kind](value)


def _evaluate(rule_class, context, batch):
    config = _config(context.config)
    rule = rule_class.from_config(config)
    ctx = Context(context.day, context.weekday, context.history_start, config)
    series = [
        Series(
            Key(s.key.account, s.key.service, s.key.service_name, s.key.usage_type, s.key.region),
            s.amounts,
            s.known_from,
        )
        for s in batch
    ]
    return [_finding(f) for f in rule.evaluate(ctx, series)]


def _finding(f):
    k = f.key
    action = wit.Action_Notify() if f.budget_alert is None else wit.Action_BudgetAlert(float(f.budget_alert))
    return wit.Finding(
        key=wit.SeriesKey(k.account, k.service, k.service_name, k.usage_type, k.region),
        severity=wit.Severity[f.severity.name],
        observed=float(f.observed),
        expected=float(f.expected),
        score=float(f.score),
        monthly_impact=float(f.monthly_impact),
        message=f.message,
        detail=f.detail,
        action=action,
    )
