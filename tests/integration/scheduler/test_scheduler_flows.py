"""Failure paths of a running scheduler: a failed binding is forgotten and retried; a pod bound
by someone else meanwhile ends up counted on that node."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hw.testbed.hollow import HollowCluster
from master.api import core
from master.client.rest import ApiClient
from master.scheduler.framework import status
from master.scheduler.framework.interface import CycleState
from master.scheduler.framework.status import Status
from master.scheduler.framework.types import PodInfo
from master.scheduler.plugins import IN_TREE
from master.scheduler.plugins.default_binder import DefaultBinder
from tests.integration.scheduler.helpers_sched import StartScheduler, bound, pod, wait_for


class FlakyBinder(DefaultBinder):
    """Fails the first binding of every pod, then binds as DefaultBinder does."""

    name = "DefaultBinder"
    seen: set[str] = set()

    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        if pod.key not in self.seen:
            self.seen.add(pod.key)
            return status.error("injected failure")
        return await super().bind(state, pod, node_name)


class Usurper(DefaultBinder):
    """Binds the pod to "other" behind the scheduler's back, then tries its own binding (409)."""

    name = "DefaultBinder"

    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        await self._handle.api.bind(pod.name, "other", namespace=pod.namespace)
        return await super().bind(state, pod, node_name)


def registry(cls: type[DefaultBinder]) -> dict[str, Any]:
    def new(args: Mapping[str, Any], handle: Any) -> DefaultBinder:
        return cls(handle)

    return {**IN_TREE, "DefaultBinder": new}


async def test_failed_binding_is_retried(client: ApiClient, hollow: HollowCluster, start_scheduler: StartScheduler) -> None:
    await hollow.add_node("n1", cpu="1")
    FlakyBinder.seen = set()
    sched = await start_scheduler(registry=registry(FlakyBinder))
    await client.create(pod("p", cpu="600m"))
    assert await bound(client, "p") == {"p": "n1"}

    async def failed_event() -> list[str]:
        evs = await client.list(core.Event, namespace="default")
        return [e.message for e in evs.items if e.reason == "FailedScheduling" and e.involved_object.name == "p"]

    assert await wait_for(failed_event) == ["injected failure"]
    info = sched.cache.node_info("n1")
    assert info is not None
    await wait_for(lambda: _true(not sched.cache.is_assumed("default/p")))
    assert info.requested.milli_cpu == 600, "counted once: the failed attempt was forgotten"


async def test_pod_bound_elsewhere_meanwhile(client: ApiClient, hollow: HollowCluster,
                                             start_scheduler: StartScheduler) -> None:
    await hollow.add_node("mine", cpu="1")
    await hollow.add_node("other", cpu="1", unschedulable=True)
    sched = await start_scheduler(registry=registry(Usurper))
    await client.create(pod("p", cpu="600m"))
    assert await bound(client, "p") == {"p": "other"}
    await wait_for(lambda: _true(sched.cache.pod_node("default/p") == "other"))
    mine = sched.cache.node_info("mine")
    assert mine is not None and mine.requested.milli_cpu == 0


async def _true(value: bool) -> bool:
    return value
