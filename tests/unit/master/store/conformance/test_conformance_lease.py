"""Leases: grant, revoke, keep-alive, time-to-live, list, and expiry deleting attached keys."""

from __future__ import annotations

import pytest

from master.store.client import Client
from master.store.errors import LeaseExistsError, LeaseNotFoundError
from master.store.types import EventType, OpPut, prefix_end
from tests.fixtures.store_targets import Target, watching


async def test_grant_list_time_to_live_revoke(client: Client) -> None:
    granted = await client.lease_grant(60)
    assert granted.id > 0 and granted.ttl == 60
    assert granted.id in {lease.id for lease in await client.lease_leases()}
    ttl = await client.lease_time_to_live(granted.id)
    assert ttl.granted_ttl == 60 and 0 < ttl.ttl <= 60 and ttl.keys == ()
    await client.lease_revoke(granted.id)
    assert granted.id not in {lease.id for lease in await client.lease_leases()}
    gone = await client.lease_time_to_live(granted.id)
    assert gone.ttl == -1


async def test_requested_id_and_duplicates(client: Client) -> None:
    granted = await client.lease_grant(30, lease_id=0x1234)
    assert granted.id == 0x1234
    with pytest.raises(LeaseExistsError):
        await client.lease_grant(30, lease_id=0x1234)
    await client.lease_revoke(0x1234)


async def test_minimum_ttl(client: Client) -> None:
    granted = await client.lease_grant(1)
    assert granted.ttl == 2  # etcd's minimum with default election timeouts
    await client.lease_revoke(granted.id)


async def test_unknown_lease(client: Client) -> None:
    with pytest.raises(LeaseNotFoundError):
        await client.lease_revoke(0x0DD)
    with pytest.raises(LeaseNotFoundError):
        await client.put(b"a", b"1", lease=0x0DD)
    assert (await client.lease_keep_alive_once(0x0DD)).ttl <= 0
    assert (await client.lease_time_to_live(0x0DD)).ttl == -1


async def test_keys_attach_and_detach(client: Client) -> None:
    lease = await client.lease_grant(60)
    await client.put(b"a", b"1", lease=lease.id)
    await client.put(b"b", b"1", lease=lease.id)
    await client.put(b"c", b"1", lease=lease.id)
    await client.put(b"b", b"2")  # a put without the lease detaches b
    await client.delete_range(b"c")  # so does a delete
    ttl = await client.lease_time_to_live(lease.id, keys=True)
    assert ttl.keys == (b"a",)
    assert (await client.range(b"a")).kvs[0].lease == lease.id
    await client.lease_revoke(lease.id)


async def test_revoke_deletes_keys_in_one_revision(target: Target, client: Client) -> None:
    lease = await client.lease_grant(60)
    await client.txn([], [OpPut(b"l/b", b"1", lease=lease.id), OpPut(b"l/a", b"1", lease=lease.id)])
    await client.put(b"l/keep", b"1")
    r0 = await target.revision()
    async with watching(client, b"l/", prefix_end(b"l/"), start_revision=r0 + 1) as w:
        await client.lease_revoke(lease.id)
        events = await w.events_n(2)
    assert [(ev.type, ev.kv.key, ev.kv.mod_revision) for ev in events] == [
        (EventType.DELETE, b"l/a", r0 + 1),
        (EventType.DELETE, b"l/b", r0 + 1),
    ]
    assert await target.revision() == r0 + 1
    assert [kv.key for kv in (await client.range(b"l/", prefix_end(b"l/"))).kvs] == [b"l/keep"]


async def test_revoke_without_keys_keeps_the_revision(target: Target, client: Client) -> None:
    lease = await client.lease_grant(60)
    r0 = await target.revision()
    await client.lease_revoke(lease.id)
    assert await target.revision() == r0


async def test_keep_alive(target: Target, client: Client) -> None:
    lease = await client.lease_grant(10)
    await target.advance(3)
    before = await client.lease_time_to_live(lease.id)
    assert before.ttl <= 8
    renewed = await client.lease_keep_alive_once(lease.id)
    assert (renewed.id, renewed.ttl) == (lease.id, 10)
    after = await client.lease_time_to_live(lease.id)
    assert after.ttl >= 9
    await client.lease_revoke(lease.id)


async def test_expiry_deletes_attached_keys(target: Target, client: Client) -> None:
    lease = await client.lease_grant(2)
    await client.put(b"e/a", b"1", lease=lease.id)
    await client.put(b"e/b", b"1", lease=lease.id)
    await client.put(b"e/keep", b"1")
    r0 = await target.revision()
    async with watching(client, b"e/", prefix_end(b"e/"), start_revision=r0 + 1) as w:

        async def expired() -> bool:
            return (await client.lease_time_to_live(lease.id)).ttl == -1 and (
                await client.range(b"e/", prefix_end(b"e/"))
            ).count == 1

        await target.eventually(expired)
        events = await w.events_n(2)
    assert [(ev.type, ev.kv.key) for ev in events] == [(EventType.DELETE, b"e/a"), (EventType.DELETE, b"e/b")]
    assert events[0].kv.mod_revision == events[1].kv.mod_revision == r0 + 1
    assert lease.id not in {lease.id for lease in await client.lease_leases()}
    assert (await client.lease_keep_alive_once(lease.id)).ttl <= 0
