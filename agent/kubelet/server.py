"""The agent's HTTPS server (port 10250): container logs for the apiserver, health and metrics.

::

    GET /containerLogs/{namespace}/{pod}/{container}?follow=&tailLines=&previous=&timestamps=&sinceSeconds=
        the container's log as text/plain (chunked while following); what the apiserver's
        pods/log proxies to (``kubectl logs``, ``pictl logs``)
    GET /pods        the pods this agent runs, as a PodList (what it believes, not the API's)
    GET /healthz     "ok"
    GET /metrics     Prometheus text: CRI operations, pod start latency, running pods and
                     containers, the board's CPU, memory and temperature, the proxy's syncs

``/containerLogs`` and ``/pods`` need a client certificate signed by the cluster CA whose user
is the apiserver's (``kube-apiserver-kubelet-client``) or in ``system:masters``; without a CA
(no kubeconfig CA, e.g. plain-http tests) everyone is let in. ``/healthz`` and ``/metrics`` are
open, so Prometheus can scrape with ``insecure_skip_verify`` and no client certificate.

Bad requests get one-line answers (400 bad parameter, 404 unknown pod or container), never a
traceback.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry

from agent.kubelet.logs import LogOptions
from master.util.metrics import metrics_handler

__all__ = ["LogRequest", "LogStream", "NotFoundError", "Server", "ServerSettings"]

log = logging.getLogger("picluster.agent.kubelet")

ALLOWED_USERS = frozenset({"kube-apiserver-kubelet-client", "system:kube-apiserver"})
ALLOWED_GROUPS = frozenset({"system:masters"})


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


def _bool(request: web.Request, name: str) -> bool:
    value = request.query.get(name, "false").lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0", ""):
        return False
    raise web.HTTPBadRequest(text=f"invalid value {value!r} for {name}: want true or false\n")


def _int(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    try:
        n = int(value)
    except ValueError:
        raise web.HTTPBadRequest(text=f"invalid value {value!r} for {name}: want an integer\n") from None
    if n < 0:
        raise web.HTTPBadRequest(text=f"invalid value {value!r} for {name}: must not be negative\n")
    return n


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
    ) -> None:
        self.settings = settings
        self._ssl = ssl_context
        self._registry = registry
        self._logs = logs
        self._pods = pods
        self._time = clock_time
        self._runner: web.AppRunner | None = None
        self.port = settings.port

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", metrics_handler(self._registry))
        app.router.add_get("/pods", self._pod_list)
        app.router.add_get("/containerLogs/{namespace}/{pod}/{container}", self._container_logs)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.address, self.settings.port, ssl_context=self._ssl)
        await site.start()
        addresses = self._runner.addresses
        if addresses:
            self.port = int(addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- handlers -------------------------------------------------------------------------

    def _authorize(self, request: web.Request) -> None:
        if not self.settings.require_client_cert or self._ssl is None:
            return
        transport = request.transport
        sslobj = transport.get_extra_info("ssl_object") if transport is not None else None
        # With verification on, getpeercert() has the subject of a certificate the CA signed.
        cert = sslobj.getpeercert() if isinstance(sslobj, ssl.SSLObject) else None
        if not cert:
            raise web.HTTPUnauthorized(text="Unauthorized: a client certificate signed by the cluster CA is required\n")
        user, groups = _identity(cert)
        if user not in ALLOWED_USERS and not ALLOWED_GROUPS.intersection(groups):
            raise web.HTTPForbidden(text=f"Forbidden (user={user}, verb=get, resource=nodes, subresource=proxy)\n")

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _pod_list(self, request: web.Request) -> web.Response:
        self._authorize(request)
        return web.Response(body=self._pods(), content_type="application/json")

    async def _container_logs(self, request: web.Request) -> web.StreamResponse:
        self._authorize(request)
        since_seconds = _int(request, "sinceSeconds")
        options = LogOptions(
            tail_lines=_int(request, "tailLines"),
            timestamps=_bool(request, "timestamps"),
            follow=_bool(request, "follow"),
            since=(self._time() - since_seconds) if since_seconds is not None else None,
        )
        req = LogRequest(
            namespace=request.match_info["namespace"],
            pod=request.match_info["pod"],
            container=request.match_info["container"],
            previous=_bool(request, "previous"),
            options=options,
        )
        limit = _int(request, "limitBytes")
        try:
            chunks = await self._logs(req)
        except NotFoundError as exc:
            raise web.HTTPNotFound(text=f"{exc}\n") from None
        except ValueError as exc:
            raise web.HTTPBadRequest(text=f"{exc}\n") from None
        resp = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        sent = 0
        try:
            async for chunk in chunks:
                if limit is not None:
                    chunk = chunk[: max(0, limit - sent)]
                if chunk:
                    await resp.write(chunk)
                    sent += len(chunk)
                if limit is not None and sent >= limit:
                    break
        except (ConnectionResetError, ConnectionError):
            return resp
        finally:
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()
        await resp.write_eof()
        return resp
