"""Helpers for scheduler integration tests: pods to create and polling for outcomes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from hw.testbed.hollow import HollowSettings
from master.api import core, meta
from master.client.informer import InformerSettings
from master.client.rest import ApiClient
from master.scheduler.queue import QueueSettings
from master.scheduler.scheduler import Scheduler
from tests.fixtures import waiting

FAST_HOLLOW = HollowSettings(heartbeat_period=1.0, lease_duration=5, status_period=0)
FAST_QUEUE = QueueSettings(initial_backoff=0.05, max_backoff=0.2, max_unschedulable=2.0, flush_period=0.5)
FAST_INFORMER = InformerSettings(backoff_initial=0.05, backoff_max=0.5)
wait_for = waiting.until  # poll an async check until it returns something truthy

StartScheduler = Callable[..., Awaitable[Scheduler]]


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


async def node_of(client: ApiClient, name: str) -> str:
    return (await client.get(core.Pod, name)).spec.node_name


async def bound(client: ApiClient, *names: str, within: float = 20.0) -> dict[str, str]:
    """Wait until every pod is bound; {pod: node}."""

    async def check() -> dict[str, str] | None:
        out = {n: await node_of(client, n) for n in names}
        return out if all(out.values()) else None

    return await wait_for(check, within)
