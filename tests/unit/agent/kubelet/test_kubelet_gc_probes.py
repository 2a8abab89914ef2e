"""Garbage collection of containers, sandboxes and images; httpGet and tcpSocket probes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from aiohttp import web

from agent.kubelet import keys
from agent.kubelet.cri import ContainerConfig, SandboxConfig
from agent.kubelet.cri.fake import FakeImage, FakeRuntime
from agent.kubelet.gc import GarbageCollector
from agent.kubelet.prober import Prober, Result, resolve_port
from agent.kubelet.settings import KubeletSettings
from master.api.core import Probe
from master.util.clock import FakeClock
from tests.fixtures.ports import free_port
from tests.unit.agent.kubelet.kubelet_helpers import container


def labels(uid: str, name: str | None = None) -> dict[str, str]:
    out = {keys.POD_UID: uid, keys.POD_NAME: f"pod-{uid}", keys.POD_NAMESPACE: "default"}
    if name:
        out[keys.CONTAINER_NAME] = name
    return out


async def crash(rt: FakeRuntime, sid: str, sc: SandboxConfig, uid: str, attempt: int) -> str:
    cid = await rt.create_container(sid, ContainerConfig(
        name="app", image="localhost/busybox:latest", attempt=attempt, command=("sh", "-c", "exit 1"),
        labels=labels(uid, "app"), annotations={keys.RESTART_COUNT: str(attempt)}), sc)
    await rt.start_container(cid)
    await asyncio.sleep(0)
    return cid


async def test_dead_containers_beyond_one_per_container_are_removed(tmp_path: Path) -> None:
    rt = FakeRuntime()
    sc = SandboxConfig(name="a", uid="ua", namespace="default", labels=labels("ua"))
    sid = await rt.run_sandbox(sc)
    ids = [await crash(rt, sid, sc, "ua", i) for i in range(4)]
    gone_sc = SandboxConfig(name="b", uid="ub", namespace="default", labels=labels("ub"))
    gone_sid = await rt.run_sandbox(gone_sc)
    await crash(rt, gone_sid, gone_sc, "ub", 0)
    await rt.stop_sandbox(gone_sid)
    (tmp_path / "logs" / "default_pod-ub_ub").mkdir(parents=True)
    (tmp_path / "logs" / "default_pod-ua_ua").mkdir(parents=True)
    gc = GarbageCollector(rt, settings=KubeletSettings(node_name="pi-1", node_ip="10.0.0.1", data_dir=tmp_path),
                          clock=FakeClock(), known_uids=lambda: {"ua"})
    removed = await gc.collect_containers()
    left = {c.id for c in await rt.list_containers()}
    assert left == {ids[-1]}  # the newest dead one stays, for its status and logs --previous
    assert [s.id for s in await rt.list_sandboxes()] == [sid]
    assert removed == 5
    assert not (tmp_path / "logs" / "default_pod-ub_ub").exists() and (tmp_path / "logs" / "default_pod-ua_ua").exists()
    await rt.close()


async def test_image_gc_removes_unused_images_above_the_threshold(tmp_path: Path) -> None:
    clock = FakeClock()
    rt = FakeRuntime(clock=clock)
    rt.add_image(FakeImage("localhost/old:1", cmd=("sh",), size=300))
    usage = {"used": 90}
    settings = KubeletSettings(node_name="pi-1", node_ip="10.0.0.1", data_dir=tmp_path, image_minimum_gc_age=60)
    gc = GarbageCollector(rt, settings=settings, clock=clock, known_uids=set,
                          fs_usage=lambda _mount: (100, usage["used"]))
    sc = SandboxConfig(name="a", uid="ua", namespace="default", labels=labels("ua"))
    sid = await rt.run_sandbox(sc)
    await rt.create_container(sid, ContainerConfig(name="app", image="localhost/web:1", labels=labels("ua", "app")), sc)
    assert await gc.collect_images() == []  # unused images are remembered, not yet old enough
    await clock.advance(61)
    removed = await gc.collect_images()
    tags = {t for i in await rt.list_images() for t in i.repo_tags}
    assert "localhost/web:1" in tags and "localhost/pause:latest" in tags  # in use, and the sandbox image
    assert len(removed) == 1  # one image frees enough to get below 80 %
    usage["used"] = 10
    rt.add_image(FakeImage("localhost/another:1", cmd=("sh",)))
    await clock.advance(61)
    assert await gc.collect_images() == []  # below the threshold: nothing goes
    await rt.close()


async def test_log_rotation_reopens_the_log(tmp_path: Path) -> None:
    rt = FakeRuntime()
    sc = SandboxConfig(name="a", uid="ua", namespace="default", labels=labels("ua"), log_directory=str(tmp_path / "l"))
    sid = await rt.run_sandbox(sc)
    cid = await rt.create_container(sid, ContainerConfig(name="app", image="localhost/web:1", log_path="app/0.log",
                                                         labels=labels("ua", "app")), sc)
    await rt.start_container(cid)
    log = tmp_path / "l" / "app" / "0.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("2025-01-01T00:00:00Z stdout F " + "x" * 200 + "\n")
    settings = KubeletSettings(node_name="pi-1", node_ip="10.0.0.1", data_dir=tmp_path, container_log_max_bytes=100)
    gc = GarbageCollector(rt, settings=settings, clock=FakeClock(), known_uids=lambda: {"ua"})
    assert await gc.rotate_logs() == 1
    assert ("reopen_container_log", cid) in rt.calls
    assert not log.exists() and len(list(log.parent.iterdir())) == 1
    await rt.close()


@pytest.fixture
async def web_server() -> AsyncIterator[int]:
    async def ok(_r: web.Request) -> web.Response:
        return web.Response(text="fine")

    async def bad(_r: web.Request) -> web.Response:
        return web.Response(status=503, text="no")

    async def slow(_r: web.Request) -> web.Response:
        await asyncio.sleep(1.3)
        return web.Response(text="late")

    async def moved(_r: web.Request) -> web.Response:
        raise web.HTTPFound("http://example.invalid/")

    async def headers(r: web.Request) -> web.Response:
        return web.Response(status=200 if r.headers.get("X-Probe") == "yes" else 400)

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/bad", bad)
    app.router.add_get("/slow", slow)
    app.router.add_get("/moved", moved)
    app.router.add_get("/headers", headers)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield port
    await runner.cleanup()


@pytest.mark.parametrize(
    ("path", "result", "message"),
    [
        pytest.param("/ok", Result.SUCCESS, "fine", id="200"),
        pytest.param("/bad", Result.FAILURE, "statuscode: 503", id="503"),
        pytest.param("/moved", Result.SUCCESS, "", id="redirect-is-success"),
        pytest.param("/slow", Result.FAILURE, "context deadline exceeded", id="timeout"),
        pytest.param("/headers", Result.SUCCESS, "", id="headers"),
    ],
)
async def test_http_probe(web_server: int, path: str, result: Result, message: str) -> None:
    prober = Prober(FakeRuntime())
    probe = msgspec.convert({"httpGet": {"path": path, "port": "http", "httpHeaders": [
        {"name": "X-Probe", "value": "yes"}]}, "timeoutSeconds": 1}, Probe)
    c = container(ports=[{"name": "http", "containerPort": web_server}])
    outcome = await prober.probe(probe, c, "cid", "127.0.0.1")
    await prober.close()
    assert outcome.result is result and message in outcome.message


async def test_tcp_probe(web_server: int) -> None:
    prober = Prober(FakeRuntime())
    up = msgspec.convert({"tcpSocket": {"port": web_server}, "timeoutSeconds": 1}, Probe)
    down = msgspec.convert({"tcpSocket": {"port": free_port()}, "timeoutSeconds": 1}, Probe)
    assert (await prober.probe(up, container(), "cid", "127.0.0.1")).result is Result.SUCCESS
    failed = await prober.probe(down, container(), "cid", "127.0.0.1")
    assert failed.result is Result.FAILURE and "dial tcp" in failed.message
    unknown_port = msgspec.convert({"tcpSocket": {"port": "nope"}}, Probe)
    assert "unable to find port" in (await prober.probe(unknown_port, container(), "cid", "127.0.0.1")).message
    assert (await prober.probe(up, container(), "cid", "")).result is Result.UNKNOWN


def test_resolve_port() -> None:
    c = container(ports=[{"name": "web", "containerPort": 8080}])
    assert resolve_port(80, c) == 80 and resolve_port("8081", c) == 8081 and resolve_port("web", c) == 8080
    assert resolve_port("nope", c) is None and resolve_port(70000, c) is None
