"""The event loop a long-running process runs on: uvloop when it is installed, else asyncio's.

uvloop (libuv) runs the same asyncio programs with cheaper callbacks and I/O; grpc.aio and
aiohttp work on it. For the store process it cut server CPU per put by about 15%
(tests/perf/store_bench.py). ``loop="asyncio"`` keeps the standard loop (debugging, profiling).

    eventloop.check(name)                # ValueError for a bad name or a missing uvloop
    eventloop.run(main(), loop=name)     # asyncio.run on that loop
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["LOOPS", "check", "run"]

T = TypeVar("T")

LOOPS = ("auto", "uvloop", "asyncio")


def check(loop: str) -> None:
    """Raise ValueError, with a readable message, unless ``loop`` can be run here."""
    if loop not in LOOPS:
        raise ValueError(f"unknown event loop {loop!r}: want {', '.join(LOOPS)}")
    if loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise ValueError("event loop uvloop: the uvloop package is not installed")


def run(main: Coroutine[Any, Any, T], *, loop: str = "auto") -> T:
    """``asyncio.run(main)`` on ``loop``: ``auto`` (uvloop if installed), ``uvloop`` or ``asyncio``."""
    try:
        check(loop)
    except ValueError:
        main.close()
        raise
    if loop != "asyncio":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                return runner.run(main)
    return asyncio.run(main)
