"""The host's log: lines go to costwatch's log tagged with the rule. Outside the component
(a rule's own tests) they go to stderr."""

import sys

try:
    from wit_world.imports import host as _host
except ImportError:  # natively, without componentize-py's bindings
    _host = None


def _write(level, message):
    if _host is None:
        print(f"[{level}] {message}", file=sys.stderr)
    else:
        _host.log(getattr(_host.Level, level.upper()), message)


def debug(message):
    """Logs at debug level."""
    _write("debug", message)


def info(message):
    """Logs at info level."""
    _write("info", message)


def warn(message):
    """Logs at warning level."""
    _write("warn", message)


def error(message):
    """Logs at error level."""
    _write("error", message)
