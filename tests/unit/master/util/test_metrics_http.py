"""master.util.metrics_http: /metrics and /healthz on asyncio streams, and bad requests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry, Counter

from master.util import metrics_http


@pytest.fixture
async def port() -> AsyncIterator[int]:
    registry = CollectorRegistry()
    Counter("picluster_test_things", "Things.", registry=registry).inc(3)
    server = await metrics_http.serve("127.0.0.1", 0, registry)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


async def _exchange(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


async def test_metrics_and_healthz(port: int) -> None:
    resp = await _exchange(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
    head, body = resp.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Type: text/plain; version=" in head
    assert f"Content-Length: {len(body)}".encode() in head
    assert b"picluster_test_things_total 3.0" in body
    assert (await _exchange(port, b"GET /healthz?verbose HTTP/1.0\r\n\r\n")).endswith(b"\r\n\r\nok")
    head_only = await _exchange(port, b"HEAD /metrics HTTP/1.1\r\n\r\n")
    assert head_only.startswith(b"HTTP/1.1 200 OK") and head_only.endswith(b"\r\n\r\n")


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        pytest.param(b"POST /metrics HTTP/1.1\r\n\r\n", b"405", id="post"),
        pytest.param(b"GET /nope HTTP/1.1\r\n\r\n", b"404", id="unknown-path"),
        pytest.param(b"\x16\x03\x01garbage\r\n\r\n", b"400", id="tls-hello"),
        pytest.param(b"GET /metrics\r\n\r\n", b"400", id="http-0.9"),
    ],
)
async def test_bad_requests_get_a_status(port: int, request_bytes: bytes, status: bytes) -> None:
    resp = await _exchange(port, request_bytes)
    assert resp.split(b" ", 2)[1] == status


async def test_oversized_or_unfinished_heads_are_closed(port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    assert await _exchange(port, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 20_000 + b"\r\n\r\n") == b""
    monkeypatch.setattr(metrics_http, "READ_TIMEOUT", 0.1)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /metrics HTTP/1.1\r\n")  # never finished
        assert await asyncio.wait_for(reader.read(), 10) == b""
    finally:
        writer.close()
