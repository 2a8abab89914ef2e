"""Container logs in the CRI format: reading, tailing, following, rotating.

containerd writes each line of a container's output as::

    2016-10-06T00:17:09.669794202Z stdout F hello world
    2016-10-06T00:17:09.669794202Z stdout P a long line's first part (no newline yet)

(time, stream, tag F full / P partial, text). ``read`` turns that into what ``kubectl logs``
prints: the text, a newline after each full line, with ``timestamps`` the time first. Options,
as the apiserver passes them on (``/containerLogs/...?tailLines=&follow=&timestamps=``):

- ``tail_lines``: only the last N full lines;
- ``since``: only lines at or after this time (epoch seconds);
- ``follow``: after the end, keep polling the file (no inotify: a few reads per second) and
  stream what is appended, until ``still_running()`` says the container has stopped and the
  file is drained. A rotated file (renamed away) is followed into the new one.

Rotation (``rotate``): when a running container's file passes ``max_bytes`` it is renamed to
``<n>.log.<UTC stamp>`` and the runtime reopens the log; the oldest rotated files beyond
``max_files - 1`` are removed. ``read`` without ``tail_lines`` starts with rotated files.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LogLine", "LogOptions", "parse_line", "read", "rotate", "rotated_files", "tail_text"]

_BLOCK = 64 * 1024
_ROTATED = re.compile(r"^(?P<base>.+\.log)\.(?P<stamp>\d{8}-\d{6}(?:\.\d+)?)$")


@dataclass(frozen=True, slots=True)
class LogLine:
    time: str
    stream: str
    partial: bool
    text: bytes


@dataclass(frozen=True, slots=True)
class LogOptions:
    tail_lines: int | None = None
    timestamps: bool = False
    follow: bool = False
    since: float | None = None
    poll_interval: float = 0.2


def parse_line(raw: bytes) -> LogLine | None:
    """One CRI log line (without its trailing newline); None when it is not one."""
    parts = raw.split(b" ", 3)
    if len(parts) < 3:
        return None
    stamp, stream, tag = parts[0], parts[1], parts[2]
    if stream not in (b"stdout", b"stderr") or tag not in (b"F", b"P"):
        return None
    text = parts[3] if len(parts) == 4 else b""
    return LogLine(stamp.decode("ascii", "replace"), stream.decode(), tag == b"P", text)


def _epoch(stamp: str) -> float:
    """RFC 3339 with nanoseconds -> epoch seconds (fraction truncated to microseconds)."""
    text = stamp.rstrip("Zz")
    main, _, frac = text.partition(".")
    try:
        dt = datetime.datetime.fromisoformat(main).replace(tzinfo=datetime.UTC)
    except ValueError:
        return 0.0
    return dt.timestamp() + (float("0." + frac) if frac.isdigit() else 0.0)


def _render(line: LogLine, timestamps: bool) -> bytes:
    out = line.text if line.partial else line.text + b"\n"
    return (line.time.encode() + b" " + out) if timestamps else out


def rotated_files(path: str | Path) -> list[Path]:
    """The rotated files of ``path``, oldest first."""
    p = Path(path)
    try:
        names = os.listdir(p.parent)
    except OSError:
        return []
    found = []
    for n in names:
        m = _ROTATED.match(n)
        if m and m.group("base") == p.name:
            found.append((m.group("stamp"), p.parent / n))
    return [f for _, f in sorted(found)]


def _tail_raw(path: Path, lines: int) -> list[bytes]:
    """The raw CRI lines that make up the last ``lines`` full lines of ``path`` (a line's
    partial pieces come before its full piece, so walking backwards they follow it)."""
    if lines <= 0:
        return []
    buf = b""
    try:
        with open(path, "rb") as f:
            pos = f.seek(0, os.SEEK_END)
            while pos > 0:
                step = min(_BLOCK, pos)
                pos -= step
                f.seek(pos)
                buf = f.read(step) + buf
                whole = buf.split(b"\n")[1:] if pos > 0 else buf.split(b"\n")
                if sum(1 for r in whole if _is_full(r)) > lines:
                    break
    except OSError:
        return []
    raw = buf.split(b"\n")
    if pos > 0:
        raw = raw[1:]  # the first piece may be cut in the middle
    out: list[bytes] = []
    full = 0
    for r in reversed(raw):
        if not r:
            continue
        if _is_full(r):
            if full == lines:
                break
            full += 1
        out.append(r)
    out.reverse()
    return out


def _is_full(raw: bytes) -> bool:
    parts = raw.split(b" ", 3)
    return len(parts) >= 3 and parts[2] == b"F"


def tail_text(path: str | Path, *, lines: int, max_bytes: int) -> str:
    """The last lines of a log as plain text, at most ``max_bytes`` (termination messages)."""
    out = b"".join(_render(ln, False) for r in _tail_raw(Path(path), lines) if (ln := parse_line(r)))
    return out[-max_bytes:].decode("utf-8", "replace")


def _stat(p: Path) -> tuple[int, int]:
    """(inode, size) of ``p``; (0, 0) when it does not exist."""
    try:
        st = p.stat()
    except OSError:
        return 0, 0
    return st.st_ino, st.st_size


def _read_span(p: Path, offset: int, opts: LogOptions, *, final: bool) -> tuple[bytes, int]:
    """Rendered complete lines of ``p`` from ``offset`` (one block at most) and the offset after
    them. With ``final`` a last line without a newline counts too (a file that will not grow)."""
    try:
        with open(p, "rb") as f:
            f.seek(offset)
            data = f.read(_BLOCK)
    except OSError:
        return b"", offset
    if not data:
        return b"", offset
    end = data.rfind(b"\n")
    if end < 0 and not (final and len(data) < _BLOCK):
        return b"", offset
    body = data if end < 0 else data[: end + 1]
    if final and len(data) < _BLOCK:
        body = data
    out = []
    for r in body.split(b"\n"):
        ln = parse_line(r) if r else None
        if ln is not None and (opts.since is None or _epoch(ln.time) >= opts.since):
            out.append(_render(ln, opts.timestamps))
    return b"".join(out), offset + len(body)


async def _read_all(p: Path, offset: int, opts: LogOptions, *, final: bool) -> AsyncIterator[tuple[bytes, int]]:
    while True:
        chunk, nxt = await asyncio.to_thread(_read_span, p, offset, opts, final=final)
        if nxt == offset:
            return
        offset = nxt
        yield chunk, offset


async def read(
    path: str | Path,
    options: LogOptions,
    *,
    still_running: Callable[[], Awaitable[bool]] | None = None,
) -> AsyncIterator[bytes]:
    """The log as chunks of ``kubectl logs`` output."""
    p = Path(path)
    opts = options
    ino, offset = await asyncio.to_thread(_stat, p)
    if opts.tail_lines is not None:
        raw_lines = await asyncio.to_thread(_tail_raw, p, opts.tail_lines)
        chunk = b"".join(_render(ln, opts.timestamps) for r in raw_lines
                         if (ln := parse_line(r)) and (opts.since is None or _epoch(ln.time) >= opts.since))
        if chunk:
            yield chunk
    else:
        for old in await asyncio.to_thread(rotated_files, p):
            async for chunk, _ in _read_all(old, 0, opts, final=True):
                if chunk:
                    yield chunk
        offset = 0
        async for chunk, pos in _read_all(p, 0, opts, final=not opts.follow):
            offset = pos
            if chunk:
                yield chunk
    if not opts.follow:
        return
    idle = 0
    while True:
        now_ino, size = await asyncio.to_thread(_stat, p)
        if now_ino != ino or size < offset:
            ino, offset = now_ino, 0  # rotated: follow the new file from its start
            continue
        if size > offset:
            before = offset
            async for chunk, pos in _read_all(p, offset, opts, final=False):
                offset = pos
                if chunk:
                    yield chunk
            if offset != before:
                idle = 0
                continue
        idle += 1
        if still_running is not None and idle >= 2 and not await still_running():
            async for chunk, _pos in _read_all(p, offset, opts, final=True):
                if chunk:
                    yield chunk
            return
        await asyncio.sleep(opts.poll_interval)


def rotate(path: str | Path, *, max_bytes: int, max_files: int, now: float) -> bool:
    """Rename ``path`` away when it is larger than ``max_bytes``; trim old rotated files.

    Returns whether it was renamed (the caller then asks the runtime to reopen the log)."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError:
        return False
    if size <= max_bytes:
        return False
    stamp = datetime.datetime.fromtimestamp(now, datetime.UTC).strftime("%Y%m%d-%H%M%S.%f")
    os.rename(p, p.with_name(f"{p.name}.{stamp}"))
    old = rotated_files(p)
    for extra in old[: max(0, len(old) - max(0, max_files - 1))]:
        try:
            extra.unlink()
        except OSError:
            pass
    return True
