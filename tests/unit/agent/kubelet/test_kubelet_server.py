"""The agent's HTTPS server: who may read logs, parameters, errors; the serving identity."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import CollectorRegistry, Counter

from agent.kubelet import logs
from agent.kubelet.certs import serving_context
from agent.kubelet.server import LogRequest, NotFoundError, Server, ServerSettings
from master.util import pki


@dataclass
class Setup:
    base: str
    ca: pki.CertKey
    tmp: Path
    requests: list[LogRequest]

    def client(self, user: str | None, groups: tuple[str, ...] = ()) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cadata=self.ca.cert_pem.decode())
        ctx.check_hostname = False
        if user is not None:
            pair = pki.client_cert(self.ca, user, groups=list(groups))
            cert, key = self.tmp / f"{user}.crt", self.tmp / f"{user}.key"
            pki.write_cert_key(pair, cert, key)
            ctx.load_cert_chain(cert, key)
        return ctx

    async def get(self, path: str, ctx: ssl.SSLContext) -> tuple[int, str]:
        async with aiohttp.ClientSession() as s, s.get(self.base + path, ssl=ctx) as resp:
            return resp.status, await resp.text()


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    ca = pki.create_ca("test-ca")
    certs = tmp_path / "pki"
    pair = pki.serving_cert(ca, "pi-1", ["pi-1", "127.0.0.1"])
    pki.write_cert_key(pair, certs / "kubelet.crt", certs / "kubelet.key")
    ctx, identity = serving_context(certs, node_name="pi-1", node_ip="127.0.0.1", client_ca=ca.cert_pem)
    assert not identity.self_signed
    log = tmp_path / "0.log"
    log.write_text("2025-01-01T00:00:01Z stdout F hello\n2025-01-01T00:00:02Z stdout F world\n")
    registry = CollectorRegistry()
    Counter("picluster_test_total", "a test counter", registry=registry).inc()
    requests: list[LogRequest] = []

    async def stream(req: LogRequest) -> AsyncIterator[bytes]:
        requests.append(req)
        if req.pod != "web":
            raise NotFoundError(f'pod "{req.pod}" in namespace "{req.namespace}" not found on this node')
        if req.container == "waiting":
            raise ValueError('container "waiting" in pod "web" is waiting to start: ContainerCreating')
        return logs.read(log, req.options)

    async def resource() -> bytes:
        return b"node_cpu_usage_seconds_total 1.5 1000\n"

    server = Server(ServerSettings(address="127.0.0.1", port=0), ssl_context=ctx, registry=registry, logs=stream,
                    pods=lambda: b'{"kind":"PodList","apiVersion":"v1","items":[]}', clock_time=lambda: 1e9,
                    resource_metrics=resource)
    await server.start()
    try:
        yield Setup(f"https://127.0.0.1:{server.port}", ca, tmp_path, requests)
    finally:
        await server.stop()


async def test_health_and_metrics_need_no_client_certificate(setup: Setup) -> None:
    anonymous = setup.client(None)
    assert await setup.get("/healthz", anonymous) == (200, "ok")
    status, text = await setup.get("/metrics", anonymous)
    assert status == 200 and "picluster_test_total 1.0" in text


@pytest.mark.parametrize(
    ("user", "groups", "status"),
    [
        pytest.param(None, (), 401, id="no-certificate"),
        pytest.param("system:node:pi-2", ("system:nodes",), 403, id="another-node"),
        pytest.param("kube-apiserver-kubelet-client", (), 200, id="apiserver"),
        pytest.param("admin", ("system:masters",), 200, id="cluster-admin"),
    ],
)
async def test_only_the_apiserver_and_admins_read_logs(setup: Setup, user: str | None, groups: tuple[str, ...],
                                                       status: int) -> None:
    got, text = await setup.get("/containerLogs/default/web/app", setup.client(user, groups))
    assert got == status
    if status == 200:
        assert text == "hello\nworld\n"


async def test_log_parameters_are_passed_on(setup: Setup) -> None:
    ctx = setup.client("kube-apiserver-kubelet-client")
    status, text = await setup.get("/containerLogs/default/web/app?tailLines=1&timestamps=true&previous=true", ctx)
    assert (status, text) == (200, "2025-01-01T00:00:02Z world\n")
    req = setup.requests[-1]
    assert req.previous and req.options.tail_lines == 1 and req.options.timestamps and not req.options.follow
    status, text = await setup.get("/containerLogs/default/web/app?limitBytes=3", ctx)
    assert (status, text) == (200, "hel")


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        pytest.param("/containerLogs/default/nope/app", 404, 'pod "nope" in namespace "default" not found', id="pod"),
        pytest.param("/containerLogs/default/web/waiting", 400, "is waiting to start", id="waiting"),
        pytest.param("/containerLogs/default/web/app?tailLines=x", 400, "want an integer", id="tail"),
        pytest.param("/containerLogs/default/web/app?tailLines=-1", 400, "must not be negative", id="negative"),
        pytest.param("/containerLogs/default/web/app?follow=maybe", 400, "want true or false", id="follow"),
        pytest.param("/containerLogs/default/web", 404, "", id="short-path"),
    ],
)
async def test_bad_requests_get_one_line(setup: Setup, path: str, status: int, message: str) -> None:
    got, text = await setup.get(path, setup.client("kube-apiserver-kubelet-client"))
    assert got == status and message in text and "Traceback" not in text


async def test_pods_endpoint(setup: Setup) -> None:
    status, text = await setup.get("/pods", setup.client("admin", ("system:masters",)))
    assert status == 200 and '"kind":"PodList"' in text


async def test_resource_metrics_are_for_the_apiserver(setup: Setup) -> None:
    assert (await setup.get("/metrics/resource", setup.client(None)))[0] == 401
    status, text = await setup.get("/metrics/resource", setup.client("kube-apiserver-kubelet-client"))
    assert (status, text) == (200, "node_cpu_usage_seconds_total 1.5 1000\n")


async def raw(setup: Setup, data: bytes, ctx: ssl.SSLContext) -> bytes:
    """Send bytes as they are; everything the server answers until it closes."""
    port = int(setup.base.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("data", "answer"),
    [
        pytest.param(b"GARBAGE\r\n\r\n", b"HTTP/1.1 400 Bad Request", id="request-line"),
        pytest.param(b"GET /healthz HTTP/1.1\r\nbroken\r\n\r\n", b"HTTP/1.1 400 Bad Request", id="header"),
        pytest.param(b"POST /healthz HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", b"HTTP/1.1 413", id="body"),
        pytest.param(b"GET /healthz HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n", b"HTTP/1.1 431", id="big-head"),
        pytest.param(b"DELETE /pods HTTP/1.1\r\nConnection: close\r\n\r\n", b"HTTP/1.1 405", id="method"),
        pytest.param(b"GET /nothing/here HTTP/1.1\r\nConnection: close\r\n\r\n", b"HTTP/1.1 404", id="path"),
    ],
)
async def test_bad_http_gets_an_answer_not_a_traceback(setup: Setup, data: bytes, answer: bytes) -> None:
    got = await raw(setup, data, setup.client(None))
    assert got.startswith(answer) and b"Traceback" not in got


async def test_keep_alive_and_head(setup: Setup) -> None:
    got = await raw(setup, b"GET /healthz HTTP/1.1\r\n\r\nHEAD /healthz HTTP/1.1\r\n\r\n"
                           b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", setup.client(None))
    assert got.count(b"HTTP/1.1 200 OK") == 3
    assert got.count(b"\r\n\r\nok") == 2  # HEAD has no body


async def test_followed_logs_arrive_chunk_by_chunk(tmp_path: Path) -> None:
    more = asyncio.Event()

    async def stream(_req: LogRequest) -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first\n"
            await more.wait()
            yield b"second\n"
        return chunks()

    server = Server(ServerSettings(address="127.0.0.1", port=0, require_client_cert=False), ssl_context=None,
                    registry=CollectorRegistry(), logs=stream, pods=lambda: b"", clock_time=lambda: 0.0)
    await server.start()
    try:
        async with aiohttp.ClientSession() as s, \
                s.get(f"http://127.0.0.1:{server.port}/containerLogs/ns/p/c?follow=true") as resp:
            assert resp.status == 200
            assert await resp.content.readline() == b"first\n"
            more.set()
            assert await resp.content.read() == b"second\n"
    finally:
        await server.stop()


def test_self_signed_identity_is_made_once(tmp_path: Path) -> None:
    _ctx, first = serving_context(tmp_path / "pki", node_name="pi-9", node_ip="10.0.0.9")
    assert first.self_signed and (tmp_path / "pki" / "kubelet.crt").exists()
    before = (tmp_path / "pki" / "kubelet.crt").read_bytes()
    _ctx, second = serving_context(tmp_path / "pki", node_name="pi-9", node_ip="10.0.0.9")
    assert second.self_signed and (tmp_path / "pki" / "kubelet.crt").read_bytes() == before
