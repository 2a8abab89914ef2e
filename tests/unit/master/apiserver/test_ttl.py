"""Events expire --event-ttl after their last write; other objects never do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from master.apiserver.storage import ResourceStorage
from master.apiserver.ttl import ExpiringLeases
from master.store.local import LocalClient
from master.store.settings import StoreSettings
from master.util.clock import FakeClock

TTL = 100.0  # the lease reuse window is 5% of it: 5 s


@pytest.fixture
async def store() -> AsyncIterator[tuple[LocalClient, FakeClock]]:
    clock = FakeClock()
    client = await LocalClient.open(StoreSettings(backend="memory", clock=clock))
    try:
        yield client, clock
    finally:
        await client.close()


def event(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": "ns"},
            "involvedObject": {"kind": "Pod", "name": "p", "namespace": "ns"}, "reason": "Scheduled"}


async def _lease_of(client: LocalClient, key: bytes) -> int:
    resp = await client.range(key)
    return resp.kvs[0].lease if resp.kvs else -1


async def test_one_lease_per_reuse_window(store: tuple[LocalClient, FakeClock]) -> None:
    client, clock = store
    leases = ExpiringLeases(client, ttl=TTL, clock=clock)
    first = await leases.lease()
    await clock.advance(4.9)
    assert await leases.lease() == first
    await clock.advance(0.2)
    second = await leases.lease()
    assert second != first
    ttl = await client.lease_time_to_live(second)
    assert ttl.granted_ttl == 105
    leases.forget(first)  # not the current one: nothing changes
    assert await leases.lease() == second
    leases.forget(second)
    assert await leases.lease() not in (first, second)


async def test_concurrent_writers_share_one_grant(store: tuple[LocalClient, FakeClock]) -> None:
    client, clock = store
    leases = ExpiringLeases(client, ttl=TTL, clock=clock)
    got = await asyncio.gather(*(leases.lease() for _ in range(10)))
    assert len(set(got)) == 1 and len(await client.lease_leases()) == 1


async def test_writes_expire_after_the_ttl(store: tuple[LocalClient, FakeClock]) -> None:
    client, clock = store
    events = ResourceStorage(client, resource="events", namespaced=True,
                             leases=ExpiringLeases(client, ttl=TTL, clock=clock))
    configmaps = ResourceStorage(client, resource="configmaps", namespaced=True)
    created = await events.create("ns", "e", event("e"))
    await configmaps.create("ns", "c", {"metadata": {"name": "c", "namespace": "ns"}})
    assert await _lease_of(client, configmaps.key("ns", "c")) == 0
    await clock.advance(50)
    # An update moves the event onto the current lease: it lives a ttl from now.
    await events.update("ns", "e", {**created, "count": 2}, expected_rv=int(created["metadata"]["resourceVersion"]))
    await clock.advance(TTL)
    assert await _lease_of(client, events.key("ns", "e")) > 0
    await clock.advance(10)
    for _ in range(100):
        if await _lease_of(client, events.key("ns", "e")) == -1:
            break
        await clock.advance(1)
    assert await _lease_of(client, events.key("ns", "e")) == -1
    assert await _lease_of(client, configmaps.key("ns", "c")) == 0


async def test_a_lost_lease_is_granted_again(store: tuple[LocalClient, FakeClock]) -> None:
    client, clock = store
    leases = ExpiringLeases(client, ttl=TTL, clock=clock)
    events = ResourceStorage(client, resource="events", namespaced=True, leases=leases)
    lost = await leases.lease()
    await client.lease_revoke(lost)
    await events.create("ns", "e", event("e"))
    assert await _lease_of(client, events.key("ns", "e")) not in (0, lost)


async def test_the_apiserver_attaches_events_only(tmp_path: Path) -> None:
    from tests.fixtures.apiserver import running_apiserver

    async with running_apiserver(tmp_path) as api:
        code, _ = await api.post("/api/v1/namespaces/default/events", json={
            **event("e"), "metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "p"}})
        assert code == 201
        code, _ = await api.post("/api/v1/namespaces/default/configmaps",
                                 json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
        assert code == 201
        client = api.server.client
        assert await _lease_of(client, b"/registry/events/default/e") > 0
        assert await _lease_of(client, b"/registry/configmaps/default/c") == 0
        ttl = await client.lease_time_to_live(await _lease_of(client, b"/registry/events/default/e"))
        assert ttl.granted_ttl == 3600 + 60
