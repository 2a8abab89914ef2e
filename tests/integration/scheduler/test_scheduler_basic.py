"""The scheduler against the real apiserver with hollow nodes: binding, events, conditions."""

from __future__ import annotations

from hw.testbed.hollow import HollowCluster
from master.api import core
from master.client.rest import ApiClient
from tests.integration.scheduler.helpers_sched import StartScheduler, bound, pod, wait_for


async def test_schedules_and_records_events(client: ApiClient, hollow: HollowCluster, start_scheduler: StartScheduler) -> None:
    await hollow.add_nodes(3)
    sched = await start_scheduler()
    for i in range(6):
        await client.create(pod(f"p{i}", cpu="100m"))
    placed = await bound(client, *(f"p{i}" for i in range(6)))
    assert set(placed.values()) <= {"hollow-0", "hollow-1", "hollow-2"}
    assert sched.scheduled == 6

    async def scheduled_event() -> list[core.Event]:
        evs = await client.list(core.Event, namespace="default")
        return [e for e in evs.items if e.reason == "Scheduled" and e.involved_object.name == "p0"]

    ev = (await wait_for(scheduled_event))[0]
    assert ev.message == f"Successfully assigned default/p0 to {placed['p0']}"
    assert ev.source.component == "default-scheduler"
