"""The agent's HTTPS server (port 10250): container logs for the apiserver, health and metrics.

::

    GET /containerLogs/{namespace}/{pod}/{container}?follow=&tailLines=&previous=&timestamps=&sinceSeconds=
        the container's log as text/plain (chunked while following); what the apiserver's
        pods/log proxies to (``kubectl logs``, ``pictl logs``)
    GET /pods        the pods this agent runs, as a PodList (what it believes, not the API's)
    GET /metrics/resource
                     the kubelet's resource metrics (node, pod and container CPU and memory,
                     ``agent.kubelet.resourcemetrics``): what ``pictl top`` reads through the
                     apiserver's nodes/proxy
    GET /healthz     "ok"
    GET /metrics     Prometheus text: CRI operations, pod start latency, running pods and
                     containers, the board's CPU, memory and temperature, the proxy's syncs

``/containerLogs``, ``/pods`` and ``/metrics/resource`` need a client certificate signed by the
cluster CA whose user is the apiserver's (``kube-apiserver-kubelet-client``) or in
``system:masters``; without a CA (no kubeconfig CA, e.g. plain-http tests) everyone is let in.
``/healthz`` and ``/metrics`` are open, so Prometheus can scrape with ``insecure_skip_verify``
and no client certificate.

The server is HTTP/1.1 on ``asyncio.start_server`` (keep-alive, GET and HEAD only, no request
bodies): a web framework would cost the agent several MB of memory for four routes. Bad
requests get one-line answers (400 bad parameter or request, 404 unknown path, pod or
container, 405 another method), never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from agent.kubelet.logs import LogOptions

__all__ = ["LogRequest", "LogStream", "NotFoundError", "Server", "ServerSettings"]

log = logging.getLogger("picluster.agent.kubelet")

ALLOWED_USERS = frozenset({"kube-apiserver-kubelet-client", "system:kube-apiserver"})
ALLOWED_GROUPS = frozenset({"system:masters"})

_MAX_HEAD = 16 << 10
_KEEPALIVE = 75.0  # seconds a connection may wait for its next request (as aiohttp's servers)
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 413: "Content Too Large", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 501: "Not Implemented"}


class NotFoundError(Exception):
    """No such pod or container on this node (404)."""


@dataclass(frozen=True, slots=True)
class LogRequest:
    namespace: str
    pod: str
    container: str
    previous: bool
    options: LogOptions


LogStream = Callable[[LogRequest], Awaitable[AsyncIterator[bytes]]]


@dataclass(frozen=True, slots=True)
class ServerSettings:
    address: str = "0.0.0.0"
    port: int = 10250
    require_client_cert: bool = True


class HTTPError(Exception):
    """An answer other than 200, with a one-line text body."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    keep_alive: bool
    peer_cert: dict[str, Any] | None


def _identity(cert: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """(CN, Os) of a peer certificate as ``SSLObject.getpeercert()`` returns it."""
    user, groups = "", []
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName" and not user:
                user = value
            elif key == "organizationName":
                groups.append(value)
    return user, tuple(groups)


def _bool(request: Request, name: str) -> bool:
    value = request.query.get(name, "false").lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0", ""):
        return False
    raise HTTPError(400, f"invalid value {value!r} for {name}: want true or false")


def _int(request: Request, name: str) -> int | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    try:
        n = int(value)
    except ValueError:
        raise HTTPError(400, f"invalid value {value!r} for {name}: want an integer") from None
    if n < 0:
        raise HTTPError(400, f"invalid value {value!r} for {name}: must not be negative")
    return n


def _head(status: int, headers: list[tuple[str, str]], *, keep_alive: bool) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}", *(f"{k}: {v}" for k, v in headers)]
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Request | None:
    """The next request's head, or None when the client is gone. Bodies are refused."""
    try:
        async with asyncio.timeout(_KEEPALIVE):
            head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, TimeoutError, ConnectionError, ssl.SSLError):
        return None
    except asyncio.LimitOverrunError:
        raise HTTPError(431, f"the request head is larger than {_MAX_HEAD} bytes") from None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[1].startswith("/"):
        raise HTTPError(400, "malformed request line")
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise HTTPError(400, "malformed header line")
        headers[name.lower()] = value.strip()
    if "transfer-encoding" in headers or headers.get("content-length", "0") not in ("", "0"):
        raise HTTPError(413, "this server takes no request bodies")
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    path, _, query = target.partition("?")
    ssl_object = writer.get_extra_info("ssl_object")
    # With verification on, getpeercert() has the subject of a certificate the CA signed.
    cert = ssl_object.getpeercert() if isinstance(ssl_object, ssl.SSLObject) else None
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(key, value)
    return Request(method, path, params, keep_alive, cert or None)


class Server:
    def __init__(
        self,
        settings: ServerSettings,
        *,
        ssl_context: ssl.SSLContext | None,
        registry: CollectorRegistry,
        logs: LogStream,
        pods: Callable[[], bytes],
        clock_time: Callable[[], float],
        resource_metrics: Callable[[], Awaitable[bytes]] | None = None,
    ) -> None:
        self.settings = settings
        self._ssl = ssl_context
        self._registry = registry
        self._logs = logs
        self._pods = pods
        self._resource_metrics = resource_metrics
        self._time = clock_time
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self.port = settings.port

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._connection, self.settings.address, self.settings.port, ssl=self._ssl, limit=_MAX_HEAD,
        )
        sockets = self._server.sockets
        if sockets:
            self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            for task in list(self._connections):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self._server = None

    # -- connections ----------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            keep_alive = True
            while keep_alive:
                try:
                    request = await _read_request(reader, writer)
                    if request is None:
                        break
                    keep_alive = request.keep_alive
                    await self._dispatch(request, writer)
                except HTTPError as exc:
                    # A request we could not read leaves the connection in an unknown state.
                    keep_alive = keep_alive and exc.status not in (400, 413, 431)
                    await self._send(writer, exc.status, (exc.text + "\n").encode(), "text/plain; charset=utf-8",
                                     keep_alive=keep_alive)
        except (ConnectionError, ssl.SSLError, TimeoutError):
            pass
        except Exception:
            log.exception("agent server: a request failed")
        finally:
            self._connections.discard(task)
            writer.close()

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, status: int, body: bytes, content_type: str, *,
                    keep_alive: bool, head_only: bool = False) -> None:
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        writer.write(_head(status, headers, keep_alive=keep_alive) + (b"" if head_only else body))
        await writer.drain()

    async def _dispatch(self, request: Request, writer: asyncio.StreamWriter) -> None:
        if request.method not in ("GET", "HEAD"):
            raise HTTPError(405, f"method {request.method} is not allowed: only GET and HEAD")
        segments = [unquote(s) for s in request.path.split("/")[1:]]
        head_only = request.method == "HEAD"
        match segments:
            case ["healthz"]:
                body, content_type = b"ok", "text/plain; charset=utf-8"
            case ["metrics"]:
                body, content_type = generate_latest(self._registry), CONTENT_TYPE_LATEST
            case ["metrics", "resource"] if self._resource_metrics is not None:
                self._authorize(request)
                body, content_type = await self._resource_metrics(), CONTENT_TYPE_LATEST
            case ["pods"]:
                self._authorize(request)
                body, content_type = self._pods(), "application/json"
            case ["containerLogs", namespace, pod, container] if namespace and pod and container:
                await self._container_logs(request, writer, namespace, pod, container)
                return
            case _:
                raise HTTPError(404, f"404: {request.path} not found")
        await self._send(writer, 200, body, content_type, keep_alive=request.keep_alive, head_only=head_only)

    def _authorize(self, request: Request) -> None:
        if not self.settings.require_client_cert or self._ssl is None:
            return
        if not request.peer_cert:
            raise HTTPError(401, "Unauthorized: a client certificate signed by the cluster CA is required")
        user, groups = _identity(request.peer_cert)
        if user not in ALLOWED_USERS and not ALLOWED_GROUPS.intersection(groups):
            raise HTTPError(403, f"Forbidden (user={user}, verb=get, resource=nodes, subresource=proxy)")

    async def _container_logs(self, request: Request, writer: asyncio.StreamWriter, namespace: str, pod: str,
                              container: str) -> None:
        self._authorize(request)
        since_seconds = _int(request, "sinceSeconds")
        options = LogOptions(
            tail_lines=_int(request, "tailLines"),
            timestamps=_bool(request, "timestamps"),
            follow=_bool(request, "follow"),
            since=(self._time() - since_seconds) if since_seconds is not None else None,
        )
        req = LogRequest(namespace=namespace, pod=pod, container=container, previous=_bool(request, "previous"),
                         options=options)
        limit = _int(request, "limitBytes")
        try:
            chunks = await self._logs(req)
        except NotFoundError as exc:
            raise HTTPError(404, str(exc)) from None
        except ValueError as exc:
            raise HTTPError(400, str(exc)) from None
        headers = [("Content-Type", "text/plain; charset=utf-8"), ("Transfer-Encoding", "chunked")]
        writer.write(_head(200, headers, keep_alive=request.keep_alive))
        sent = 0
        try:
            if request.method == "HEAD":
                return
            async for chunk in chunks:
                if limit is not None:
                    chunk = chunk[: max(0, limit - sent)]
                if chunk:
                    writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    await writer.drain()
                    sent += len(chunk)
                if limit is not None and sent >= limit:
                    break
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        finally:
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()
