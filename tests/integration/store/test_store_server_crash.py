"""Crash safety of ``pictl store`` (sqlite): concurrent writers, kill -9 at a random moment,
restart, and every acknowledged write is there and revisions never go back. Five cycles."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import pytest

from master.store import errors
from master.store.grpcclient import GrpcClient, GrpcClientSettings
from master.store.types import Compare, CompareResult, CompareTarget, OpPut, prefix_end
from tests.fixtures.store_process import StoreProcess

pytestmark = [pytest.mark.slow]

CYCLES = 5
WRITERS = 16
PREFIX = b"/crash/"


@dataclass
class Acked:
    # key -> (value, mod_revision) for every write whose reply arrived.
    writes: dict[bytes, tuple[bytes, int]] = field(default_factory=dict)
    max_revision: int = 0
    # Set once ``goal`` writes have been acknowledged.
    goal: int = 0
    reached: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, key: bytes, value: bytes, revision: int) -> None:
        self.writes[key] = (value, revision)
        self.max_revision = max(self.max_revision, revision)
        if len(self.writes) >= self.goal:
            self.reached.set()

    async def wait_for_more(self, n: int) -> None:
        self.goal = len(self.writes) + n
        self.reached.clear()
        await asyncio.wait_for(self.reached.wait(), 60)


async def _writer(client: GrpcClient, cycle: int, n: int, acked: Acked, stop: asyncio.Event) -> None:
    """Unique keys, so each key is written once: half plain puts, half create-only txns."""
    seq = 0
    while not stop.is_set():
        key = PREFIX + f"c{cycle}/w{n:02d}/{seq:06d}".encode()
        value = f"{cycle}:{n}:{seq}".encode()
        try:
            if seq % 2:
                resp = await client.put(key, value)
                acked.add(key, value, resp.header.revision)
            else:
                txn = await client.txn(
                    [Compare(key, CompareTarget.CREATE, CompareResult.EQUAL, 0)], [OpPut(key, value)]
                )
                assert txn.succeeded
                acked.add(key, value, txn.header.revision)
        except errors.StoreError:
            return  # the store is gone; this write's outcome is unknown, so it is not counted
        seq += 1


async def _verify(client: GrpcClient, acked: Acked, revision_before: int) -> int:
    resp = await client.range(PREFIX, prefix_end(PREFIX))
    now = resp.header.revision
    assert now >= acked.max_revision, f"revision went back: {now} < acknowledged {acked.max_revision}"
    assert now >= revision_before, f"revision went back: {now} < {revision_before} seen before the crash"
    stored = {kv.key: (kv.value, kv.mod_revision) for kv in resp.kvs}
    missing = [k for k in acked.writes if k not in stored]
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:3]}"
    wrong = [k for k, v in acked.writes.items() if stored[k] != v]
    assert not wrong, f"acknowledged writes changed: {[(k, acked.writes[k], stored[k]) for k in wrong[:3]]}"
    # A new write continues after every revision ever acknowledged.
    put = await client.put(b"/crash-probe", str(now).encode())
    assert put.header.revision > max(now, acked.max_revision)
    return put.header.revision


async def test_acknowledged_writes_survive_kill_9(store_process: StoreProcess) -> None:
    rng = random.Random(20260)
    acked = Acked()
    revision = 0
    settings = GrpcClientSettings(timeout=3.0)
    for cycle in range(CYCLES):
        async with GrpcClient([store_process.endpoint], settings) as client:
            stop = asyncio.Event()
            writers = [asyncio.create_task(_writer(client, cycle, n, acked, stop)) for n in range(WRITERS)]
            # Let some writes land, then crash the store while writers are mid-flight.
            await acked.wait_for_more(50)
            await asyncio.sleep(rng.uniform(0.0, 0.5))
            await asyncio.to_thread(store_process.kill)
            stop.set()
            await asyncio.wait_for(asyncio.gather(*writers), 30)
        await asyncio.to_thread(store_process.restart)
        async with GrpcClient([store_process.endpoint], settings) as client:
            revision = await _verify(client, acked, revision)
    assert len(acked.writes) > CYCLES * 50
