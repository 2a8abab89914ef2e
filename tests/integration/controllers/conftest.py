"""Fixtures for controller-manager integration tests: the in-process apiserver, an admin client,
hollow nodes, the real scheduler, and controller-managers with short test settings (every task
cancelled in teardown)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hw.testbed.hollow import HollowCluster, HollowSettings
from master.api import apps, core, meta
from master.client.informer import InformerSettings
from master.client.leaderelection import LeaderElectionSettings
from master.client.rest import ApiClient
from master.controllers.manager import ControllerManager, LeaderElection
from master.controllers.settings import ControllerManagerSettings
from master.scheduler.queue import QueueSettings
from master.scheduler.scheduler import Scheduler
from tests.fixtures import waiting
from tests.fixtures.scheduler import running_scheduler

FAST_HOLLOW = HollowSettings(heartbeat_period=0.5, lease_duration=4, status_period=1.0)
FAST_INFORMER = InformerSettings(backoff_initial=0.05, backoff_max=0.5)
FAST_QUEUE = QueueSettings(initial_backoff=0.05, max_backoff=0.2, max_unschedulable=1.0, flush_period=0.5)
FAST = ControllerManagerSettings(
    node_monitor_period=0.5,
    node_monitor_grace_period=3.0,
    node_startup_grace_period=3.0,
    node_eviction_rate=100.0,
    pod_gc_period=1.0,
    orphaned_pod_quarantine=1.0,
    namespace_recheck_period=0.3,
)
FAST_ELECTION = LeaderElectionSettings(lease_duration=3.0, renew_deadline=2.0, retry_period=0.3)
wait_for = waiting.until  # poll an async check until it returns something truthy


@pytest.fixture
async def hollow(client: ApiClient) -> AsyncIterator[HollowCluster]:
    async with HollowCluster(client, FAST_HOLLOW) as cluster:
        yield cluster


@pytest.fixture
async def scheduler(client: ApiClient) -> AsyncIterator[Scheduler]:
    async with running_scheduler(client, informer_settings=FAST_INFORMER, queue_settings=FAST_QUEUE) as sched:
        yield sched


class StartManager:
    """``await start_manager(controllers=("replicaset",), node_monitor_grace_period=2)``: a running
    ControllerManager (no leader election unless ``leader_elect=True``), active on return unless
    ``wait=False``; ``await start_manager.stop(m)`` cancels one (a leader releases its lease)."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self.tasks: dict[int, asyncio.Task[None]] = {}

    async def __call__(self, *, api: ApiClient | None = None, leader_elect: bool = False, wait: bool = True,
                       identity: str = "", **overrides: Any) -> ControllerManager:
        if "controllers" in overrides and isinstance(overrides["controllers"], str):
            overrides["controllers"] = (overrides["controllers"],)
        settings = dataclasses.replace(FAST, **overrides)
        manager = ControllerManager(
            api or self.client, settings,
            leader_election=LeaderElection(enabled=leader_elect, settings=FAST_ELECTION),
            identity=identity, informer_settings=FAST_INFORMER,
        )
        self.tasks[id(manager)] = asyncio.create_task(manager.run())
        if wait:
            async with asyncio.timeout(20):
                await manager.wait_active()
        return manager

    async def stop(self, manager: ControllerManager) -> None:
        task = self.tasks.pop(id(manager), None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def stop_all(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        for task in self.tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()


@pytest.fixture
async def start_manager(client: ApiClient) -> AsyncIterator[StartManager]:
    runner = StartManager(client)
    try:
        yield runner
    finally:
        await runner.stop_all()


def container(image: str = "busybox", **kw: Any) -> core.Container:
    return core.Container(name="c", image=image, **kw)


def template(labels: dict[str, str], image: str = "busybox", **spec: Any) -> core.PodTemplateSpec:
    return core.PodTemplateSpec(
        metadata=meta.ObjectMeta(labels=labels),
        spec=core.PodSpec(containers=[container(image)], **spec),
    )


def deployment(name: str, replicas: int, *, image: str = "busybox", namespace: str = "default",
               **spec: Any) -> apps.Deployment:
    lbls = {"app": name}
    return apps.Deployment(
        metadata=meta.ObjectMeta(name=name, namespace=namespace),
        spec=apps.DeploymentSpec(
            replicas=replicas, selector=meta.LabelSelector(match_labels=lbls),
            template=template(lbls, image), **spec,
        ),
    )


async def pods_of(client: ApiClient, selector: str, namespace: str = "default") -> list[core.Pod]:
    return (await client.list(core.Pod, namespace=namespace, label_selector=selector)).items
