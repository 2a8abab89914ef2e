"""HTTP to one apiserver: a keep-alive connection pool, TLS, auth headers, retries, error mapping.

The wire is ``http1`` (HTTP/1.1 on asyncio streams; no proxies). ``Transport.request`` returns
the body of a 2xx response or raises from ``errors``:

- a Status body with code >= 400 becomes the matching ``errors.ApiError`` subclass;
- a connection failure becomes ``errors.ConnectionError`` with kubectl's wording, after
  ``ClientConfig.retries`` retries (backoff 0.1 s, 0.2 s, 0.4 s ...). A failed *connect* is
  retried for every verb (nothing was sent), TLS failures never; a connection lost
  mid-request only for idempotent verbs (GET, HEAD, PUT, DELETE), or for any verb when a
  reused keep-alive connection turns out to have been closed by the server before it read a
  byte of ours (Go's client does the same);
- 429 and 5xx answers with ``Retry-After`` are retried (up to ``MAX_RETRY_AFTER`` times,
  sleeping at most 10 s each), as client-go does: the server did not process them;
- no answer within ``ClientConfig.timeout`` (or ``request_timeout``) for one attempt, connect
  included, is ``errors.Timeout``.

``Transport.stream`` opens a streaming response (watch, follow logs) with no total timeout:
the connect is bounded by ``connect_timeout``, the answer's head by ``read_timeout`` (else
``timeout``), and each later read by ``read_timeout``. Its body (``http1.Response.chunks()``,
or ``lines()``) raises ``TimeoutError`` when a read times out and ``OSError`` when the
connection fails; ``Transport.connection_error`` words the latter.

The pool: at most ``pool_size`` requests at once (others wait for a connection); streams
(watches, followed logs) are long-lived and take connections outside that cap. Idle
connections are reused most recent first, checked before reuse, and closed after ``KEEPALIVE``
seconds (the apiserver keeps them longer, so it rarely closes one first).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import ssl
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from urllib.parse import urlencode, urlsplit

import msgspec

from master.api import meta
from master.client import errors, http1
from master.client.config import ClientConfig
from master.util.clock import Clock, RealClock

__all__ = ["KEEPALIVE", "MAX_RETRY_AFTER", "Params", "Transport", "lines"]

MAX_RETRY_AFTER = 10
KEEPALIVE = 30.0
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_STATUS_DECODER = msgspec.json.Decoder(meta.Status)

Params = Sequence[tuple[str, str]] | Mapping[str, str] | None


class _ConnectFailed(Exception):
    """Internal: connecting failed (``__cause__`` says why); nothing of the request was sent."""


class Transport:
    def __init__(self, config: ClientConfig, *, clock: Clock | None = None, pool_size: int = 100) -> None:
        self.clock = clock or RealClock()
        self._pool_size = max(1, pool_size)
        self._idle: list[http1.Connection] = []  # oldest first
        self._busy: dict[http1.Connection, bool] = {}  # connection -> whether it holds a request slot
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._configure(config)

    def _configure(self, config: ClientConfig) -> None:
        self.config = config
        self._ssl: ssl.SSLContext | None = config.ssl_context()
        parts = urlsplit(config.server)
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._authority = parts.netloc.rpartition("@")[2]
        self._prefix = parts.path.rstrip("/")
        headers = [("User-Agent", config.user_agent)]
        if config.token:
            headers.append(("Authorization", f"Bearer {config.token}"))
        for name, value in headers:
            if "\r" in value or "\n" in value:
                raise errors.ConfigError(f"the {name} header would hold a line break (check the token)")
        self._headers = headers

    async def close(self) -> None:
        """Close every connection, streams in use included; the transport stays usable."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for conn in self._idle:
            conn.close()
        self._idle.clear()
        for conn in self._busy:
            conn.abort()

    async def use_credentials(self, config: ClientConfig) -> None:
        """Authenticate with ``config``'s certificate and token from now on (a rotated client
        certificate): open connections, streams included, are closed; the next request
        connects again with the new credentials."""
        self._configure(config)
        await self.close()

    # -- the pool -------------------------------------------------------------------------------

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            # A new event loop (asyncio.run again): the old loop's connections cannot be used.
            for conn in self._idle:
                conn.abort()
            self._idle.clear()
            self._busy.clear()
            self._sweeper = None
            self._slots = asyncio.Semaphore(self._pool_size)
            self._loop = loop
        return self._slots

    async def _acquire(self, *, stream: bool = False) -> http1.Connection:
        """A connection for one request (waits for a slot) or for a stream (never waits)."""
        slots = self._semaphore()
        if not stream:
            await slots.acquire()
        try:
            conn = self._take_idle()
            if conn is None:
                try:
                    async with asyncio.timeout(self.config.connect_timeout):
                        conn = await http1.connect(self._host, self._port, ssl=self._ssl,
                                                   server_hostname=self.config.tls_server_name or self._host)
                except TimeoutError:
                    raise
                except OSError as exc:
                    raise _ConnectFailed() from exc
        except BaseException:
            if not stream:
                slots.release()
            raise
        self._busy[conn] = not stream
        return conn

    def _take_idle(self) -> http1.Connection | None:
        self._sweep()
        while self._idle:
            conn = self._idle.pop()  # the most recently used: the least likely to be closed by now
            if conn.usable():
                return conn
            conn.close()
        return None

    def _sweep(self) -> None:
        """Close the idle connections older than ``KEEPALIVE``."""
        expired = time.monotonic() - KEEPALIVE
        while self._idle and self._idle[0].idle_since <= expired:
            self._idle.pop(0).close()

    def _arm_sweeper(self) -> None:
        if self._sweeper is None and self._idle and self._loop is not None:
            self._sweeper = self._loop.call_later(
                max(0.1, self._idle[0].idle_since + KEEPALIVE - time.monotonic()), self._on_sweeper)

    def _on_sweeper(self) -> None:
        self._sweeper = None
        self._sweep()
        self._arm_sweeper()

    def _release(self, conn: http1.Connection, *, reuse: bool) -> None:
        holds_slot = self._busy.pop(conn, None)
        if holds_slot is None:  # dropped with its event loop
            conn.abort()
            return
        if holds_slot and self._slots is not None:
            self._slots.release()
        if reuse and not conn.closed:
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
            if len(self._idle) > self._pool_size:
                self._idle.pop(0).close()
            self._arm_sweeper()
        else:
            conn.abort()

    # -- requests -------------------------------------------------------------------------------

    def _head(self, method: str, path: str, params: Params, headers: list[tuple[str, str]],
              body: bytes | None) -> bytes:
        query = urlencode(params) if params else ""
        target = http1.request_target(self._prefix + path, query)
        length = len(body) if body is not None else (0 if method in ("POST", "PUT", "PATCH") else None)
        return http1.encode_head(method, target, host=self._authority, headers=[*self._headers, *headers],
                                 content_length=length)

    async def _exchange(self, method: str, head: bytes, body: bytes | None, read_timeout: float | None, *,
                        stream: bool = False) -> tuple[http1.Connection, http1.Response]:
        """Send on a pooled connection; the answer with its body still to read. On failure the
        connection is dropped; ``ProtocolError.nothing_received`` on a reused one is marked."""
        conn = await self._acquire(stream=stream)
        try:
            await conn.send(head, body)
            resp = await conn.response(method, read_timeout=read_timeout)
        except http1.ProtocolError as exc:
            self._release(conn, reuse=False)
            if exc.nothing_received and conn.exchanges > 0:
                raise _StaleConnection() from exc
            raise
        except BaseException:
            self._release(conn, reuse=False)
            raise
        return conn, resp

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params = None,
        body: bytes | None = None,
        content_type: str = "application/json",
        accept: str = "",
        request_timeout: float | None = None,
    ) -> bytes:
        """Send one request; the 2xx body, or an ``errors`` exception."""
        headers = [("Accept", accept or "application/json")]
        if body is not None:
            headers.append(("Content-Type", content_type))
        head = self._head(method, path, params, headers, body)
        total = request_timeout or self.config.timeout
        attempt = stale = 0
        retry_after_count = 0
        while True:
            try:
                async with asyncio.timeout(total):
                    conn, resp = await self._exchange(method, head, body, None)
                    try:
                        data = await resp.read()
                    finally:
                        self._release(conn, reuse=resp.reusable)
                if resp.status < 400:
                    return data
                err = self._api_error(resp.status, resp.headers, data)
            except TimeoutError as exc:
                raise errors.Timeout(
                    f"the server {self.config.host_port} did not answer within {total:g}s ({method} {path})",
                    server=self.config.host_port,
                ) from exc
            except (_StaleConnection, _ConnectFailed, OSError) as exc:
                attempt, stale = await self._retry_or_raise(method, exc, attempt, stale)
                continue
            if (
                err.retry_after is not None
                and retry_after_count < MAX_RETRY_AFTER
                and self._retry_code(err.code)
            ):
                retry_after_count += 1
                await self.clock.sleep(min(err.retry_after, 10.0))
                continue
            raise err

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        params: Params = None,
        read_timeout: float | None = None,
        accept: str = "",
    ) -> AsyncIterator[http1.Response]:
        """An open streaming response (2xx); read it with ``lines()`` or ``resp.chunks()``.

        ``read_timeout`` bounds the wait for each chunk, so a stream over a silently dead
        connection (a partitioned node: no FIN, no RST) fails instead of hanging. ``accept``
        overrides ``application/json`` (``pictl get -w`` watches in the Table form).
        """
        head = self._head(method, path, params, [("Accept", accept or "application/json")], None)
        head_timeout = read_timeout or self.config.timeout
        attempt = stale = 0
        while True:
            try:
                async with asyncio.timeout(self.config.connect_timeout + head_timeout):
                    conn, resp = await self._exchange(method, head, None, read_timeout, stream=True)
                break
            except TimeoutError as exc:
                raise errors.Timeout(
                    f"the server {self.config.host_port} did not answer within "
                    f"{self.config.connect_timeout + head_timeout:g}s ({method} {path})",
                    server=self.config.host_port,
                ) from exc
            except (_StaleConnection, _ConnectFailed, OSError) as exc:
                attempt, stale = await self._retry_or_raise(method, exc, attempt, stale)
                continue
        try:
            if resp.status >= 400:
                try:
                    async with asyncio.timeout(head_timeout):
                        data = await resp.read()
                except (OSError, TimeoutError) as exc:
                    raise self.connection_error(exc) from exc
                raise self._api_error(resp.status, resp.headers, data)
            yield resp
        finally:
            self._release(conn, reuse=resp.reusable)

    async def _retry_or_raise(self, method: str, exc: BaseException, attempt: int, stale: int) -> tuple[int, int]:
        """After a failed attempt: sleep and return the next (attempt, stale) counts, or raise
        ``errors.ConnectionError``."""
        if isinstance(exc, _StaleConnection):
            if stale < 2:
                return attempt, stale + 1
            raise self.connection_error(http1.ProtocolError("the server keeps closing connections")) from exc
        cause = exc.__cause__ if isinstance(exc, _ConnectFailed) else exc
        assert cause is not None
        # Nothing was sent when connecting failed; TLS failures do not go away by themselves.
        retryable = not isinstance(cause, ssl.SSLError) and (
            isinstance(exc, _ConnectFailed) or method in _IDEMPOTENT
        )
        if attempt < self.config.retries and retryable:
            await self.clock.sleep(0.1 * (2**attempt))
            return attempt + 1, stale
        raise self.connection_error(cause) from cause

    @staticmethod
    def _retry_code(code: int) -> bool:
        return code == 429 or 500 <= code < 600

    def _api_error(self, code: int, headers: Mapping[str, str], data: bytes) -> errors.ApiError:
        retry_after: float | None = None
        if "retry-after" in headers:
            with contextlib.suppress(ValueError):
                retry_after = max(0.0, float(headers["retry-after"]))
        try:
            status = _STATUS_DECODER.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return errors.from_code(code, data.decode("utf-8", "replace"), retry_after=retry_after)
        return errors.from_status(status, code=code, retry_after=retry_after)

    def connection_error(self, exc: BaseException) -> errors.ConnectionError:
        """``errors.ConnectionError`` for a failure to talk to the server, worded like kubectl."""
        if isinstance(exc, errors.ConnectionError):
            return exc
        hp = self.config.host_port
        if isinstance(exc, TimeoutError):
            return errors.Timeout(f"the server {hp} did not answer in time", server=hp)
        if isinstance(exc, ssl.SSLCertVerificationError):
            detail = exc.verify_message or str(exc)
            return errors.ConnectionError(
                f"Unable to connect to the server {hp}: tls: certificate verify failed: {detail}", server=hp
            )
        if (
            isinstance(exc, ConnectionRefusedError)
            or getattr(exc, "errno", None) == errno.ECONNREFUSED
            or _all_refused(exc)
        ):
            return errors.ConnectionError(
                f"The connection to the server {hp} was refused - did you specify the right host or port?",
                server=hp,
            )
        if isinstance(exc, socket.gaierror):
            return errors.ConnectionError(f"Unable to connect to the server {hp}: no such host", server=hp)
        text = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)) or type(exc).__name__
        return errors.ConnectionError(f"Unable to connect to the server {hp}: {text}", server=hp)


def _all_refused(exc: BaseException) -> bool:
    # A name with several addresses (localhost: ::1 and 127.0.0.1) fails with one OSError
    # whose text lists every address's failure and whose errno is None.
    text = str(exc)
    return text.startswith("Multiple exceptions:") and text.count("[Errno ") == text.count(
        f"[Errno {errno.ECONNREFUSED}]"
    )


class _StaleConnection(Exception):
    """Internal: a reused keep-alive connection was closed by the server before it answered."""


async def lines(resp: http1.Response, *, max_line: int = 64 << 20) -> AsyncIterator[bytes]:
    """Newline-delimited chunks of a streaming body (watch events are one JSON document per line)."""
    buf = bytearray()
    async for chunk in resp.chunks():
        buf += chunk
        start = 0
        while (nl := buf.find(b"\n", start)) >= 0:
            line = bytes(buf[start:nl])
            start = nl + 1
            if line.strip():
                yield line
        del buf[:start]
        if len(buf) > max_line:
            raise errors.DecodeError(f"a streamed line is longer than {max_line} bytes")
    if buf.strip():
        yield bytes(buf)
