"""ApiClient against the in-process fake apiserver (tests/fixtures/fake_apiserver.py, a test double)."""

import asyncio
import re
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from master.api import apps, core, meta
from master.client import errors
from master.client.config import ClientConfig
from master.client.rest import ApiClient, Watch
from master.util import pki
from tests.fixtures.fake_apiserver import FakeApiServer
from tests.fixtures.ports import free_port


@pytest.fixture
async def api(fake_apiserver: FakeApiServer) -> AsyncIterator[ApiClient]:
    async with ApiClient(ClientConfig(server=fake_apiserver.url, timeout=10)) as client:
        yield client


def cm(name: str, namespace: str = "", labels: dict[str, str] | None = None, **data: str) -> core.ConfigMap:
    return core.ConfigMap(
        metadata=meta.ObjectMeta(name=name, namespace=namespace, labels=labels or {}), data=data
    )


async def test_crud_roundtrip(api: ApiClient, fake_apiserver: FakeApiServer) -> None:
    created = await api.create(cm("a", a="1"))
    assert created.metadata.namespace == "default"  # the context's namespace
    assert created.metadata.uid and created.metadata.resource_version
    got = await api.get(core.ConfigMap, "a")
    assert got == created
    got.data = {"a": "2"}
    updated = await api.update(got)
    assert updated.data == {"a": "2"}
    assert int(updated.metadata.resource_version) > int(created.metadata.resource_version)
    patched = await api.patch(core.ConfigMap, "a", {"data": {"b": "3"}})
    assert patched.data == {"a": "2", "b": "3"}
    last = await api.delete(core.ConfigMap, "a")
    assert last is not None and last.data == {"a": "2", "b": "3"}
    with pytest.raises(errors.NotFound) as info:
        await api.get(core.ConfigMap, "a")
    assert info.value.code == 404
    assert info.value.display == 'Error from server (NotFound): configmaps "a" not found'


async def test_cluster_scoped_paths(api: ApiClient, fake_apiserver: FakeApiServer) -> None:
    await api.create(core.Node(metadata=meta.ObjectMeta(name="pi-1")))
    assert ("POST", "/api/v1/nodes") in fake_apiserver.requests
    node = await api.get(core.Node, "pi-1", namespace="ignored")
    assert node.metadata.name == "pi-1" and node.metadata.namespace == ""
    assert ("GET", "/api/v1/nodes/pi-1") in fake_apiserver.requests


async def test_group_paths(api: ApiClient, fake_apiserver: FakeApiServer) -> None:
    dep = apps.Deployment(metadata=meta.ObjectMeta(name="web", namespace="prod"))
    fake_apiserver.put(
        "apps", "deployments", {"metadata": {"name": "web", "namespace": "prod"}, "spec": {"replicas": 1}}
    )
    got = await api.get(apps.Deployment, "web", namespace="prod")
    assert got.metadata.name == dep.metadata.name
    assert ("GET", "/apis/apps/v1/namespaces/prod/deployments/web") in fake_apiserver.requests
    scale = await api.scale(apps.Deployment, "web", 3, namespace="prod")
    assert scale.spec.replicas == 3
    assert (await api.get_scale(apps.Deployment, "web", namespace="prod")).spec.replicas == 3


async def test_already_exists_and_conflict(api: ApiClient) -> None:
    first = await api.create(cm("a", "ns"))
    with pytest.raises(errors.AlreadyExists) as info:
        await api.create(cm("a", "ns"))
    assert info.value.code == 409 and info.value.reason == "AlreadyExists"
    assert not isinstance(info.value, errors.Conflict)
    await api.update(first)
    with pytest.raises(errors.Conflict, match="the object has been modified"):
        await api.update(first)  # stale resourceVersion


async def test_update_status_changes_only_status(api: ApiClient, fake_apiserver: FakeApiServer) -> None:
    pod = await api.create(core.Pod(metadata=meta.ObjectMeta(name="p", namespace="default")))
    pod.status = core.PodStatus(phase="Running")
    pod.spec.node_name = "sneaky"
    updated = await api.update_status(pod)
    assert updated.status.phase == "Running" and updated.spec.node_name == ""
    assert ("PUT", "/api/v1/namespaces/default/pods/p/status") in fake_apiserver.requests


async def test_delete_with_finalizer_returns_the_terminating_object(api: ApiClient) -> None:
    obj = cm("f", "default")
    obj.metadata.finalizers = ["example.com/keep"]
    await api.create(obj)
    terminating = await api.delete(
        core.ConfigMap, "f", grace_period_seconds=0, propagation_policy="Background"
    )
    assert terminating is not None and terminating.metadata.deletion_timestamp


async def test_delete_collection_by_label(api: ApiClient) -> None:
    for name, tier in (("a", "web"), ("b", "web"), ("c", "db")):
        await api.create(cm(name, "x", {"tier": tier}))
    await api.delete_collection(core.ConfigMap, namespace="x", label_selector="tier=web")
    left = await api.list(core.ConfigMap, namespace="x")
    assert [o.metadata.name for o in left.items] == ["c"]


async def test_list_selectors_and_paging(api: ApiClient) -> None:
    for i in range(7):
        await api.create(cm(f"c{i}", "ns1" if i % 2 else "ns2", {"odd": str(i % 2)}))
    everything = await api.list(core.ConfigMap)
    assert len(everything.items) == 7 and everything.metadata.resource_version
    assert len((await api.list(core.ConfigMap, namespace="ns1")).items) == 3
    assert len((await api.list(core.ConfigMap, label_selector="odd=0")).items) == 4
    assert len((await api.list(core.ConfigMap, field_selector="metadata.name=c3")).items) == 1
    page = await api.list(core.ConfigMap, limit=3)
    assert len(page.items) == 3 and page.metadata.continue_
    items, rv = await api.list_all(core.ConfigMap, page_size=2)
    assert sorted(o.metadata.name for o in items) == [f"c{i}" for i in range(7)]
    assert rv == everything.metadata.resource_version


async def test_list_all_restarts_when_the_continue_token_expires(
    api: ApiClient, fake_apiserver: FakeApiServer
) -> None:
    for i in range(4):
        await api.create(cm(f"c{i}", "ns"))
    page = await api.list(core.ConfigMap, limit=2)
    await api.create(cm("c4", "ns"))
    fake_apiserver.compact()
    with pytest.raises(errors.Gone, match="too old"):
        await api.list(core.ConfigMap, limit=2, continue_=page.metadata.continue_)
    fake_apiserver.expire_continue_tokens = True
    before = len(fake_apiserver.requests)
    items, _ = await api.list_all(core.ConfigMap, page_size=2)
    assert len(items) == 5
    assert len(fake_apiserver.requests) - before == 3  # page 1, page 2 (410), one unpaged list
    fake_apiserver.fail_next("GET", 410, "Expired", "too old")
    with pytest.raises(errors.Gone):
        await api.list_all(core.ConfigMap, page_size=2)  # a 410 on the first page is the caller's


async def test_watch_from_resource_version(api: ApiClient, fake_apiserver: FakeApiServer) -> None:
    start = await api.list(core.ConfigMap, namespace="w")
    async with api.watch(
        core.ConfigMap, namespace="w", resource_version=start.metadata.resource_version
    ) as stream:
        await api.create(cm("a", "w"))
        await api.patch(core.ConfigMap, "a", {"data": {"k": "v"}}, namespace="w")
        await api.create(cm("other", "elsewhere"))
        await api.delete(core.ConfigMap, "a", namespace="w")
        fake_apiserver.bookmark()
        seen = []
        async for ev in stream:
            seen.append((ev.type, ev.object.metadata.name))
            if ev.type == "BOOKMARK":
                break
    assert seen == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a"), ("BOOKMARK", "")]
    assert stream.resource_version == str(fake_apiserver.rv)
    for _ in range(50):
        if fake_apiserver.watch_count == 0:
            break
        await asyncio.sleep(0.02)
    assert fake_apiserver.watch_count == 0  # leaving the block closed the stream


async def test_watch_without_version_starts_with_current_state(
    api: ApiClient, fake_apiserver: FakeApiServer
) -> None:
    await api.create(cm("a", "n"))
    await api.create(cm("b", "n"))
    names = []
    async with api.watch(core.ConfigMap, timeout_seconds=30) as stream:
        async for ev in stream:
            assert ev.type == "ADDED"
            names.append(ev.object.metadata.name)
            if len(names) == 2:
                fake_apiserver.close_watches()
    assert sorted(names) == ["a", "b"]  # and the iteration ended when the server closed the stream


async def test_watch_too_old_is_gone(api: ApiClient, fake_apiserver: FakeApiServer) -> None:
    await api.create(cm("a", "n"))
    fake_apiserver.compact()
    with pytest.raises(errors.Gone, match="too old resource version") as info:
        async with api.watch(core.ConfigMap, resource_version="1") as stream:
            async for _ in stream:
                pass
    assert info.value.code == 410


async def test_watch_field_selector(api: ApiClient) -> None:
    await api.create(
        core.Pod(
            metadata=meta.ObjectMeta(name="mine", namespace="d"),
            spec=core.PodSpec(containers=[], node_name="pi-1"),
        )
    )
    await api.create(
        core.Pod(
            metadata=meta.ObjectMeta(name="theirs", namespace="d"),
            spec=core.PodSpec(containers=[], node_name="pi-2"),
        )
    )
    async with api.watch(core.Pod, field_selector="spec.nodeName=pi-1") as stream:
        first = await anext(stream)
    assert first.object.metadata.name == "mine"
    async with api.watch(core.Pod, field_selector="spec.nodeName!=pi-1") as stream:
        first = await anext(stream)
    assert first.object.metadata.name == "theirs"


async def test_bind_evict_and_logs(api: ApiClient, fake_apiserver: FakeApiServer) -> None:
    await api.create(core.Pod(metadata=meta.ObjectMeta(name="p", namespace="default")))
    await api.bind("p", "pi-3")
    assert (await api.get(core.Pod, "p")).spec.node_name == "pi-3"
    fake_apiserver.logs[("default", "p")] = ["line 1\n", "line 2\n"]
    assert await api.read_log("p", tail_lines=10) == b"line 1\nline 2\n"
    async with api.stream_log("p") as s:
        chunks = [c async for c in s]
    assert b"".join(chunks) == b"line 1\nline 2\n"
    await api.evict("p", grace_period_seconds=0)
    with pytest.raises(errors.NotFound):
        await api.get(core.Pod, "p")


async def test_invalid_carries_causes(api: ApiClient) -> None:
    with pytest.raises(errors.Invalid) as info:
        await api.create(cm(""))
    assert info.value.code == 422


async def test_retry_after_is_honoured(api: ApiClient, fake_apiserver: FakeApiServer) -> None:
    await api.create(cm("a", "default"))
    fake_apiserver.fail_next("GET", 429, "TooManyRequests", "slow down", headers={"Retry-After": "0"})
    fake_apiserver.fail_next("GET", 503, "ServiceUnavailable", "busy", headers={"Retry-After": "0"})
    assert (await api.get(core.ConfigMap, "a")).metadata.name == "a"


async def test_server_errors_without_retry_after_are_raised(
    api: ApiClient, fake_apiserver: FakeApiServer
) -> None:
    fake_apiserver.fail_next("GET", 500, "InternalError", "Internal error occurred: boom")
    with pytest.raises(errors.InternalError, match="boom"):
        await api.get(core.ConfigMap, "a")
    fake_apiserver.fail_next("GET", 504, "Timeout", "took too long")
    with pytest.raises(errors.ServerTimeout):
        await api.get(core.ConfigMap, "a")


async def test_non_status_error_body(fake_apiserver: FakeApiServer) -> None:
    async with ApiClient(ClientConfig(server=fake_apiserver.url)) as api:
        with pytest.raises(errors.NotFound, match="could not find the requested resource"):
            await api.request("GET", "/nonsense")


async def test_bearer_token(fake_apiserver: FakeApiServer) -> None:
    fake_apiserver.token = "t0ken"
    async with ApiClient(ClientConfig(server=fake_apiserver.url)) as anonymous:
        with pytest.raises(errors.Unauthorized):
            await anonymous.list(core.ConfigMap)
    async with ApiClient(ClientConfig(server=fake_apiserver.url, token="t0ken")) as api:
        assert (await api.list(core.ConfigMap)).items == []


async def test_connection_refused_reads_like_kubectl() -> None:
    port = free_port()
    config = ClientConfig(server=f"https://127.0.0.1:{port}", insecure_skip_tls_verify=True, retries=1)
    async with ApiClient(config) as api:
        with pytest.raises(errors.ConnectionError) as info:
            await api.get(core.ConfigMap, "a")
    assert str(info.value) == (
        f"The connection to the server 127.0.0.1:{port} was refused - did you specify the right host or port?"
    )


async def test_connect_failure_is_retried_then_succeeds() -> None:
    server = FakeApiServer()
    port = free_port()
    config = ClientConfig(server=f"http://127.0.0.1:{port}", retries=5)

    async def start_late() -> None:
        await asyncio.sleep(0.15)
        from aiohttp import web

        server.url = f"http://127.0.0.1:{port}"
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", server._handle)
        server._runner = web.AppRunner(app, access_log=None)
        await server._runner.setup()
        await web.TCPSite(server._runner, "127.0.0.1", port).start()

    starter = asyncio.create_task(start_late())
    try:
        async with ApiClient(config) as api:
            assert (await api.list(core.ConfigMap)).items == []
    finally:
        await starter
        await server.stop()


async def test_mutual_tls(tmp_path: Path) -> None:
    ca = pki.create_ca()
    serving = pki.serving_cert(ca, "apiserver", ["127.0.0.1"])
    client = pki.client_cert(ca, "kubernetes-admin", groups=["system:masters"])
    pki.write_cert_key(serving, tmp_path / "s.crt", tmp_path / "s.key")
    sctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    sctx.load_cert_chain(tmp_path / "s.crt", tmp_path / "s.key")
    sctx.load_verify_locations(cadata=ca.cert_pem.decode())
    sctx.verify_mode = ssl.CERT_REQUIRED
    server = FakeApiServer()
    await server.start(ssl_context=sctx)
    try:
        good = ClientConfig(
            server=server.url, ca_data=ca.cert_pem, cert_data=client.cert_pem, key_data=client.key_pem
        )
        async with ApiClient(good) as api:
            assert (await api.list(core.ConfigMap)).items == []
        other_ca = pki.create_ca("other")
        bad = ClientConfig(server=server.url, ca_data=other_ca.cert_pem, retries=0)
        async with ApiClient(bad) as api:
            with pytest.raises(
                errors.ConnectionError, match=r"Unable to connect to the server 127\.0\.0\.1:.*certificate"
            ):
                await api.list(core.ConfigMap)
    finally:
        await server.stop()


async def test_a_silent_watch_times_out(api: ApiClient, fake_apiserver: FakeApiServer) -> None:
    """A stream that stays open without a byte (a dead peer) fails after the read timeout."""
    stream = Watch(api.transport, core.ConfigMap, "/api/v1/configmaps", [("watch", "true")], read_timeout=0.2)
    with pytest.raises(errors.Timeout, match=r"no data from 127\.0\.0\.1"):
        async with stream:
            await anext(stream)
    assert isinstance(errors.Timeout("x"), errors.ConnectionError)


async def test_a_slow_server_times_out(fake_apiserver: FakeApiServer) -> None:
    fake_apiserver.delay = 2.0
    async with ApiClient(ClientConfig(server=fake_apiserver.url, timeout=0.2)) as api:
        with pytest.raises(
            errors.Timeout, match=r"did not answer within 0\.2s \(GET /api/v1/namespaces/default/"
        ):
            await api.get(core.ConfigMap, "a")


@pytest.mark.parametrize(
    ("server", "message"),
    [
        pytest.param("https://", "want https://HOST[:PORT]", id="no-host"),
        pytest.param("ftp://x:1", "want https://HOST[:PORT]", id="scheme"),
        pytest.param("https://[::1:6443", "Invalid IPv6 URL", id="bad-ipv6"),
        pytest.param("http://127.0.0.1:99999", "out of range", id="port"),
        pytest.param("https://exa mple:6443", "want https://HOST[:PORT]", id="space"),
    ],
)
def test_bad_server_urls_are_config_errors(server: str, message: str) -> None:
    with pytest.raises(errors.ConfigError, match=re.escape(message)):
        ClientConfig(server=server)


def test_bad_pem_is_a_config_error() -> None:
    with pytest.raises(errors.ConfigError, match="certificate authority is not a PEM certificate"):
        ClientConfig(server="https://h:1", ca_data=b"not pem").ssl_context()
    with pytest.raises(errors.ConfigError, match="client certificate or key is not usable PEM"):
        ClientConfig(server="https://h:1", cert_data=b"x", key_data=b"y").ssl_context()


async def test_empty_names_are_refused(api: ApiClient) -> None:
    with pytest.raises(ValueError, match="a ConfigMap name is required"):
        await api.get(core.ConfigMap, "")
    with pytest.raises(ValueError, match="a Pod name is required"):
        await api.update(core.Pod())
    with pytest.raises(ValueError, match="is not a resource the API serves"):
        await api.get(meta.Status, "x")  # type: ignore[type-var]
