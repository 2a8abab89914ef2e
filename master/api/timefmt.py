"""RFC 3339 timestamps as the API writes them.

``metav1.Time`` has second precision (``2026-11-27T04:34:00Z``); ``metav1.MicroTime`` (Lease
renewTime, events' eventTime) has microseconds (``2026-11-27T04:34:00.123456Z``). Both are
always UTC with a ``Z`` on output; input may carry any offset and any fraction.
"""

from __future__ import annotations

import datetime as _dt
import time as _time

__all__ = [
    "TimeFormatError",
    "format_micro_time",
    "format_time",
    "now",
    "now_micro",
    "parse_time",
    "to_epoch",
    "to_epoch_or",
]

_UTC = _dt.UTC


class TimeFormatError(ValueError):
    """A string that is not an RFC 3339 timestamp."""


def _as_datetime(t: float | _dt.datetime) -> _dt.datetime:
    if isinstance(t, _dt.datetime):
        return t.replace(tzinfo=_UTC) if t.tzinfo is None else t.astimezone(_UTC)
    return _dt.datetime.fromtimestamp(t, _UTC)


def format_time(t: float | _dt.datetime) -> str:
    """Seconds since the epoch (or a datetime; naive means UTC) as ``YYYY-MM-DDTHH:MM:SSZ``.

    >>> format_time(0)
    '1970-01-01T00:00:00Z'
    """
    return _as_datetime(t).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(t: float | _dt.datetime) -> str:
    """>>> format_micro_time(1.5)
    '1970-01-01T00:00:01.500000Z'
    """
    return _as_datetime(t).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now(clock_time: float | None = None) -> str:
    """``format_time`` of ``clock_time`` (a Clock's ``time()``), or of the wall clock."""
    return format_time(_time.time() if clock_time is None else clock_time)


def now_micro(clock_time: float | None = None) -> str:
    return format_micro_time(_time.time() if clock_time is None else clock_time)


def parse_time(s: str) -> _dt.datetime:
    """An aware UTC datetime; raises ``TimeFormatError`` with the offending text.

    >>> parse_time("2026-11-27T05:34:00+01:00").isoformat()
    '2026-11-27T04:34:00+00:00'
    """
    text = s.strip()
    if len(text) < 20 or text[10] not in "Tt":
        raise TimeFormatError(f'parsing time "{s}": not an RFC 3339 timestamp')
    iso = text[:-1] + "+00:00" if text[-1] in "Zz" else text
    try:
        parsed = _dt.datetime.fromisoformat(iso)
    except ValueError:
        raise TimeFormatError(f'parsing time "{s}": not an RFC 3339 timestamp') from None
    if parsed.tzinfo is None:
        raise TimeFormatError(f'parsing time "{s}": missing time zone')
    return parsed.astimezone(_UTC)


def to_epoch(s: str) -> float:
    """Seconds since the epoch of an RFC 3339 timestamp."""
    return parse_time(s).timestamp()


def to_epoch_or(s: str | None, default: float = 0.0) -> float:
    """``to_epoch(s)``, or ``default`` for a missing or unparseable timestamp (for orderings and
    ages, where one bad stamp must not stop a controller)."""
    if not s:
        return default
    try:
        return to_epoch(s)
    except TimeFormatError:
        return default
