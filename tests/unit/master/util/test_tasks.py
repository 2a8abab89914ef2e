"""master.util.tasks.cancel_and_wait."""

from __future__ import annotations

import asyncio

import pytest

from master.util.tasks import cancel_and_wait


async def test_cancels_all_and_waits_for_their_cleanup() -> None:
    cleaned: list[int] = []

    async def worker(i: int) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # clean-up that itself awaits
            cleaned.append(i)

    tasks = [asyncio.create_task(worker(i)) for i in range(3)]
    await asyncio.sleep(0)
    await cancel_and_wait(tasks)
    assert sorted(cleaned) == [0, 1, 2]
    assert all(t.cancelled() for t in tasks)


async def test_finished_and_empty() -> None:
    done = asyncio.create_task(asyncio.sleep(0, "x"))
    await done
    await cancel_and_wait([done])
    await cancel_and_wait([])


async def test_a_failed_task_raises_unless_ignored() -> None:
    async def boom() -> None:
        raise RuntimeError("boom")

    failed = asyncio.create_task(boom())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="boom"):
        await cancel_and_wait([failed])
    await cancel_and_wait([failed], ignore_errors=True)
