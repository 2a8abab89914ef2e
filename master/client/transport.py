"""HTTP to one apiserver: a pooled aiohttp session, TLS, auth headers, retries, error mapping.

``Transport.request`` returns the body of a 2xx response or raises from ``errors``:

- a Status body with code >= 400 becomes the matching ``errors.ApiError`` subclass;
- a connection failure becomes ``errors.ConnectionError`` with kubectl's wording, after
  ``ClientConfig.retries`` retries (backoff 0.1 s, 0.2 s, 0.4 s ...). A failed *connect* is
  retried for every verb (nothing was sent); a connection lost mid-request only for
  idempotent verbs (GET, HEAD, PUT, DELETE);
- 429 and 5xx answers with ``Retry-After`` are retried (up to ``MAX_RETRY_AFTER`` times,
  sleeping at most 10 s each), as client-go does: the server did not process them.

``Transport.stream`` opens a streaming response (watch, follow logs) with no total timeout.
"""

from __future__ import annotations

import contextlib
import errno
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import aiohttp
import msgspec

from master.api import meta
from master.client import errors
from master.client.config import ClientConfig
from master.util.clock import Clock, RealClock

__all__ = ["MAX_RETRY_AFTER", "Params", "Transport", "lines"]

MAX_RETRY_AFTER = 10
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_STATUS_DECODER = msgspec.json.Decoder(meta.Status)

Params = Sequence[tuple[str, str]] | Mapping[str, str] | None


class Transport:
    def __init__(self, config: ClientConfig, *, clock: Clock | None = None, pool_size: int = 100) -> None:
        self.config = config
        self.clock = clock or RealClock()
        self._pool_size = pool_size
        self._ssl: ssl.SSLContext | None = config.ssl_context()
        self._session: aiohttp.ClientSession | None = None
        headers = {"Accept": "application/json", "User-Agent": config.user_agent}
        if config.token:
            headers["Authorization"] = f"Bearer {config.token}"
        self._headers = headers
        self._timeout = aiohttp.ClientTimeout(total=config.timeout, connect=config.connect_timeout)
        self._stream_timeout = aiohttp.ClientTimeout(
            total=None, connect=config.connect_timeout, sock_connect=config.connect_timeout
        )

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                ssl=self._ssl if self._ssl is not None else True,
                limit=self._pool_size,
                keepalive_timeout=30,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                timeout=self._timeout,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def use_credentials(self, config: ClientConfig) -> None:
        """Authenticate with ``config``'s certificate and token from now on (a rotated client
        certificate): open connections, streams included, are closed; the next request
        connects again with the new credentials."""
        ctx = config.ssl_context()
        self.config = config
        self._ssl = ctx
        self._headers.pop("Authorization", None)
        if config.token:
            self._headers["Authorization"] = f"Bearer {config.token}"
        await self.close()

    def _url(self, path: str) -> str:
        return f"{self.config.server}{path}"

    def _kwargs(self) -> dict[str, Any]:
        if self.config.tls_server_name:
            return {"server_hostname": self.config.tls_server_name}
        return {}

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
        headers: dict[str, str] = {}
        if body is not None:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        client_timeout = (
            aiohttp.ClientTimeout(total=request_timeout, connect=self.config.connect_timeout)
            if request_timeout
            else None
        )
        attempt = 0
        retry_after_count = 0
        while True:
            try:
                async with self._get_session().request(
                    method,
                    self._url(path),
                    params=params,
                    data=body,
                    headers=headers,
                    timeout=client_timeout or self._timeout,
                    **self._kwargs(),
                ) as resp:
                    data = await resp.read()
                    if resp.status < 400:
                        return data
                    err = self._api_error(resp.status, resp.headers, data)
            except TimeoutError as exc:  # before ClientConnectionError: aiohttp's timeouts are both
                raise errors.Timeout(
                    f"the server {self.config.host_port} did not answer within "
                    f"{request_timeout or self.config.timeout:g}s ({method} {path})",
                    server=self.config.host_port,
                ) from exc
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, OSError) as exc:
                if attempt < self.config.retries and self._retryable(method, exc):
                    await self.clock.sleep(0.1 * (2**attempt))
                    attempt += 1
                    continue
                raise self.connection_error(exc) from exc
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
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """An open streaming response (2xx); read it with ``lines()`` or ``resp.content``.

        ``read_timeout`` bounds the wait for each chunk, so a stream over a silently dead
        connection (a partitioned node: no FIN, no RST) fails instead of hanging. ``accept``
        overrides ``application/json`` (``pictl get -w`` watches in the Table form).
        """
        headers = {"Accept": accept} if accept else None
        timeout = self._stream_timeout
        if read_timeout is not None:
            timeout = aiohttp.ClientTimeout(
                total=None,
                connect=self.config.connect_timeout,
                sock_connect=self.config.connect_timeout,
                sock_read=read_timeout,
            )
        attempt = 0
        while True:
            try:
                resp = await self._get_session().request(
                    method, self._url(path), params=params, headers=headers, timeout=timeout, **self._kwargs()
                )
                break
            except TimeoutError as exc:
                raise errors.Timeout(
                    f"the server {self.config.host_port} did not answer within {self.config.connect_timeout:g}s",
                    server=self.config.host_port,
                ) from exc
            except (aiohttp.ClientConnectionError, OSError) as exc:
                if attempt < self.config.retries and self._retryable(method, exc):
                    await self.clock.sleep(0.1 * (2**attempt))
                    attempt += 1
                    continue
                raise self.connection_error(exc) from exc
        try:
            if resp.status >= 400:
                data = await resp.read()
                raise self._api_error(resp.status, resp.headers, data)
            yield resp
        finally:
            resp.close()

    @staticmethod
    def _retryable(method: str, exc: BaseException) -> bool:
        if isinstance(exc, aiohttp.ClientConnectorError) and not isinstance(
            exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientConnectorSSLError
        ):
            return True
        if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
            return False
        return method in _IDEMPOTENT

    @staticmethod
    def _retry_code(code: int) -> bool:
        return code == 429 or 500 <= code < 600

    def _api_error(self, code: int, headers: Mapping[str, str], data: bytes) -> errors.ApiError:
        retry_after: float | None = None
        if "Retry-After" in headers:
            with contextlib.suppress(ValueError):
                retry_after = max(0.0, float(headers["Retry-After"]))
        try:
            status = _STATUS_DECODER.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return errors.from_code(code, data.decode("utf-8", "replace"), retry_after=retry_after)
        return errors.from_status(status, code=code, retry_after=retry_after)

    def connection_error(self, exc: BaseException) -> errors.ConnectionError:
        """``errors.ConnectionError`` for a failure to talk to the server, worded like kubectl."""
        hp = self.config.host_port
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            detail = str(exc.certificate_error)
            return errors.ConnectionError(f"Unable to connect to the server {hp}: {detail}", server=hp)
        os_error = getattr(exc, "os_error", None) or (exc if isinstance(exc, OSError) else None)
        if (
            isinstance(os_error, ConnectionRefusedError)
            or getattr(os_error, "errno", None) == errno.ECONNREFUSED
        ):
            return errors.ConnectionError(
                f"The connection to the server {hp} was refused - did you specify the right host or port?",
                server=hp,
            )
        if isinstance(exc, aiohttp.ClientConnectorDNSError):
            return errors.ConnectionError(f"Unable to connect to the server {hp}: no such host", server=hp)
        text = str(os_error or exc) or type(exc).__name__
        return errors.ConnectionError(f"Unable to connect to the server {hp}: {text}", server=hp)


async def lines(resp: aiohttp.ClientResponse, *, max_line: int = 64 << 20) -> AsyncIterator[bytes]:
    """Newline-delimited chunks of a streaming body (watch events are one JSON document per line)."""
    buf = bytearray()
    async for chunk in resp.content.iter_any():
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
