"""``GrpcClient`` against real etcd: failover across the members of a 3-member cluster when one
is killed (writes go on, a watch resumes on another member without a gap), a dead endpoint in
the list, and a bounded, clear error when nothing answers."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import pytest

from master.store import errors
from master.store.grpcclient import GrpcClient, GrpcClientSettings
from master.store.types import Event, prefix_end
from tests.fixtures.etcd import EtcdServer
from tests.fixtures.ports import free_port

pytestmark = [pytest.mark.etcd]

PREFIX = b"/failover/"


async def test_writes_and_watch_survive_losing_the_current_member(
    etcd_cluster: list[EtcdServer],
) -> None:
    urls = [member.url for member in etcd_cluster]
    settings = GrpcClientSettings(timeout=10.0)
    async with GrpcClient(urls, settings) as client:
        start = (await client.put(b"/failover-start", b"")).header.revision + 1
        stream = client.watch(PREFIX, prefix_end(PREFIX), start_revision=start)
        events: list[Event] = []
        arrived = asyncio.Event()
        n = 120

        async def consume() -> None:
            async for resp in stream:
                events.extend(resp.events)
                arrived.set()

        consumer = asyncio.create_task(consume())
        try:
            for i in range(n):
                # A write that failed may have landed: the retry uses a new key.
                for attempt in range(5):
                    try:
                        await client.put(PREFIX + f"{i:04d}-{attempt}".encode(), b"v")
                        break
                    except errors.UnavailableError:
                        await asyncio.sleep(0.2)
                else:
                    raise AssertionError(f"put {i} failed on every member")
                if i == n // 2:
                    etcd_cluster[0].process.send_signal(signal.SIGKILL)  # the member the client talks to
            resp = await client.range(PREFIX, prefix_end(PREFIX))
            expected = sorted((kv.mod_revision, kv.key) for kv in resp.kvs)

            async def all_seen() -> None:
                while len(events) < len(expected):
                    arrived.clear()
                    await arrived.wait()

            await asyncio.wait_for(all_seen(), 60)
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
            await stream.cancel()
    assert [(ev.kv.mod_revision, ev.kv.key) for ev in events] == expected


async def test_dead_endpoint_in_the_list(etcd_server: EtcdServer) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with GrpcClient([dead, etcd_server.url], GrpcClientSettings(timeout=10.0)) as client:
        await client.put(b"/failover-dead", b"1")
        assert (await client.range(b"/failover-dead")).kvs[0].value == b"1"
        assert (await client.status()).version.startswith("3.4")


async def test_nothing_answers() -> None:
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    async with GrpcClient(urls, GrpcClientSettings(timeout=1.0)) as client:
        with pytest.raises(errors.UnavailableError):
            await client.range(b"a")
        with pytest.raises(errors.UnavailableError):
            await client.put(b"a", b"1")


@pytest.mark.parametrize(
    "endpoint",
    [
        pytest.param("ftp://127.0.0.1:2379", id="scheme"),
        pytest.param("http://127.0.0.1:notaport", id="port"),
        pytest.param("http://:2379", id="no-host"),
    ],
)
def test_bad_endpoints_are_refused(endpoint: str) -> None:
    with pytest.raises(ValueError):
        GrpcClient([endpoint])
