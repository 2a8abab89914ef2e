"""Leader election with a FakeClock against an in-memory Lease store (a test double), plus one
hand-over through the HTTP fake apiserver."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

from master.api import codec, coordination
from master.client import errors
from master.client.config import ClientConfig
from master.client.leaderelection import LeaderElectionSettings, LeaderElector
from master.client.rest import ApiClient
from master.util.clock import FakeClock
from tests.fixtures.fake_apiserver import FakeApiServer
from tests.fixtures.waiting import eventually


class FakeLeases:
    """get/create/update of Leases with resourceVersion conflicts; ``down`` makes every call fail."""

    def __init__(self) -> None:
        self.leases: dict[tuple[str, str], coordination.Lease] = {}
        self.rv = 0
        self.down: set[str] = set()  # identities whose requests fail (a partitioned node)
        self.caller = ""
        self.updates = 0

    def _check(self, identity: str) -> None:
        if identity in self.down:
            raise errors.ConnectionError("The connection to the server x was refused")

    def client(self, identity: str) -> ApiClient:
        return cast(ApiClient, _Client(self, identity))


class _Client:
    def __init__(self, store: FakeLeases, identity: str) -> None:
        self.store = store
        self.identity = identity

    async def get(self, cls: Any, name: str, *, namespace: str | None = None) -> coordination.Lease:
        await asyncio.sleep(0)
        self.store._check(self.identity)
        lease = self.store.leases.get((namespace or "", name))
        if lease is None:
            raise errors.NotFound(f'leases "{name}" not found', code=404)
        return codec.clone(lease)

    async def create(self, obj: coordination.Lease) -> coordination.Lease:
        await asyncio.sleep(0)
        self.store._check(self.identity)
        key = (obj.metadata.namespace, obj.metadata.name)
        if key in self.store.leases:
            raise errors.AlreadyExists("exists", code=409)
        self.store.rv += 1
        stored = codec.clone(obj)
        stored.metadata.resource_version = str(self.store.rv)
        self.store.leases[key] = stored
        return codec.clone(stored)

    async def update(self, obj: coordination.Lease) -> coordination.Lease:
        await asyncio.sleep(0)
        self.store._check(self.identity)
        key = (obj.metadata.namespace, obj.metadata.name)
        current = self.store.leases[key]
        if obj.metadata.resource_version != current.metadata.resource_version:
            raise errors.Conflict("the object has been modified", code=409)
        self.store.rv += 1
        stored = codec.clone(obj)
        stored.metadata.resource_version = str(self.store.rv)
        self.store.leases[key] = stored
        self.store.updates += 1
        return codec.clone(stored)


async def settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0)


class Candidate:
    def __init__(self, store: FakeLeases, clock: FakeClock, identity: str, **kw: Any) -> None:
        self.log: list[str] = []
        self.working = False

        async def work() -> None:
            self.working = True
            try:
                await asyncio.Event().wait()
            finally:
                self.working = False

        self.elector = LeaderElector(
            store.client(identity),
            name="ctl",
            namespace="kube-system",
            identity=identity,
            clock=clock,
            on_started_leading=work,
            on_stopped_leading=lambda: self.log.append("stopped"),
            on_new_leader=lambda who: self.log.append(f"leader={who}"),
            **kw,
        )
        self.task: asyncio.Task[None] = asyncio.create_task(self.elector.run())

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@pytest.fixture
async def world() -> AsyncIterator[tuple[FakeLeases, FakeClock, list[Candidate]]]:
    store, clock, candidates = FakeLeases(), FakeClock(), []
    yield store, clock, candidates
    for c in candidates:
        await c.stop()


def lease(store: FakeLeases) -> coordination.LeaseSpec:
    return store.leases[("kube-system", "ctl")].spec


async def test_exactly_one_leader_and_handover_on_release(world: Any) -> None:
    store, clock, cands = world
    a = Candidate(store, clock, "a")
    cands.append(a)
    await settle()
    assert a.elector.is_leader() and a.working
    spec = lease(store)
    assert (spec.holder_identity, spec.lease_duration_seconds, spec.lease_transitions) == ("a", 15, 0)
    assert spec.acquire_time == spec.renew_time
    b = Candidate(store, clock, "b")
    cands.append(b)
    for _ in range(20):  # 40 s: a renews every 2 s, b never gets in
        await clock.advance(2)
        await settle()
        assert a.elector.is_leader() and not b.elector.is_leader()
    assert lease(store).acquire_time == spec.acquire_time and lease(store).renew_time != spec.renew_time
    assert b.elector.leader == "a" and b.log == ["leader=a"]

    await a.stop()  # clean shutdown releases the lease
    assert a.log == ["leader=a", "stopped"] and not a.working
    released = lease(store)
    assert (released.holder_identity, released.lease_duration_seconds) == (None, 1)
    await clock.advance(2)
    await settle()
    assert b.elector.is_leader() and b.working
    assert lease(store).holder_identity == "b" and lease(store).lease_transitions == 1


async def test_handover_on_expiry(world: Any) -> None:
    store, clock, cands = world
    a = Candidate(store, clock, "a", settings=LeaderElectionSettings(release_on_cancel=False))
    b = Candidate(store, clock, "b")
    cands.extend([a, b])
    await settle()
    assert a.elector.is_leader() and not b.elector.is_leader()
    await a.stop()  # a crash: no release
    assert lease(store).holder_identity == "a"
    for _ in range(7):  # 14 s: the lease (15 s from when b last saw it change) has not expired
        await clock.advance(2)
        await settle()
        assert not b.elector.is_leader()
    for _ in range(2):  # b first saw the lease at its first or second try (0 s or 2 s)
        await clock.advance(2)
        await settle()
    assert b.elector.is_leader()
    assert lease(store).lease_transitions == 1


async def test_leader_steps_down_when_it_cannot_renew(world: Any) -> None:
    store, clock, cands = world
    a = Candidate(store, clock, "a")
    b = Candidate(store, clock, "b")
    cands.extend([a, b])
    await settle()
    assert a.elector.is_leader()
    store.down.add("a")  # a is cut off from the apiserver
    for _ in range(4):
        await clock.advance(2)
        await settle()
        assert a.elector.is_leader()  # still within renew_deadline (10 s)
    await clock.advance(2)
    await settle()
    await clock.advance(2)
    await settle()
    assert a.task.done() and not a.elector.is_leader() and not a.working
    assert a.log[-1] == "stopped"
    # b takes over only once the lease expired by its own observation (15 s after the last renew).
    for _ in range(3):
        await clock.advance(2)
        await settle()
    assert b.elector.is_leader()


async def test_racing_candidates_for_a_new_lease(world: Any) -> None:
    store, clock, cands = world
    cands.extend(Candidate(store, clock, name) for name in ("a", "b", "c"))
    await settle()
    for _ in range(5):
        await clock.advance(2)
        await settle()
        assert sum(c.elector.is_leader() for c in cands) == 1


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="retry_period < renew_deadline < lease_duration"):
        LeaderElectionSettings(lease_duration=10, renew_deadline=10)


async def test_handover_through_the_api(fake_apiserver: FakeApiServer) -> None:
    """The same protocol over HTTP (real clock, short durations)."""
    fast = LeaderElectionSettings(lease_duration=3, renew_deadline=2, retry_period=0.05)
    config = ClientConfig(server=fake_apiserver.url)
    async with ApiClient(config) as api_a, ApiClient(config) as api_b:
        a = LeaderElector(api_a, name="sched", identity="a", settings=fast)
        b = LeaderElector(api_b, name="sched", identity="b", settings=fast)
        ta = asyncio.create_task(a.run())
        await eventually(a.is_leader)
        tb = asyncio.create_task(b.run())
        try:
            await eventually(lambda: b.leader == "a")
            assert not b.is_leader()
            ta.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ta
            await eventually(b.is_leader)
            stored = fake_apiserver.get("coordination.k8s.io", "leases", "sched", "kube-system")
            assert stored is not None and stored["spec"]["holderIdentity"] == "b"
            assert stored["spec"]["leaseTransitions"] == 1
        finally:
            tb.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tb
