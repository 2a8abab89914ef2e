"""HTTP/1.1 on asyncio streams: the client side of one connection, one exchange at a time.

As much of RFC 9112 as the apiserver, the agents and the kubelet's probes need, and no more::

    conn = await http1.connect("10.77.0.10", 6443, ssl=ctx, server_hostname="10.77.0.10")
    await conn.send(http1.encode_head("GET", "/api/v1/pods?watch=true", host="10.77.0.10:6443"))
    resp = await conn.response("GET", read_timeout=60.0)
    async for data in resp.chunks():         # body bytes as they arrive (a watch, a followed log)
        ...
    conn.close() if not resp.reusable else pool.put(conn)

- A request is a head and an optional body sent with ``Content-Length``.
- A response body is framed by ``Transfer-Encoding: chunked``, by ``Content-Length``, or by
  the end of the connection (then the connection cannot be reused); HEAD, 1xx, 204 and 304
  answers have none. Interim 1xx answers are skipped.
- ``Response.chunks()`` bounds each wait for data by ``read_timeout`` (``TimeoutError``), so a
  silently dead peer (no FIN, no RST) cannot hang a reader.
- The connection can carry another request (keep-alive) once the whole body was read and
  neither side said ``Connection: close``: ``Response.reusable``.

Errors are ``OSError``s: the socket's own, ``ssl.SSLError``, and ``ProtocolError`` for an
answer that breaks HTTP/1.1 or ends early (``ProtocolError.nothing_received``: the peer closed
the connection before a byte of the answer, what a server does to an idle keep-alive
connection).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import ssl as _ssl
from collections.abc import AsyncIterator, Awaitable, Iterable
from urllib.parse import quote

__all__ = ["Connection", "ProtocolError", "Response", "connect", "encode_head", "request_target"]

MAX_HEAD = 64 << 10  # bytes of status line and headers together
MAX_HEADERS = 100
_READ = 64 << 10
_STREAM_LIMIT = 256 << 10
# What may stay as is in a request target (RFC 3986 pchar, "/" and "?", and "%" of escapes).
_PATH_SAFE = "/:@!$&'()*+,;=%~"
_QUERY_SAFE = _PATH_SAFE + "?"


class ProtocolError(builtins.ConnectionError):
    """The peer broke HTTP/1.1 (a bad status line or framing) or closed mid-answer."""

    def __init__(self, message: str, *, nothing_received: bool = False) -> None:
        super().__init__(message)
        self.nothing_received = nothing_received

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def request_target(path: str, query: str = "") -> str:
    """``/api/v1/namespaces/a b/pods`` + ``watch=1`` -> ``/api/v1/namespaces/a%20b/pods?watch=1``.

    Characters a request line cannot carry are percent-encoded; existing escapes are kept.
    """
    path, sep, raw_query = path.partition("?")
    target = quote(path or "/", safe=_PATH_SAFE)
    parts = [quote(raw_query, safe=_QUERY_SAFE)] if sep and raw_query else []
    if query:
        parts.append(query)
    return f"{target}?{'&'.join(parts)}" if parts else target


def encode_head(method: str, target: str, *, host: str, headers: Iterable[tuple[str, str]] = (),
                content_length: int | None = None) -> bytes:
    """The request line and headers, ending with the blank line. ``ValueError`` for a header
    that would break the message (a line break in a name or value)."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    for name, value in headers:
        if any(c in name for c in "\r\n:") or "\r" in value or "\n" in value:
            raise ValueError(f"header {name!r} holds a line break or colon")
        lines.append(f"{name}: {value}")
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1")


async def connect(host: str, port: int, *, ssl: _ssl.SSLContext | None = None,
                  server_hostname: str | None = None) -> Connection:
    """A TCP (and TLS, with ``ssl``) connection. Bound the wait with ``asyncio.timeout``."""
    if ssl is None:
        reader, writer = await asyncio.open_connection(host, port, limit=_STREAM_LIMIT)
    else:
        reader, writer = await asyncio.open_connection(host, port, limit=_STREAM_LIMIT, ssl=ssl,
                                                       server_hostname=server_hostname or host)
    return Connection(reader, writer)


class Connection:
    """One open connection. ``exchanges`` counts the responses read on it (0: fresh)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.exchanges = 0
        self.idle_since = 0.0

    @property
    def closed(self) -> bool:
        return self.writer.is_closing()

    def usable(self) -> bool:
        """Still open (an idle connection the server closed has seen EOF by now)."""
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        if not self.writer.is_closing():
            with contextlib.suppress(RuntimeError):  # its event loop is closed: so is the socket
                self.writer.close()

    def abort(self) -> None:
        """Drop the connection at once (no TLS close_notify): its state is unknown."""
        transport = self.writer.transport
        if not transport.is_closing():
            with contextlib.suppress(RuntimeError):
                transport.abort()

    async def send(self, head: bytes, body: bytes | None = None) -> None:
        self.writer.write(head + body if body else head)
        await self.writer.drain()

    async def response(self, method: str, *, read_timeout: float | None = None) -> Response:
        """The answer's status line and headers (interim 1xx skipped); the body stays to be read."""
        first = True
        while True:
            status, reason, headers, version = await self._head(first=first)
            first = False
            if 100 <= status < 200 and status != 101:
                continue
            self.exchanges += 1
            return Response(self, method, status, reason, headers, version, read_timeout=read_timeout)

    async def _head(self, *, first: bool) -> tuple[int, str, dict[str, str], str]:
        size = 0
        lines: list[str] = []
        while True:
            try:
                raw = await self.reader.readuntil(b"\n")
            except asyncio.IncompleteReadError as exc:
                nothing = first and not lines and not exc.partial
                raise ProtocolError("the server closed the connection before it answered"
                                    if nothing else "the server closed the connection in the middle of its answer",
                                    nothing_received=nothing) from None
            except asyncio.LimitOverrunError:
                raise ProtocolError(f"the server's answer has a header line longer than {_STREAM_LIMIT} bytes") from None
            size += len(raw)
            if size > MAX_HEAD or len(lines) > MAX_HEADERS:
                raise ProtocolError(f"the server's answer has a head larger than {MAX_HEAD} bytes or "
                                    f"{MAX_HEADERS} headers")
            line = raw.rstrip(b"\r\n").decode("latin-1")
            if not line:
                if lines:
                    break
                continue  # tolerate a stray blank line before the status line
            lines.append(line)
        version, _, rest = lines[0].partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise ProtocolError(f"the server did not answer in HTTP/1.1: {lines[0][:80]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon or not name or name != name.strip():
                raise ProtocolError(f"the server sent a malformed header line: {line[:80]!r}")
            key = name.lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return int(code), reason, headers, version


class Response:
    """An answer whose body is still on the connection. Read it once: ``read()`` or ``chunks()``.

    ``headers`` has lower-case names (repeated headers joined with ``", "``).
    """

    def __init__(self, conn: Connection, method: str, status: int, reason: str, headers: dict[str, str],
                 version: str, *, read_timeout: float | None) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.read_timeout = read_timeout
        self._conn = conn
        self._length: int | None = None
        self._chunked = False
        self._to_eof = False
        self.complete = False
        connection = headers.get("connection", "").lower()
        self._keep_alive = ("close" not in connection) if version == "HTTP/1.1" else ("keep-alive" in connection)
        encoding = headers.get("transfer-encoding", "").lower()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            self.complete = True
        elif encoding:
            if encoding.rsplit(",", 1)[-1].strip() != "chunked":
                raise ProtocolError(f"the server sent a body framed as {encoding!r}, not chunked")
            self._chunked = True
        elif "content-length" in headers:
            text = headers["content-length"]
            if not text.isdigit():
                raise ProtocolError(f"the server sent a bad Content-Length {text[:40]!r}")
            self._length = int(text)
            self.complete = self._length == 0
        else:
            self._to_eof = True
            self._keep_alive = False

    @property
    def reusable(self) -> bool:
        """The body was read to its end and the connection may carry another request."""
        return self.complete and self._keep_alive and not self._conn.closed

    async def _within(self, aw: Awaitable[bytes]) -> bytes:
        async with asyncio.timeout(self.read_timeout):
            return await aw

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body, piece by piece as it arrives; ends at the body's end."""
        reader = self._conn.reader
        try:
            if self._chunked:
                async for data in self._chunked_body(reader):
                    yield data
            elif self._length is not None:
                remaining = self._length
                while remaining > 0:
                    data = await self._within(reader.read(min(remaining, _READ)))
                    if not data:
                        raise ProtocolError(f"the server closed the connection {remaining} bytes short "
                                            "of the Content-Length it announced")
                    remaining -= len(data)
                    yield data
            elif self._to_eof:
                while data := await self._within(reader.read(_READ)):
                    yield data
        except asyncio.IncompleteReadError:
            raise ProtocolError("the server closed the connection in the middle of a chunked body") from None
        except asyncio.LimitOverrunError:
            raise ProtocolError("the server sent a chunk-size line that is too long") from None
        self.complete = True

    async def _chunked_body(self, reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
        while True:
            line = await self._within(reader.readuntil(b"\n"))
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError(f"the server sent a bad chunk size {size_text[:20]!r}") from None
            if size < 0:
                raise ProtocolError(f"the server sent a bad chunk size {size_text[:20]!r}")
            if size == 0:
                while (await self._within(reader.readuntil(b"\n"))).strip():
                    pass  # trailer fields: nothing we use
                return
            remaining = size
            while remaining > 0:
                data = await self._within(reader.read(min(remaining, _READ)))
                if not data:
                    raise ProtocolError("the server closed the connection in the middle of a chunk")
                remaining -= len(data)
                yield data
            if (await self._within(reader.readuntil(b"\n"))).strip():
                raise ProtocolError("the server sent a chunk longer than its size line said")

    async def read(self) -> bytes:
        """The whole body."""
        if self.complete:
            return b""
        if self._length is not None:
            try:
                data = await self._within(self._conn.reader.readexactly(self._length))
            except asyncio.IncompleteReadError as exc:
                raise ProtocolError(f"the server closed the connection {self._length - len(exc.partial)} bytes "
                                    "short of the Content-Length it announced") from None
            self.complete = True
            return data
        return b"".join([data async for data in self.chunks()])
