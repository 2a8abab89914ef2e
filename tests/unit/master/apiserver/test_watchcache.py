"""The watch cache's indexed fan-out: an event reaches exactly the watchers that may want it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from master.apiserver import selection
from master.apiserver.registry import ServedRegistry
from master.apiserver.storage import ResourceStorage
from master.apiserver.watchcache import INDEXES, CachedObject, WatchCache, Watcher
from master.store.local import LocalClient
from master.store.settings import StoreSettings

_enc = msgspec.json.Encoder()


@pytest.fixture
async def pods() -> AsyncIterator[tuple[ResourceStorage, WatchCache]]:
    client = await LocalClient.open(StoreSettings(backend="memory"))
    served = ServedRegistry.builtin().lookup("", "v1", "pods")
    assert served is not None
    storage = ResourceStorage(client, resource="pods", namespaced=True)
    cache = WatchCache(storage, fields=served.fields, index_fields=INDEXES["pods"])
    await cache.start()
    try:
        yield storage, cache
    finally:
        await cache.stop()
        await client.close()


def pod(name: str, node: str = "") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "ns"},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "x"}]}}


class Counted:
    """A field-selector predicate that counts how often the cache asks it."""

    def __init__(self, text: str) -> None:
        served = ServedRegistry.builtin().lookup("", "v1", "pods")
        assert served is not None
        self.match = selection.predicate(None, selection.compile_field_selector(text, served))
        self.pinned = selection.pinned_fields(text)
        self.calls = 0

    def __call__(self, obj: CachedObject) -> bool:
        self.calls += 1
        return self.match(obj)


async def drain(w: Watcher) -> list[tuple[str, str]]:
    out = []
    while not w.queue.empty():
        item = await w.next()
        assert item is not None
        kind, obj = item
        out.append((kind, msgspec.json.decode(obj.raw)["metadata"]["name"]))
    return out


async def settle(storage: ResourceStorage, cache: WatchCache) -> None:
    rev = (await storage.client.range(b"/", count_only=True)).header.revision
    assert await cache.wait_for(rev, 10.0)


def watch(cache: WatchCache, text: str) -> tuple[Watcher, Counted]:
    pred = Counted(text)
    return cache.watch(b"/registry/pods/", pred, cache.rv, pred.pinned), pred


async def test_node_watchers_see_only_their_node(pods: tuple[ResourceStorage, WatchCache]) -> None:
    storage, cache = pods
    on_a, pa = watch(cache, "spec.nodeName=a")
    on_b, pb = watch(cache, "spec.nodeName=b")
    bound, _ = watch(cache, "spec.nodeName!=")
    everyone, _ = watch(cache, "")
    stored = await storage.create("ns", "p", pod("p"))
    stored = await storage.update("ns", "p", {**stored, "spec": {**stored["spec"], "nodeName": "a"}},
                                  expected_rv=int(stored["metadata"]["resourceVersion"]))
    await storage.delete("ns", "p")
    await settle(storage, cache)
    assert await drain(on_a) == [("ADDED", "p"), ("DELETED", "p")]
    assert await drain(on_b) == []
    assert pb.calls == 0, "a watcher of another node is never asked"
    assert pa.calls > 0
    assert await drain(bound) == [("ADDED", "p"), ("DELETED", "p")]
    assert await drain(everyone) == [("ADDED", "p"), ("MODIFIED", "p"), ("DELETED", "p")]


async def test_moving_between_index_values_is_deleted_then_added(pods: tuple[ResourceStorage, WatchCache]) -> None:
    storage, cache = pods
    stored = await storage.create("ns", "p", pod("p", "a"))
    await settle(storage, cache)
    on_a, _ = watch(cache, "spec.nodeName=a")
    on_b, _ = watch(cache, "spec.nodeName=b")
    await storage.update("ns", "p", {**stored, "spec": {**stored["spec"], "nodeName": "b"}},
                         expected_rv=int(stored["metadata"]["resourceVersion"]))
    await settle(storage, cache)
    assert await drain(on_a) == [("DELETED", "p")]
    assert await drain(on_b) == [("ADDED", "p")]


async def test_name_watchers_and_closing(pods: tuple[ResourceStorage, WatchCache]) -> None:
    storage, cache = pods
    named, pn = watch(cache, "metadata.name=q")
    other, po = watch(cache, "metadata.name=r,spec.nodeName!=x")
    assert named.index == ("metadata.name", "q") and other.index == ("metadata.name", "r")
    await storage.create("ns", "q", pod("q"))
    await settle(storage, cache)
    assert await drain(named) == [("ADDED", "q")]
    assert po.calls == 0 and pn.calls == 1
    named.close()
    other.close()
    assert not cache.watchers and not cache.indexed and not cache.unindexed
    await storage.create("ns", "r", pod("r"))
    await settle(storage, cache)
    assert po.calls == 0


async def test_replay_from_the_window_is_filtered_too(pods: tuple[ResourceStorage, WatchCache]) -> None:
    storage, cache = pods
    start = cache.rv
    await storage.create("ns", "p1", pod("p1", "a"))
    await storage.create("ns", "p2", pod("p2", "b"))
    await settle(storage, cache)
    pred = Counted("spec.nodeName=b")
    w = cache.watch(b"/registry/pods/", pred, start, pred.pinned)
    await asyncio.sleep(0)
    assert await drain(w) == [("ADDED", "p2")]


async def test_ready_takes_what_is_queued_without_waiting(pods: tuple[ResourceStorage, WatchCache]) -> None:
    storage, cache = pods
    w, _ = watch(cache, "")
    assert w.ready(10) == ([], False)
    for i in range(5):
        await storage.create("ns", f"p{i}", pod(f"p{i}"))
    await settle(storage, cache)
    first, ended = w.ready(3)
    assert [k for k, _ in first] == ["ADDED"] * 3 and not ended
    rest, ended = w.ready(10)
    assert len(rest) == 2 and not ended
    assert w.last_rv == cache.rv
    w.close()
    assert w.ready(10) == ([], True)


async def test_a_burst_reaches_an_http_watcher_whole_and_in_order(tmp_path: Path) -> None:
    from tests.fixtures.apiserver import running_apiserver

    async with running_apiserver(tmp_path) as api:
        cms = "/api/v1/namespaces/default/configmaps"
        _, lst = await api.get(cms)
        async with api.watch(cms, {"resourceVersion": lst["metadata"]["resourceVersion"]}) as reader:
            await asyncio.gather(*(api.post(cms, json={"apiVersion": "v1", "kind": "ConfigMap",
                                                       "metadata": {"name": f"c{i:03d}"}}) for i in range(150)))
            seen: list[dict[str, Any]] = []
            while len(seen) < 150:
                got = await reader.next()
                assert got is not None
                seen.append(got[1])
        rvs = [int(o["metadata"]["resourceVersion"]) for o in seen]
        assert rvs == sorted(rvs) and len({o["metadata"]["name"] for o in seen}) == 150


async def test_a_slow_watcher_ends_after_a_gapless_run(pods: tuple[ResourceStorage, WatchCache]) -> None:
    """Closed for falling behind, a watcher still yields what was queued, in order and without a
    hole, then ends: the client resumes from the last event it got and misses none."""
    storage, cache = pods
    cache.watcher_queue = 5
    w, _ = watch(cache, "")
    for i in range(12):
        await storage.create("ns", f"p{i:02d}", pod(f"p{i:02d}"))
    await settle(storage, cache)
    assert w.closed and w not in cache.watchers
    got, ended = w.ready(100)
    assert ended and [msgspec.json.decode(o.raw)["metadata"]["name"] for _, o in got] == [
        f"p{i:02d}" for i in range(5)]
    resumed = cache.watch(b"/registry/pods/", lambda _o: True, got[-1][1].rv)
    rest, ended = resumed.ready(100)
    assert not ended and [msgspec.json.decode(o.raw)["metadata"]["name"] for _, o in rest] == [
        f"p{i:02d}" for i in range(5, 12)]
