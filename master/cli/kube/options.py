"""kubectl's global flags for every cluster command, and duration parsing.

``@kube_command`` adds ``--kubeconfig``, ``--context``, ``-n/--namespace``, ``-s/--server`` and
``--request-timeout`` to a command and hands them over as one ``Globals`` value in the ``g``
keyword, so each verb declares only its own options::

    @app.command("get")
    @options.kube_command
    def get(resources: list[str] = typer.Argument(...), *, g: options.Globals) -> None: ...

kubectl also takes global flags before the verb (``kubectl -n x get pods``); ``master.cli.main``
moves such leading flags behind the verb before parsing.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import typer

from master.cli.main import CLIError

__all__ = ["GLOBAL_VALUE_FLAGS", "Globals", "bool_flags", "kube_command", "parse_duration"]

# The global flags that take a value (what ``main`` must know to reorder ``pictl -n x get``).
GLOBAL_VALUE_FLAGS = ("--kubeconfig", "--context", "--namespace", "-n", "--server", "-s", "--request-timeout")

# What "no timeout" becomes: aiohttp wants a number, a year is never reached by a CLI call.
NO_TIMEOUT = 365 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Globals:
    """The global flags as given; ``namespace`` is None unless -n was passed."""

    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    server: str | None = None
    request_timeout: float | None = None


_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def parse_duration(text: str, *, flag: str = "--timeout") -> float:
    """Go durations as kubectl flags take them: "30s", "1m30s", "2h", "500ms"; a bare number is
    seconds; "0" is zero. Raises ``CLIError`` naming the flag. Every pictl flag that takes a
    duration reads it here (``pictl master`` and ``pictl agent`` flags too)."""
    s = text.strip()
    try:
        value = float(s)
    except ValueError:
        pass
    else:
        if value < 0:
            raise CLIError(f"invalid {flag} {text!r}: must not be negative")
        if math.isfinite(value):
            return _bounded(value, text, flag)
    pos, total = 0, 0.0
    for m in _DURATION.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not s or pos != len(s):
        raise CLIError(f'invalid {flag} {text!r}: want a duration such as "30s", "5m" or "1h"')
    return _bounded(total, text, flag)


# Go's time.Duration (int64 nanoseconds) ends at about 292 years; a longer "duration" overflowed
# datetime arithmetic further on (pictl token create --ttl 99999999999h).
_MAX_DURATION = (2**63 - 1) / 1e9


def _bounded(seconds: float, text: str, flag: str) -> float:
    if seconds > _MAX_DURATION:
        raise CLIError(f"invalid {flag} {text!r}: longer than the longest duration (2562047h)")
    return seconds


def _request_timeout(text: str | None) -> float | None:
    if text is None:
        return None
    seconds = parse_duration(text, flag="--request-timeout")
    return NO_TIMEOUT if seconds == 0 else seconds


_KW = inspect.Parameter.KEYWORD_ONLY
_GLOBAL_PARAMS = [
    inspect.Parameter(
        "kubeconfig",
        _KW,
        annotation=str | None,
        default=typer.Option(None, "--kubeconfig", help="Path to the kubeconfig file to use.",
                             rich_help_panel="Global options"),
    ),
    inspect.Parameter(
        "context",
        _KW,
        annotation=str | None,
        default=typer.Option(None, "--context", help="The kubeconfig context to use.",
                             rich_help_panel="Global options"),
    ),
    inspect.Parameter(
        "namespace",
        _KW,
        annotation=str | None,
        default=typer.Option(None, "--namespace", "-n", help="The namespace scope for this request.",
                             rich_help_panel="Global options"),
    ),
    inspect.Parameter(
        "server",
        _KW,
        annotation=str | None,
        default=typer.Option(None, "--server", "-s", help="The address and port of the apiserver.",
                             rich_help_panel="Global options"),
    ),
    inspect.Parameter(
        "request_timeout",
        _KW,
        annotation=str | None,
        default=typer.Option(None, "--request-timeout",
                             help='How long to wait for one server request ("30s", "1m"; 0: no limit).',
                             rich_help_panel="Global options"),
    ),
]
_GLOBAL_NAMES = frozenset(p.name for p in _GLOBAL_PARAMS)


def kube_command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Give ``fn`` the global flags; it receives them as ``g: Globals`` (keyword-only)."""
    sig = inspect.signature(fn, eval_str=True)
    params = [p for p in sig.parameters.values() if p.name != "g"]
    if _GLOBAL_NAMES & {p.name for p in params}:
        raise TypeError(f"{fn.__name__} declares a global flag itself")

    @functools.wraps(fn)
    def wrapper(**kwargs: Any) -> Any:
        g = Globals(
            kubeconfig=kwargs.pop("kubeconfig", None),
            context=kwargs.pop("context", None),
            namespace=kwargs.pop("namespace", None),
            server=kwargs.pop("server", None),
            request_timeout=_request_timeout(kwargs.pop("request_timeout", None)),
        )
        return fn(g=g, **kwargs)

    del wrapper.__wrapped__  # typer must see the new signature, not fn's
    wrapper.__signature__ = sig.replace(parameters=[*params, *_GLOBAL_PARAMS])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {
        **{p.name: p.annotation for p in params},
        **{p.name: p.annotation for p in _GLOBAL_PARAMS},
    }
    return wrapper


def bool_flags(argv: list[str], flags: dict[str, str]) -> list[str]:
    """kubectl's boolean flags with values: ``--wait=false`` -> ``--no-wait``, ``--force=true`` ->
    ``--force``. ``flags`` maps a flag to its negative form ("" when false is the default and
    the flag is simply dropped). Arguments after ``--`` are left alone."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            return out + argv[i:]
        name, eq, value = arg.partition("=")
        if eq and name in flags and value.lower() in ("true", "false"):
            if value.lower() == "true":
                out.append(name)
            elif flags[name]:
                out.append(flags[name])
            continue
        out.append(arg)
    return out
