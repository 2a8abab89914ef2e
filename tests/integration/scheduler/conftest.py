"""Fixtures for scheduler integration tests: an admin API client on the in-process apiserver,
hollow nodes, and a running scheduler (cancelled in teardown)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hw.testbed.hollow import HollowCluster
from master.client.informer import SharedInformerFactory
from master.client.rest import ApiClient
from master.scheduler.config import SchedulerConfig
from master.scheduler.scheduler import Scheduler
from tests.integration.scheduler.helpers_sched import FAST_HOLLOW, FAST_INFORMER, FAST_QUEUE, StartScheduler


@pytest.fixture
async def hollow(client: ApiClient) -> AsyncIterator[HollowCluster]:
    async with HollowCluster(client, FAST_HOLLOW) as cluster:
        yield cluster


@pytest.fixture
async def start_scheduler(client: ApiClient) -> AsyncIterator[StartScheduler]:
    """``await start_scheduler(config=...)``: a Scheduler running in a task until the test ends."""
    running: list[tuple[Scheduler, asyncio.Task[None]]] = []

    async def start(config: SchedulerConfig | None = None, **kw: Any) -> Scheduler:
        informers = SharedInformerFactory(client, settings=FAST_INFORMER)
        sched = Scheduler(client, config=config, informers=informers, queue_settings=FAST_QUEUE, **kw)
        task = asyncio.create_task(sched.run())
        running.append((sched, task))
        async with asyncio.timeout(10):
            await sched.pod_informer.wait_synced()
            await sched.node_informer.wait_synced()
        return sched

    yield start
    for sched, task in running:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await sched.informers.stop()

