"""Fixtures for scheduler integration tests: an admin API client on the in-process apiserver,
hollow nodes, and a running scheduler (cancelled in teardown)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from hw.testbed.hollow import HollowCluster, HollowSettings
from master.api import core, meta
from master.client import kubeconfig
from master.client.informer import InformerSettings, SharedInformerFactory
from master.client.rest import ApiClient
from master.scheduler.config import SchedulerConfig
from master.scheduler.queue import QueueSettings
from master.scheduler.scheduler import Scheduler
from tests.fixtures.apiserver import Api

FAST_HOLLOW = HollowSettings(heartbeat_period=1.0, lease_duration=5, status_period=0)
FAST_QUEUE = QueueSettings(initial_backoff=0.05, max_backoff=0.2, max_unschedulable=2.0, flush_period=0.5)
FAST_INFORMER = InformerSettings(backoff_initial=0.05, backoff_max=0.5)


@pytest.fixture
async def client(apiserver: Api) -> AsyncIterator[ApiClient]:
    config = kubeconfig.load_client_config(str(apiserver.data_dir / "admin.kubeconfig"))
    async with ApiClient(config) as api:
        yield api


@pytest.fixture
async def hollow(client: ApiClient) -> AsyncIterator[HollowCluster]:
    async with HollowCluster(client, FAST_HOLLOW) as cluster:
        yield cluster


StartScheduler = Callable[..., Awaitable[Scheduler]]


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


def pod(
    name: str,
    *,
    cpu: str = "",
    memory: str = "",
    labels: dict[str, str] | None = None,
    scheduler_name: str = "",
    **spec: Any,
) -> core.Pod:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    container = core.Container(
        name="c", image=spec.pop("image", "busybox"),
        resources=core.ResourceRequirements(requests=requests),
        ports=spec.pop("ports", []),
    )
    return core.Pod(
        metadata=meta.ObjectMeta(name=name, namespace="default", labels=labels or {}),
        spec=core.PodSpec(containers=[container], scheduler_name=scheduler_name, **spec),
    )


async def wait_for(cond: Callable[[], Awaitable[Any]], within: float = 20.0) -> Any:
    """Poll an async condition until it returns something truthy (generous deadline)."""
    async with asyncio.timeout(within):
        while True:
            value = await cond()
            if value:
                return value
            await asyncio.sleep(0.05)


async def node_of(client: ApiClient, name: str) -> str:
    return (await client.get(core.Pod, name)).spec.node_name


async def bound(client: ApiClient, *names: str, within: float = 20.0) -> dict[str, str]:
    """Wait until every pod is bound; {pod: node}."""

    async def check() -> dict[str, str] | None:
        out = {n: await node_of(client, n) for n in names}
        return out if all(out.values()) else None

    return await wait_for(check, within)
