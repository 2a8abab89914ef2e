"""master.util.eventloop: which loop runs, and clear errors for loops that cannot."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from master.util import eventloop

HAVE_UVLOOP = importlib.util.find_spec("uvloop") is not None


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_asyncio_loop() -> None:
    assert eventloop.run(_loop_module(), loop="asyncio").startswith("asyncio")


@pytest.mark.skipif(not HAVE_UVLOOP, reason="uvloop is not installed")
@pytest.mark.parametrize("loop", ["auto", "uvloop"])
def test_uvloop_when_installed(loop: str) -> None:
    assert eventloop.run(_loop_module(), loop=loop).startswith("uvloop")


def test_unknown_loop_is_refused_and_the_coroutine_closed() -> None:
    coro = _loop_module()
    with pytest.raises(ValueError, match="unknown event loop 'tokio'"):
        eventloop.run(coro, loop="tokio")
    assert coro.cr_frame is None  # closed: no "never awaited" warning


def test_missing_uvloop_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ValueError, match="uvloop package is not installed"):
        eventloop.check("uvloop")
    eventloop.check("auto")  # auto falls back instead
