"""Ending asyncio tasks a component started: cancel them all first (so none waits on another
that is still running), then wait for each, so nothing of theirs runs after the caller returns.

    await cancel_and_wait(self._tasks)                       # their CancelledError is swallowed
    await cancel_and_wait(self._tasks, ignore_errors=True)   # on stop: so is any failure
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

__all__ = ["cancel_and_wait"]


async def cancel_and_wait(tasks: Iterable[asyncio.Future[Any]], *, ignore_errors: bool = False) -> None:
    tasks = list(tasks)
    for t in tasks:
        t.cancel()
    ignored: tuple[type[BaseException], ...] = (
        (asyncio.CancelledError, Exception) if ignore_errors else (asyncio.CancelledError,)
    )
    for t in tasks:
        with contextlib.suppress(*ignored):
            await t
