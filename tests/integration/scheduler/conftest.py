"""Fixtures for scheduler integration tests: an admin API client on the in-process apiserver,
hollow nodes, and a running scheduler (cancelled in teardown)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hw.testbed.hollow import HollowCluster
from master.client.rest import ApiClient
from master.scheduler.config import SchedulerConfig
from master.scheduler.scheduler import Scheduler
from tests.fixtures.scheduler import running_scheduler
from tests.integration.scheduler.helpers_sched import FAST_HOLLOW, FAST_INFORMER, FAST_QUEUE, StartScheduler


@pytest.fixture
async def hollow(client: ApiClient) -> AsyncIterator[HollowCluster]:
    async with HollowCluster(client, FAST_HOLLOW) as cluster:
        yield cluster


@pytest.fixture
async def start_scheduler(client: ApiClient) -> AsyncIterator[StartScheduler]:
    """``await start_scheduler(config=...)``: a Scheduler running in a task until the test ends."""
    async with contextlib.AsyncExitStack() as running:

        async def start(config: SchedulerConfig | None = None, **kw: Any) -> Scheduler:
            return await running.enter_async_context(running_scheduler(
                client, informer_settings=FAST_INFORMER, queue_settings=FAST_QUEUE, config=config, **kw))

        yield start

