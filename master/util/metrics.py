"""Serve a Prometheus registry at ``/metrics`` on its own listener.

Every component (store, apiserver, controller-manager, scheduler, agent) exposes metrics this
way; the apiserver also serves ``/metrics`` on its secure port.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

__all__ = ["metrics_handler", "parse_listen_url", "serve_metrics"]


def parse_listen_url(url: str, *, default_port: int) -> tuple[str, int]:
    """``http://127.0.0.1:2381`` -> ("127.0.0.1", 2381). Raises ValueError with a readable message."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {parts.scheme!r} in {url!r} (want http or https)")
    host = parts.hostname or "127.0.0.1"
    try:
        port = parts.port or default_port
    except ValueError as exc:
        raise ValueError(f"invalid port in {url!r}") from exc
    return host, port


def metrics_handler(
    registry: CollectorRegistry = REGISTRY,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(_request: web.Request) -> web.Response:
        body = generate_latest(registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return handle


async def serve_metrics(host: str, port: int, registry: CollectorRegistry = REGISTRY) -> web.AppRunner:
    """Start an HTTP listener with /metrics and /healthz; the caller cleans up the returned runner."""
    app = web.Application()
    app.router.add_get("/metrics", metrics_handler(registry))

    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner
