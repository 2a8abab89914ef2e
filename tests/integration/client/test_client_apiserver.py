"""master.client against the real apiserver (in process, in-memory store, admin kubeconfig)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from master.api import apps, coordination, core, meta
from master.client import errors
from master.client.events import NORMAL, EventRecorder
from master.client.informer import Informer, InformerSettings, SharedInformerFactory
from master.client.leaderelection import LeaderElectionSettings, LeaderElector
from master.client.rest import ApiClient, resource_path
from tests.fixtures.apiserver import Api, running_apiserver
from tests.fixtures.waiting import eventually

FAST = InformerSettings(page_size=3, backoff_initial=0.05, backoff_max=0.2)


async def namespace(client: ApiClient, name: str) -> None:
    await client.create(core.Namespace(metadata=meta.ObjectMeta(name=name)))


def cm(name: str, namespace: str = "default", **data: str) -> core.ConfigMap:
    return core.ConfigMap(metadata=meta.ObjectMeta(name=name, namespace=namespace), data=data)


def pod(name: str, namespace: str = "default", node: str = "", **labels: str) -> core.Pod:
    return core.Pod(
        metadata=meta.ObjectMeta(name=name, namespace=namespace, labels=labels),
        spec=core.PodSpec(containers=[core.Container(name="c", image="busybox")], node_name=node),
    )


async def test_crud_and_errors(client: ApiClient) -> None:
    created = await client.create(cm("a", k="1"))
    assert created.metadata.uid and created.metadata.creation_timestamp
    with pytest.raises(errors.AlreadyExists, match='configmaps "a" already exists'):
        await client.create(cm("a"))
    got = await client.get(core.ConfigMap, "a")
    got.data = {"k": "2"}
    updated = await client.update(got)
    with pytest.raises(errors.Conflict, match="the object has been modified"):
        await client.update(got)
    assert updated.data == {"k": "2"}
    merged = await client.patch(core.ConfigMap, "a", {"data": {"m": "x"}})
    assert merged.data == {"k": "2", "m": "x"}
    jsonp = await client.patch(core.ConfigMap, "a", [{"op": "remove", "path": "/data/m"}], patch_type="json")
    assert jsonp.data == {"k": "2"}
    last = await client.delete(core.ConfigMap, "a")
    assert last is not None and last.data == {"k": "2"}
    with pytest.raises(errors.NotFound) as info:
        await client.get(core.ConfigMap, "a")
    assert info.value.display == 'Error from server (NotFound): configmaps "a" not found'


async def test_raw_request_with_another_accept(client: ApiClient) -> None:
    await client.create(pod("tabled"))
    path = resource_path(client.resource(core.Pod), "default")
    body = await client.request("GET", path, accept="application/json;as=Table;v=v1;g=meta.k8s.io")
    table = json.loads(body)
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]][:2] == ["Name", "Ready"]
    version = json.loads(await client.request("GET", "/version"))
    assert "gitVersion" in version


async def test_invalid_has_causes(client: ApiClient) -> None:
    bad = core.Pod(metadata=meta.ObjectMeta(name="Bad_Name"), spec=core.PodSpec(containers=[]))
    with pytest.raises(errors.Invalid) as info:
        await client.create(bad)
    assert info.value.code == 422
    assert info.value.causes and all(len(c) == 3 for c in info.value.causes)
    assert any(field == "metadata.name" for _, field, _ in info.value.causes)


async def test_pods_status_binding_strategic_patch_and_eviction(client: ApiClient) -> None:
    p = await client.create(pod("web", app="web"))
    assert p.spec.restart_policy == "Always"  # defaulted by the server
    p.status = core.PodStatus(phase="Running")
    running = await client.update_status(p)
    assert running.status.phase == "Running"
    await client.create(core.Node(metadata=meta.ObjectMeta(name="pi-1")))
    await client.bind("web", "pi-1")
    bound = await client.get(core.Pod, "web")
    assert bound.spec.node_name == "pi-1"
    smp = await client.patch(
        core.Pod, "web", {"metadata": {"labels": {"tier": "front"}}}, patch_type="strategic"
    )
    assert smp.metadata.labels == {"app": "web", "tier": "front"}
    await client.evict("web", grace_period_seconds=0)
    with pytest.raises(errors.NotFound):
        await client.get(core.Pod, "web")


async def test_list_paging_and_delete_collection(client: ApiClient) -> None:
    await namespace(client, "paging")
    for i in range(7):
        await client.create(pod(f"p{i}", "paging", group="a" if i < 4 else "b"))
    page = await client.list(core.Pod, namespace="paging", limit=3)
    assert len(page.items) == 3 and page.metadata.continue_
    items, rv = await client.list_all(core.Pod, namespace="paging", page_size=3)
    assert sorted(p.metadata.name for p in items) == [f"p{i}" for i in range(7)] and rv
    assert len((await client.list(core.Pod, label_selector="group=b")).items) == 3
    await client.delete_collection(
        core.Pod, namespace="paging", label_selector="group=a", grace_period_seconds=0
    )
    left = await client.list(core.Pod, namespace="paging")
    assert sorted(p.metadata.name for p in left.items if not p.metadata.deletion_timestamp) == [
        "p4",
        "p5",
        "p6",
    ]


async def test_deployment_scale(client: ApiClient) -> None:
    dep = apps.Deployment(
        metadata=meta.ObjectMeta(name="web", namespace="default"),
        spec=apps.DeploymentSpec(
            replicas=1,
            selector=meta.LabelSelector(match_labels={"app": "web"}),
            template=core.PodTemplateSpec(
                metadata=meta.ObjectMeta(labels={"app": "web"}),
                spec=core.PodSpec(containers=[core.Container(name="c", image="busybox")]),
            ),
        ),
    )
    await client.create(dep)
    scale = await client.scale(apps.Deployment, "web", 4)
    assert scale.spec.replicas == 4
    assert (await client.get(apps.Deployment, "web")).spec.replicas == 4
    assert (await client.get_scale(apps.Deployment, "web")).spec.replicas == 4


async def test_watch_resume_and_bookmarks(client: ApiClient) -> None:
    await namespace(client, "w")
    start = (await client.list(core.ConfigMap, namespace="w")).metadata.resource_version
    async with client.watch(core.ConfigMap, namespace="w", resource_version=start) as stream:
        await client.create(cm("a", "w"))
        await client.create(cm("b", "w"))
        first = await anext(stream)
        assert (first.type, first.object.metadata.name) == ("ADDED", "a")
        resume_from = stream.resource_version
    await client.delete(core.ConfigMap, "a", namespace="w")
    seen: list[tuple[str, str]] = []
    async with client.watch(core.ConfigMap, namespace="w", resource_version=resume_from) as stream:
        async for ev in stream:
            seen.append((ev.type, ev.object.metadata.name))
            if ev.type == "BOOKMARK":  # the test server sends one every 0.2 s
                break
    assert seen[:2] == [("ADDED", "b"), ("DELETED", "a")]
    assert seen[-1][0] == "BOOKMARK"


async def test_watch_field_selector_for_one_node(client: ApiClient) -> None:
    await client.create(pod("mine", node="pi-1"))
    await client.create(pod("theirs", node="pi-2"))
    async with client.watch(core.Pod, field_selector="spec.nodeName=pi-1", allow_bookmarks=False) as stream:
        first = await anext(stream)
    assert (first.type, first.object.metadata.name) == ("ADDED", "mine")


async def test_connection_refused_after_the_server_stops(tmp_path: Path) -> None:
    async with running_apiserver(tmp_path) as api:
        config = api.client_config()
    async with ApiClient(config) as client:
        with pytest.raises(
            errors.ConnectionError, match="was refused - did you specify the right host or port"
        ):
            await client.get(core.Pod, "x")


class Cuttable:
    """A TCP proxy to the apiserver whose connections a test can cut (a network partition)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self, port: int = 0) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Stop listening and drop every connection."""
        assert self.server is not None
        self.server.close()
        for w in list(self.writers):
            w.close()
        for t in list(self.tasks):
            t.cancel()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers.update((writer, up_w))

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            try:
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                w.close()

        for coro in (pipe(reader, up_w), pipe(up_r, writer)):
            t = asyncio.create_task(coro)
            self.tasks.add(t)
            t.add_done_callback(self.tasks.discard)


async def test_informer_relists_after_410(tmp_path: Path) -> None:
    """Partition the informer from a server with a 5-event watch window, write 10 times, heal:
    its resume is too old (410 Gone), so it relists and catches up."""
    async with running_apiserver(tmp_path, watch_cache_events=5) as api:
        config = api.client_config()
        port = int(api.base.rsplit(":", 1)[1])
        proxy = Cuttable(port)
        await proxy.start()
        proxied = dataclasses.replace(config, server=f"https://127.0.0.1:{proxy.port}")
        async with ApiClient(config) as direct, ApiClient(proxied) as through_proxy:
            await namespace(direct, "r")
            for i in range(3):
                await direct.create(cm(f"old{i}", "r"))
            inf = Informer(through_proxy, core.ConfigMap, namespace="r", settings=FAST)
            deleted: list[str] = []
            inf.add_event_handler(on_delete=lambda o: deleted.append(o.metadata.name))
            task = asyncio.create_task(inf.run())
            try:
                await asyncio.wait_for(inf.wait_synced(), 20)
                assert len(inf.cache) == 3 and inf.lists == 1
                await proxy.cut()
                await direct.delete(core.ConfigMap, "old0", namespace="r")
                for i in range(10):
                    await direct.create(cm(f"new{i}", "r"))
                await proxy.start(proxy.port)
                await eventually(lambda: len(inf.cache) == 12, within=30)
                assert inf.lists == 2
                assert deleted == ["old0"]
                assert "r/old0" not in inf.cache
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                await proxy.cut()


async def test_shared_informers_and_events(client: ApiClient) -> None:
    factory = SharedInformerFactory(client, settings=FAST)
    pods = factory.informer(core.Pod, field_selector="spec.nodeName=pi-9")
    await client.create(pod("here", node="pi-9"))
    factory.start()
    try:
        async with asyncio.timeout(20):
            await factory.wait_for_cache_sync()
        assert pods.cache.list_keys() == ["default/here"]
        recorder = EventRecorder(client, component="kubelet", host="pi-9")
        here = pods.cache.get("default/here")
        assert here is not None
        recorder.event(here, NORMAL, "Pulled", "Container image already present on machine")
        recorder.event(here, NORMAL, "Pulled", "Container image already present on machine")
        await recorder.aclose()
        events = (await client.list(core.Event, namespace="default")).items
        assert [(e.reason, e.count, e.involved_object.name) for e in events] == [("Pulled", 2, "here")]
    finally:
        await factory.stop()


async def test_leader_election_between_two_clients(tmp_path: Path, apiserver: Api) -> None:
    config = apiserver.client_config()
    fast = LeaderElectionSettings(lease_duration=2, renew_deadline=1.5, retry_period=0.1)
    no_release = dataclasses.replace(fast, release_on_cancel=False)
    leaders: list[str] = []
    async with ApiClient(config) as api_a, ApiClient(config) as api_b, ApiClient(config) as api_c:

        def elector(api: ApiClient, who: str, **kw: Any) -> LeaderElector:
            async def lead() -> None:
                leaders.append(who)
                await asyncio.Event().wait()

            return LeaderElector(
                api,
                name="kcm",
                identity=who,
                on_started_leading=lead,
                settings=kw.pop("settings", fast),
                **kw,
            )

        a = elector(api_a, "a")
        b = elector(api_b, "b", settings=no_release)
        ta = asyncio.create_task(a.run())
        await eventually(a.is_leader)
        tb = asyncio.create_task(b.run())
        try:
            await eventually(lambda: b.leader == "a")
            assert not b.is_leader()
            ta.cancel()  # clean shutdown: released, b takes over at its next retry
            with contextlib.suppress(asyncio.CancelledError):
                await ta
            await eventually(b.is_leader)
            lease = await api_c.get(coordination.Lease, "kcm", namespace="kube-system")
            assert lease.spec.holder_identity == "b" and lease.spec.lease_transitions == 1
            # b dies without releasing: c takes over only after the lease expires.
            tb.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tb
            c = elector(api_c, "c")
            tc = asyncio.create_task(c.run())
            try:
                await eventually(lambda: c.leader == "b")
                assert not c.is_leader()
                await eventually(c.is_leader, within=20)
                assert leaders == ["a", "b", "c"]
            finally:
                tc.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await tc
        finally:
            for t in (ta, tb):
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await t
