"""A minimal ``/metrics`` and ``/healthz`` listener on asyncio streams, without aiohttp.

For processes that serve nothing else over HTTP (the store): aiohttp would add about 9 MB of
RSS for one scrape every few seconds. HTTP/1.1, GET and HEAD, one request per connection
(``Connection: close``), which Prometheus handles; anything else gets a plain status line.
``master.util.metrics.serve_metrics`` is the aiohttp listener for processes that load aiohttp
anyway.

    server = await metrics_http.serve(host, port, registry)
    ...
    server.close(); await server.wait_closed()
"""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

__all__ = ["serve"]

# A client has this long to send its request head, which may be at most 16 KiB.
READ_TIMEOUT = 10.0
MAX_HEAD = 16 * 1024

_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}


async def serve(host: str, port: int, registry: CollectorRegistry) -> asyncio.Server:
    """Listen on host:port (port 0: any free port); raises OSError when it cannot."""
    return await asyncio.start_server(partial(_handle, registry), host, port, limit=MAX_HEAD)


def _answer(registry: CollectorRegistry, head: bytes) -> tuple[int, str, bytes, bool]:
    """(status, content type, body, whether to send the body) for one request head."""
    parts = head.split(b"\r\n", 1)[0].split()
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        return 400, "text/plain", b"bad request\n", True
    method, target = parts[0], parts[1]
    if method not in (b"GET", b"HEAD"):
        return 405, "text/plain", b"method not allowed\n", True
    path = target.split(b"?", 1)[0]
    if path == b"/metrics":
        return 200, CONTENT_TYPE_LATEST, generate_latest(registry), method == b"GET"
    if path == b"/healthz":
        return 200, "text/plain", b"ok", method == b"GET"
    return 404, "text/plain", b"not found\n", True


async def _handle(registry: CollectorRegistry, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            return
        status, ctype, body, with_body = _answer(registry, head)
        writer.write(
            f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        )
        if with_body:
            writer.write(body)
        await writer.drain()
    except OSError:  # the client went away
        pass
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
