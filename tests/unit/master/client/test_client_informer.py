"""Informers against the in-process fake apiserver (a test double)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from master.api import core, meta
from master.client.cache import NAMESPACE_INDEX, Cache, meta_namespace_key, split_key
from master.client.config import ClientConfig
from master.client.informer import Informer, InformerSettings, SharedInformerFactory
from master.client.rest import ApiClient
from master.util.clock import FakeClock
from tests.fixtures.fake_apiserver import FakeApiServer
from tests.fixtures.waiting import eventually

FAST = InformerSettings(page_size=2, backoff_initial=0.01, backoff_max=0.05)


@pytest.fixture
async def api(fake_apiserver: FakeApiServer) -> AsyncIterator[ApiClient]:
    async with ApiClient(ClientConfig(server=fake_apiserver.url, timeout=10)) as client:
        yield client


@contextlib.asynccontextmanager
async def running(inf: Informer[Any]) -> AsyncIterator[Informer[Any]]:
    task = asyncio.create_task(inf.run())
    try:
        yield inf
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def pod(name: str, ns: str = "default", node: str = "") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns}, "spec": {"containers": [], "nodeName": node}}


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def add(self, obj: meta.Object) -> None:
        self.events.append(("add", meta_namespace_key(obj)))

    def update(self, old: meta.Object, new: meta.Object) -> None:
        self.events.append(("update", meta_namespace_key(new)))

    def delete(self, obj: meta.Object) -> None:
        self.events.append(("delete", meta_namespace_key(obj)))

    def attach(self, inf: Informer[Any]) -> None:
        inf.add_event_handler(on_add=self.add, on_update=self.update, on_delete=self.delete)


async def test_list_then_watch_with_handlers_and_indexes(
    api: ApiClient, fake_apiserver: FakeApiServer
) -> None:
    for i in range(5):
        fake_apiserver.put("", "pods", pod(f"p{i}", "a" if i < 3 else "b", node="pi-1" if i % 2 else ""))
    inf = Informer(api, core.Pod, settings=FAST)
    inf.add_indexers({"node": lambda p: [p.spec.node_name] if p.spec.node_name else []})
    rec = Recorder()
    rec.attach(inf)
    async with running(inf):
        await asyncio.wait_for(inf.wait_synced(), 10)
        assert sorted(rec.events) == sorted(("add", f"{'a' if i < 3 else 'b'}/p{i}") for i in range(5))
        assert len(inf.cache) == 5
        assert [p.metadata.name for p in inf.cache.by_index(NAMESPACE_INDEX, "b")] == ["p3", "p4"]
        assert [p.metadata.name for p in inf.cache.by_index("node", "pi-1")] == ["p1", "p3"]
        rec.events.clear()
        fake_apiserver.put("", "pods", pod("p0", "a", node="pi-1"))
        fake_apiserver.remove("", "pods", "p3", "b")
        fake_apiserver.put("", "pods", pod("new", "b"))
        await eventually(lambda: len(rec.events) == 3)
        assert rec.events == [("update", "a/p0"), ("delete", "b/p3"), ("add", "b/new")]
        assert [p.metadata.name for p in inf.cache.by_index("node", "pi-1")] == ["p0", "p1"]
        assert inf.cache.get_by_name("new", "b") is not None
        assert inf.resource_version == str(fake_apiserver.rv)
    assert inf.lists == 1


async def test_field_selector_scoped_informer(api: ApiClient, fake_apiserver: FakeApiServer) -> None:
    fake_apiserver.put("", "pods", pod("mine", node="pi-1"))
    fake_apiserver.put("", "pods", pod("theirs", node="pi-2"))
    inf = Informer(api, core.Pod, field_selector="spec.nodeName=pi-1", settings=FAST)
    async with running(inf):
        await asyncio.wait_for(inf.wait_synced(), 10)
        assert inf.cache.list_keys() == ["default/mine"]
        fake_apiserver.put("", "pods", pod("later", node="pi-1"))
        fake_apiserver.put("", "pods", pod("elsewhere", node="pi-3"))
        await eventually(lambda: "default/later" in inf.cache)
        assert sorted(inf.cache.list_keys()) == ["default/later", "default/mine"]


async def test_relists_after_gone_and_reports_what_changed(
    api: ApiClient, fake_apiserver: FakeApiServer
) -> None:
    fake_apiserver.put("", "pods", pod("keep"))
    fake_apiserver.put("", "pods", pod("lost"))
    inf = Informer(api, core.Pod, settings=FAST)
    rec = Recorder()
    rec.attach(inf)
    async with running(inf):
        await asyncio.wait_for(inf.wait_synced(), 10)
        await eventually(lambda: fake_apiserver.watch_count == 1)
        rec.events.clear()
        # While the informer is disconnected, the world changes and history is compacted.
        fake_apiserver.close_watches()
        fake_apiserver.remove("", "pods", "lost", "default")
        fake_apiserver.put("", "pods", pod("born"))
        fake_apiserver.compact()
        await eventually(lambda: inf.lists == 2)
        await eventually(lambda: len(rec.events) == 2)
        assert sorted(rec.events) == [("add", "default/born"), ("delete", "default/lost")]
        assert sorted(inf.cache.list_keys()) == ["default/born", "default/keep"]


async def test_cached_objects_share_their_strings(api: ApiClient, fake_apiserver: FakeApiServer) -> None:
    fake_apiserver.put("", "pods", pod("listed", node="pi-1"))
    inf = Informer(api, core.Pod, settings=FAST)
    async with running(inf):
        await asyncio.wait_for(inf.wait_synced(), 10)
        fake_apiserver.put("", "pods", pod("watched", node="pi-1"))
        await eventually(lambda: "default/watched" in inf.cache)
        listed, watched = inf.cache.get("default/listed"), inf.cache.get("default/watched")
        assert listed is not None and watched is not None
        assert listed.metadata.namespace is watched.metadata.namespace
        assert listed.spec.node_name is watched.spec.node_name


async def test_rewatch_resumes_without_relist(api: ApiClient, fake_apiserver: FakeApiServer) -> None:
    inf = Informer(api, core.Pod, settings=FAST)
    async with running(inf):
        await asyncio.wait_for(inf.wait_synced(), 10)
        await eventually(lambda: fake_apiserver.watch_count == 1)
        fake_apiserver.close_watches()
        fake_apiserver.put("", "pods", pod("during-gap"))
        await eventually(lambda: "default/during-gap" in inf.cache)
        fake_apiserver.bookmark()
    assert inf.lists == 1


async def test_survives_a_server_that_is_down_at_start(fake_apiserver: FakeApiServer) -> None:
    fake_apiserver.put("", "pods", pod("p"))
    for _ in range(3):
        fake_apiserver.fail_next("GET", 503, "ServiceUnavailable", "starting")
    async with ApiClient(ClientConfig(server=fake_apiserver.url)) as api:
        inf = Informer(api, core.Pod, settings=FAST)
        async with running(inf):
            await asyncio.wait_for(inf.wait_synced(), 10)
            assert inf.cache.list_keys() == ["default/p"]


async def test_resync_and_late_handlers(api: ApiClient, fake_apiserver: FakeApiServer) -> None:
    clock = FakeClock()
    fake_apiserver.put("", "pods", pod("a"))
    settings = InformerSettings(resync_period=30, backoff_initial=0.01)
    inf = Informer(api, core.Pod, settings=settings, clock=clock)
    async with running(inf):
        await asyncio.wait_for(inf.wait_synced(), 10)
        late = Recorder()
        late.attach(inf)
        assert late.events == [("add", "default/a")]
        await asyncio.sleep(0.05)
        await clock.advance(30)
        await eventually(lambda: ("update", "default/a") in late.events)


async def test_a_failing_handler_does_not_stop_the_others(
    api: ApiClient, fake_apiserver: FakeApiServer
) -> None:
    fake_apiserver.put("", "pods", pod("a"))
    inf = Informer(api, core.Pod, settings=FAST)

    def broken(obj: core.Pod) -> None:
        raise RuntimeError("handler bug")

    inf.add_event_handler(on_add=broken)
    rec = Recorder()
    rec.attach(inf)
    async with running(inf):
        await asyncio.wait_for(inf.wait_synced(), 10)
    assert rec.events == [("add", "default/a")]


async def test_shared_informer_factory(api: ApiClient, fake_apiserver: FakeApiServer) -> None:
    fake_apiserver.put("", "pods", pod("p"))
    fake_apiserver.put("", "nodes", {"metadata": {"name": "pi-1"}})
    factory = SharedInformerFactory(api, settings=FAST)
    pods = factory.informer(core.Pod)
    assert factory.informer(core.Pod) is pods
    assert factory.informer(core.Pod, field_selector="spec.nodeName=x") is not pods
    nodes = factory.informer(core.Node)
    factory.start()
    try:
        async with asyncio.timeout(10):
            await factory.wait_for_cache_sync()
        assert pods.cache.list_keys() == ["default/p"] and nodes.cache.list_keys() == ["pi-1"]
        assert len(factory.informers) == 3
    finally:
        await factory.stop()
    assert fake_apiserver.watch_count >= 0


def test_keys() -> None:
    assert split_key("ns/name") == ("ns", "name")
    assert split_key("node") == ("", "node")
    p = core.Pod(metadata=meta.ObjectMeta(name="x", namespace="y"))
    assert meta_namespace_key(p) == "y/x"


def test_cache_index_maintenance() -> None:
    cache: Cache[core.Pod] = Cache({"node": lambda p: [p.spec.node_name]})
    a1 = core.Pod(
        metadata=meta.ObjectMeta(name="a", namespace="n"), spec=core.PodSpec(containers=[], node_name="x")
    )
    a2 = core.Pod(
        metadata=meta.ObjectMeta(name="a", namespace="n"), spec=core.PodSpec(containers=[], node_name="y")
    )
    cache.put("n/a", a1)
    assert cache.by_index("node", "x") == [a1]
    assert cache.put("n/a", a2) is a1
    assert cache.by_index("node", "x") == [] and cache.by_index("node", "y") == [a2]
    assert cache.index_values("node") == ["y"]
    cache.delete("n/a")
    assert cache.by_index("node", "y") == [] and len(cache) == 0
    with pytest.raises(KeyError, match="no index named 'nope'"):
        cache.by_index("nope", "x")
    with pytest.raises(ValueError, match="already exists"):
        cache.add_indexers({"node": lambda p: []})
