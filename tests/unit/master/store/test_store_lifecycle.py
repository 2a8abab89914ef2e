"""Store lifecycle and failure modes; LocalClient bookkeeping; lease edge cases on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from master.store.backend import Batch
from master.store.errors import LeaseTTLTooLargeError, StoreError, UnavailableError
from master.store.local import LocalClient
from master.store.settings import StoreSettings
from master.store.store import Store
from master.store.types import OpPut, OpRange
from master.util.clock import FakeClock


def memory(clock: FakeClock | None = None) -> StoreSettings:
    return StoreSettings(backend="memory", clock=clock or FakeClock())


async def test_requests_on_a_closed_store_fail_cleanly() -> None:
    store = Store(memory())
    with pytest.raises(UnavailableError):
        store.range(OpRange(b"a"))
    await store.open()
    await store.close()
    await store.close()  # twice is fine
    with pytest.raises(UnavailableError):
        await store.put(OpPut(b"a", b"1"))


async def test_a_failed_write_stops_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    async with Store(memory()) as store:
        await store.put(OpPut(b"a", b"1"))

        def broken(batch: Batch) -> asyncio.Future[None]:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            fut.set_exception(StoreError("store: disk full"))
            return fut

        monkeypatch.setattr(store.backend, "submit", broken)
        with pytest.raises(UnavailableError, match="disk full"):
            await store.put(OpPut(b"a", b"2"))
        # Memory is now ahead of disk: everything is refused until the store is reopened.
        with pytest.raises(UnavailableError, match="reopen"):
            store.range(OpRange(b"a"))


async def test_local_client_close_ends_its_watches() -> None:
    client = await LocalClient.open(memory())
    stream = client.watch(b"a")

    async def consume() -> list[int]:
        return [resp.header.revision async for resp in stream]

    task = asyncio.create_task(consume())
    await client.put(b"a", b"1")
    await client.close()
    assert await asyncio.wait_for(task, 5) == [2]
    await client.close()
    with pytest.raises(UnavailableError):
        await client.range(b"a")


async def test_local_client_shares_a_store() -> None:
    async with Store(memory()) as store:
        a, b = LocalClient(store), LocalClient(store)
        await a.put(b"k", b"v")
        assert (await b.range(b"k")).kvs[0].value == b"v"
        await a.close()
        assert (await b.range(b"k")).count == 1  # not the owner: the store stays open
        assert (await b.status()).version
        assert (await b.member_list())[0].name == "default"


async def test_lease_edge_cases() -> None:
    clock = FakeClock()
    async with Store(memory(clock=clock)) as store:
        with pytest.raises(LeaseTTLTooLargeError):
            await store.lease_grant(9_000_000_001)
        lease = await store.lease_grant(5)
        await clock.advance(4.5)
        assert store.lease_keep_alive(lease.id).ttl == 5
        await clock.advance(4.5)
        assert store.lease_time_to_live(lease.id).ttl == 0  # truncated, as etcd does
        await clock.advance(1)
        # Expired: gone for keep-alive and time-to-live even before the revoke lands.
        assert store.lease_keep_alive(lease.id).ttl == 0
        assert store.lease_time_to_live(lease.id).ttl == -1
