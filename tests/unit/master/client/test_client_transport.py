"""The transport and its HTTP/1.1 wire (master/client/transport.py, http1.py) against a scripted
raw asyncio server: framing, keep-alive, retries, streaming, timeouts, the pool, bad answers."""

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from master.client import errors, http1
from master.client import transport as transport_module
from master.client.config import ClientConfig
from master.client.transport import Transport, lines
from tests.fixtures.ports import free_port

StatusOK = b"HTTP/1.1 200 OK\r\n"


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Request, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]


@dataclass
class Scripted:
    """A raw HTTP/1.1 server: ``handler`` answers each request; returning False closes the
    connection. Counts connections and requests; ``open_now``/``most_open`` track concurrency."""

    handler: Handler
    url: str = ""
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    requests: list[Request] = field(default_factory=list)
    server: asyncio.Server | None = None
    writers: set[asyncio.StreamWriter] = field(default_factory=set)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        self.writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                first, *rest = head.decode("latin-1").split("\r\n")
                method, target, _ = first.split(" ")
                headers = {}
                for line in rest:
                    if line:
                        k, _, v = line.partition(":")
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                req = Request(method, target, headers, body)
                self.requests.append(req)
                if not await self.handler(req, reader, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open_now -= 1
            self.writers.discard(writer)
            writer.close()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        for w in list(self.writers):
            w.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[[Handler], Awaitable[Scripted]]]:
    servers: list[Scripted] = []

    async def make(handler: Handler) -> Scripted:
        s = Scripted(handler)
        await s.start()
        servers.append(s)
        return s

    yield make
    for s in servers:
        await s.stop()


def respond(body: bytes, *, status: bytes = StatusOK, extra: bytes = b"") -> bytes:
    return status + b"Content-Length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body


async def ok_json(req: Request, _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
    w.write(respond(b'{"ok":true}'))
    await w.drain()
    return True


def transport(server: Scripted, **kw: object) -> Transport:
    return Transport(ClientConfig(server=server.url, **kw))  # type: ignore[arg-type]


async def test_request_head_and_keep_alive(scripted: Callable[[Handler], Awaitable[Scripted]]) -> None:
    server = await scripted(ok_json)
    tr = Transport(ClientConfig(server=server.url + "/prefix/", token="t0k", user_agent="ua/1"))
    try:
        for _ in range(3):
            assert await tr.request("GET", "/api/v1/namespaces/a b/pods",
                                    params=[("labelSelector", "app in (x, y),tier!=db")]) == b'{"ok":true}'
        await tr.request("POST", "/api/v1/pods", body=b"{}")
    finally:
        await tr.close()
    assert server.connections == 1  # one keep-alive connection for all four
    req = server.requests[0]
    assert req.target == "/prefix/api/v1/namespaces/a%20b/pods?labelSelector=app+in+%28x%2C+y%29%2Ctier%21%3Ddb"
    assert req.headers["host"] == server.url.removeprefix("http://")
    assert req.headers["authorization"] == "Bearer t0k"
    assert req.headers["user-agent"] == "ua/1"
    assert req.headers["accept"] == "application/json"
    post = server.requests[3]
    assert (post.method, post.body, post.headers["content-type"]) == ("POST", b"{}", "application/json")


@pytest.mark.parametrize(
    ("answer", "body"),
    [
        pytest.param(StatusOK + b"Transfer-Encoding: chunked\r\n\r\n"
                     b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: y\r\n\r\n", b"hello world", id="chunked"),
        pytest.param(b"HTTP/1.1 100 Continue\r\n\r\n" + respond(b"after 100"), b"after 100", id="interim-100"),
        pytest.param(b"HTTP/1.1 204 No Content\r\n\r\n", b"", id="no-content"),
        pytest.param(StatusOK + b"Content-Length: 0\r\n\r\n", b"", id="empty"),
        pytest.param(StatusOK + b"Content-Length: 4\nX-Bare-LF: 1\n\nbody", b"body", id="bare-lf"),
    ],
)
async def test_response_framing(scripted: Callable[[Handler], Awaitable[Scripted]], answer: bytes,
                                body: bytes) -> None:
    async def handler(_req: Request, _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
        w.write(answer)
        await w.drain()
        return True

    server = await scripted(handler)
    tr = transport(server)
    try:
        assert await tr.request("GET", "/x") == body
        assert await tr.request("GET", "/x") == body
    finally:
        await tr.close()
    assert server.connections == 1


async def test_body_to_the_end_of_the_connection(scripted: Callable[[Handler], Awaitable[Scripted]]) -> None:
    async def handler(_req: Request, _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
        w.write(StatusOK + b"Connection: close\r\n\r\nuntil the end")
        await w.drain()
        return False

    server = await scripted(handler)
    tr = transport(server)
    try:
        assert await tr.request("GET", "/x") == b"until the end"
        assert await tr.request("GET", "/x") == b"until the end"
    finally:
        await tr.close()
    assert server.connections == 2  # not reusable


async def test_an_idle_connection_the_server_closed_is_not_a_failure(
    scripted: Callable[[Handler], Awaitable[Scripted]],
) -> None:
    """The server drops keep-alive connections after each answer without saying so; a POST on
    the next (stale) connection is sent again on a fresh one."""

    async def handler(_req: Request, _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
        w.write(respond(b"fine"))
        await w.drain()
        return False

    server = await scripted(handler)
    tr = transport(server, retries=0)
    try:
        for _ in range(3):
            assert await tr.request("POST", "/x", body=b"1") == b"fine"
    finally:
        await tr.close()
    assert len(server.requests) == 3


async def test_a_post_lost_mid_request_is_not_retried(scripted: Callable[[Handler], Awaitable[Scripted]]) -> None:
    async def handler(_req: Request, _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
        w.write(StatusOK + b"Content-Length: 10\r\n\r\nhalf")
        await w.drain()
        return False

    server = await scripted(handler)
    tr = transport(server, retries=3)
    try:
        with pytest.raises(errors.ConnectionError, match=r"Unable to connect to the server 127\.0\.0\.1:\d+: "
                                                         r"the server closed the connection 6 bytes short"):
            await tr.request("POST", "/x", body=b"1")
        assert len(server.requests) == 1
        with pytest.raises(errors.ConnectionError):
            await tr.request("GET", "/x")
        assert len(server.requests) == 5  # GET: the first try and three retries
    finally:
        await tr.close()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        pytest.param(b"SSH-2.0-OpenSSH\r\n\r\n", "did not answer in HTTP/1.1", id="not-http"),
        pytest.param(b"HTTP/1.1 2000 OK\r\n\r\n", "did not answer in HTTP/1.1", id="bad-code"),
        pytest.param(StatusOK + b"no colon here\r\n\r\n", "malformed header line", id="bad-header"),
        pytest.param(StatusOK + b"Content-Length: -1\r\n\r\n", "bad Content-Length", id="bad-length"),
        pytest.param(StatusOK + b"Transfer-Encoding: gzip\r\n\r\n", "not chunked", id="bad-coding"),
        pytest.param(StatusOK + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size", id="bad-chunk"),
        pytest.param(StatusOK + b"Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", "longer than its size",
                     id="long-chunk"),
        pytest.param(StatusOK + b"X-Big: " + b"a" * 70_000 + b"\r\n\r\n", "larger than", id="big-head"),
        pytest.param(StatusOK + b"Transfer-Encoding: chunked\r\n\r\n5\r\nab", "in the middle of a chunk",
                     id="cut-chunk"),
    ],
)
async def test_bad_answers_are_connection_errors(scripted: Callable[[Handler], Awaitable[Scripted]],
                                                 answer: bytes, message: str) -> None:
    async def handler(_req: Request, _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
        w.write(answer)
        await w.drain()
        return False

    server = await scripted(handler)
    tr = transport(server, retries=0)
    try:
        with pytest.raises(errors.ConnectionError, match=re.escape(message)):
            await tr.request("GET", "/x")
    finally:
        await tr.close()


async def test_error_status_and_retry_after_headers(scripted: Callable[[Handler], Awaitable[Scripted]]) -> None:
    answers = [
        respond(b'{"kind":"Status","code":429,"reason":"TooManyRequests","message":"slow"}',
                status=b"HTTP/1.1 429 Too Many Requests\r\n", extra=b"Retry-After: 0\r\n"),
        respond(b"<html>gateway</html>", status=b"HTTP/1.1 502 Bad Gateway\r\n"),
    ]

    async def handler(_req: Request, _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
        w.write(answers.pop(0) if answers else respond(b"{}"))
        await w.drain()
        return True

    server = await scripted(handler)
    tr = transport(server)
    try:
        with pytest.raises(errors.ApiError, match=r"status code 502 \(<html>gateway</html>\)") as info:
            await tr.request("GET", "/x")
        assert info.value.code == 502
        assert len(server.requests) == 2  # the 429 was retried after Retry-After
    finally:
        await tr.close()


async def test_streaming_chunks_arrive_as_sent(scripted: Callable[[Handler], Awaitable[Scripted]]) -> None:
    go_on = asyncio.Event()

    async def handler(_req: Request, _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
        w.write(StatusOK + b"Transfer-Encoding: chunked\r\n\r\n")
        w.write(b"6\r\n{\"a\":1\r\n2\r\n}\n\r\n")
        await w.drain()
        await go_on.wait()
        w.write(b"8\r\n{\"b\":2}\n\r\n0\r\n\r\n")
        await w.drain()
        return True

    server = await scripted(handler)
    tr = transport(server)
    try:
        async with tr.stream("GET", "/watch", read_timeout=30) as resp:
            it = lines(resp)
            assert await anext(it) == b'{"a":1}'  # before the server sends the rest
            go_on.set()
            assert [line async for line in it] == [b'{"b":2}']
        async with tr.stream("GET", "/watch") as resp:  # the finished stream's connection is reused
            assert resp.status == 200
            assert b"".join([c async for c in resp.chunks()]) == b'{"a":1}\n{"b":2}\n'
    finally:
        await tr.close()
    assert server.connections == 1


async def test_a_silent_stream_times_out_and_an_error_stream_raises(
    scripted: Callable[[Handler], Awaitable[Scripted]],
) -> None:
    async def handler(req: Request, _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
        if req.target == "/missing":
            w.write(respond(b'{"kind":"Status","code":404,"reason":"NotFound","message":"no such thing"}',
                            status=b"HTTP/1.1 404 Not Found\r\n"))
        else:
            w.write(StatusOK + b"Transfer-Encoding: chunked\r\n\r\n")
        await w.drain()
        return True

    server = await scripted(handler)
    tr = transport(server)
    try:
        async with tr.stream("GET", "/silent", read_timeout=0.2) as resp:
            with pytest.raises(TimeoutError):
                await anext(resp.chunks())
        with pytest.raises(errors.NotFound, match="no such thing"):
            async with tr.stream("GET", "/missing"):
                pass
    finally:
        await tr.close()


async def test_close_ends_open_streams(scripted: Callable[[Handler], Awaitable[Scripted]]) -> None:
    async def handler(_req: Request, _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
        w.write(StatusOK + b"Transfer-Encoding: chunked\r\n\r\n")
        await w.drain()
        await asyncio.sleep(30)
        return False

    server = await scripted(handler)
    tr = transport(server)
    async with tr.stream("GET", "/watch") as resp:
        reading = asyncio.create_task(anext(resp.chunks()))
        await asyncio.sleep(0.05)
        await tr.close()  # what use_credentials does with a rotated certificate
        with pytest.raises(OSError):
            await asyncio.wait_for(reading, 10)


async def test_the_pool_caps_connections(scripted: Callable[[Handler], Awaitable[Scripted]]) -> None:
    async def handler(_req: Request, _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.02)
        w.write(respond(b"x"))
        await w.drain()
        return True

    server = await scripted(handler)
    tr = Transport(ClientConfig(server=server.url), pool_size=2)
    try:
        assert await asyncio.gather(*(tr.request("GET", f"/{i}") for i in range(10))) == [b"x"] * 10
    finally:
        await tr.close()
    assert server.most_open <= 2
    assert len(server.requests) == 10


async def test_cancelled_requests_do_not_leak_connections(scripted: Callable[[Handler], Awaitable[Scripted]]) -> None:
    async def handler(req: Request, _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
        if req.target == "/slow":
            await asyncio.sleep(30)
        w.write(respond(b"x"))
        await w.drain()
        return True

    server = await scripted(handler)
    tr = Transport(ClientConfig(server=server.url), pool_size=1)
    try:
        slow = asyncio.create_task(tr.request("GET", "/slow"))
        await asyncio.sleep(0.05)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        assert await asyncio.wait_for(tr.request("GET", "/fast"), 10) == b"x"  # the only slot came back
    finally:
        await tr.close()


async def test_connect_timeout_and_refused() -> None:
    port = free_port()
    tr = Transport(ClientConfig(server=f"http://127.0.0.1:{port}", retries=0))
    with pytest.raises(errors.ConnectionError, match="was refused"):
        await tr.request("GET", "/x")
    await tr.close()


def test_a_transport_survives_a_new_event_loop() -> None:
    """``asyncio.run`` twice with one transport: the first loop's pooled connection is dropped."""
    tr = Transport(ClientConfig(server="http://127.0.0.1:1"))

    async def once() -> None:
        server = Scripted(ok_json)
        await server.start()
        try:
            tr._configure(ClientConfig(server=server.url))
            assert await tr.request("GET", "/x") == b'{"ok":true}'
        finally:
            await server.stop()

    asyncio.run(once())
    asyncio.run(once())
    asyncio.run(tr.close())


@pytest.mark.parametrize(
    ("path", "query", "target"),
    [
        pytest.param("/api/v1/pods", "", "/api/v1/pods", id="plain"),
        pytest.param("", "", "/", id="empty"),
        pytest.param("/a b/ü", "x=1", "/a%20b/%C3%BC?x=1", id="escaped"),
        pytest.param("/version?x=%2F", "y=2", "/version?x=%2F&y=2", id="query-in-path"),
    ],
)
def test_request_target(path: str, query: str, target: str) -> None:
    assert http1.request_target(path, query) == target


def test_header_injection_is_refused() -> None:
    with pytest.raises(errors.ConfigError, match="line break"):
        Transport(ClientConfig(server="https://h:1", token="a\r\nX-Evil: 1"))
    with pytest.raises(ValueError, match="line break"):
        http1.encode_head("GET", "/", host="h", headers=[("Accept", "a\nb")])


async def test_streams_do_not_take_request_slots(scripted: Callable[[Handler], Awaitable[Scripted]]) -> None:
    async def handler(req: Request, _r: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
        if req.target == "/watch":
            w.write(StatusOK + b"Transfer-Encoding: chunked\r\n\r\n")
            await w.drain()
            await asyncio.sleep(30)
            return False
        w.write(respond(b"x"))
        await w.drain()
        return True

    server = await scripted(handler)
    tr = Transport(ClientConfig(server=server.url), pool_size=1)
    try:
        async with tr.stream("GET", "/watch"), tr.stream("GET", "/watch"):
            assert await asyncio.wait_for(tr.request("GET", "/x"), 10) == b"x"
    finally:
        await tr.close()


async def test_idle_connections_are_closed_after_the_keepalive(
    scripted: Callable[[Handler], Awaitable[Scripted]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transport_module, "KEEPALIVE", 0.2)
    server = await scripted(ok_json)
    tr = transport(server)
    try:
        await asyncio.gather(*(tr.request("GET", "/x") for _ in range(3)))
        assert server.open_now >= 1
        for _ in range(100):
            if server.open_now == 0:
                break
            await asyncio.sleep(0.05)
        assert server.open_now == 0  # closed by the sweeper, no request needed
        assert await tr.request("GET", "/x") == b'{"ok":true}'
    finally:
        await tr.close()
