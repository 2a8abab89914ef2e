"""Waiting for objects to change: a watch on one object, and a progress line on a terminal.

``follow(rest, res, ns, name)`` yields the object's successive states (the current one first,
then each change) and finally None once it is gone; a watch that ends or expires (410) is
reopened from a fresh read, so a long wait survives server restarts and compaction::

    async for obj in waiting.follow(s.rest, res, ns, "web"):
        if obj is None or done(obj):
            break

``Progress`` shows "waiting for ... (12s)" on stderr while a long wait runs, and nothing when
stderr is not a terminal (scripts and tests see only kubectl's lines).
"""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

from master.api import registry
from master.cli.kube.rest import Rest
from master.client import errors

__all__ = ["Progress", "follow"]

# Server-side bound of one watch request; the loop reopens it.
WATCH_SECONDS = 300


async def follow(rest: Rest, res: registry.Resource, namespace: str, name: str) -> AsyncIterator[dict[str, Any] | None]:
    """The object now, then after every change; None (and the end) when it does not exist."""
    selector = f"metadata.name={name}"
    while True:
        try:
            obj = await rest.get(res, name, namespace)
        except errors.NotFound:
            yield None
            return
        yield obj
        rv = str((obj.get("metadata") or {}).get("resourceVersion", ""))
        try:
            async for kind, changed in rest.watch(
                res, namespace, resource_version=rv, field_selector=selector, timeout_seconds=WATCH_SECONDS
            ):
                if kind == "DELETED":
                    yield None
                    return
                if kind in ("ADDED", "MODIFIED"):
                    yield changed
        except errors.Gone:
            continue


class Progress:
    """A transient status line on stderr (a terminal only) with the seconds waited so far."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.start = time.monotonic()
        self._status: Any = None
        if _stderr_is_terminal():
            from rich.console import Console
            from rich.status import Status

            self._status = Status(self, console=Console(file=sys.stderr, highlight=False))

    def __rich__(self) -> str:
        # Rendered on every refresh of the spinner, so the seconds count up on their own.
        return f"{self.message} ({time.monotonic() - self.start:.0f}s)"

    def update(self, message: str) -> None:
        self.message = message

    def __enter__(self) -> Progress:
        if self._status is not None:
            self._status.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._status is not None:
            self._status.stop()


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
