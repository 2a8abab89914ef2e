"""The store process: a ``Store`` served over etcd's v3 gRPC API, as ``./etcd`` runs in the course.

``pictl store`` builds ``ServerSettings`` from its flags and calls ``run``. Start-up order: check
the URLs and the data dir, bind every listener (so a port in use fails before anything is
opened), open the store, start serving. Shutdown (SIGINT, SIGTERM) runs the other way: stop
accepting RPCs and end watch streams, let in-flight requests finish, stop the metrics listener,
close the store (every acknowledged write is already durable).

Failures a user can fix (bad URL, port in use, unwritable data dir, a data dir another store
holds) raise ``ServerError`` with one readable line.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import re
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from master.store.grpcserver import EtcdGrpcServer, GrpcServerSettings, parse_url
from master.store.settings import StoreSettings
from master.store.store import Store

if TYPE_CHECKING:
    from master.store.metrics import StoreMetrics

__all__ = ["ServerError", "ServerSettings", "StoreServer", "parse_retention", "parse_urls", "run"]

log = logging.getLogger(__name__)

DEFAULT_CLIENT_PORT = 2379
DEFAULT_METRICS_PORT = 2381
# Allocations between young-generation collections (Python's default is 700).
GC_YOUNG_THRESHOLD = 10_000


class ServerError(Exception):
    """A start-up failure the user can fix; the message is one readable line."""


@dataclass(frozen=True, slots=True)
class ServerSettings:
    store: StoreSettings
    client_urls: tuple[str, ...] = (f"http://127.0.0.1:{DEFAULT_CLIENT_PORT}",)
    metrics_urls: tuple[str, ...] = ()
    grpc: GrpcServerSettings = field(default_factory=GrpcServerSettings)
    # Time in-flight requests get to finish at shutdown.
    shutdown_grace: float = 2.0


def parse_urls(text: str, *, default_port: int, what: str) -> tuple[tuple[str, int], ...]:
    """``http://127.0.0.1:2379,http://10.0.0.1:2379`` -> ((host, port), ...). Raises ServerError."""
    out: list[tuple[str, int]] = []
    for url in (u.strip() for u in text.split(",")):
        if not url:
            continue
        try:
            host, port = parse_url(url, default_port=default_port)
        except ValueError as exc:
            raise ServerError(f"{what}: {exc}") from None
        if not 0 <= port <= 65535:
            raise ServerError(f"{what}: port {port} out of range in {url!r}")
        out.append((host, port))
    if not out:
        raise ServerError(f"{what}: no URL given")
    return tuple(out)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s|ms)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_retention(text: str, mode: str) -> tuple[int, float]:
    """etcd's ``--auto-compaction-retention`` for ``--auto-compaction-mode``, as
    (retain_revisions, retain_seconds); (0, 0) turns automatic compaction off.

    periodic: a duration ("10m", "1h30m") or a plain number of hours ("1" = 1 h, as etcd reads it).
    revision: a number of revisions to keep ("1000").
    """
    value = text.strip()
    if mode == "revision":
        if not value.isdigit():
            raise ServerError(
                f"--auto-compaction-retention {text!r}: want a number of revisions in revision mode"
            )
        return int(value), 0.0
    if mode != "periodic":
        raise ServerError(f"--auto-compaction-mode {mode!r}: want periodic or revision")
    try:
        return 0, float(value) * 3600.0
    except ValueError:
        pass
    pos, seconds = 0, 0.0
    for m in _DURATION.finditer(value):
        if m.start() != pos:
            break
        seconds += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if pos != len(value) or not value:
        raise ServerError(f"--auto-compaction-retention {text!r}: want a duration like 10m or 1h, or hours")
    return 0, seconds


def _check_data_dir(path: Path | None) -> None:
    if path is None:
        return
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ServerError(f"cannot create data dir {path}: {exc.strerror or exc}") from None
    if not path.is_dir():
        raise ServerError(f"data dir {path} is not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise ServerError(f"data dir {path} is not writable")


class StoreServer:
    """The store process's parts: store, gRPC server, metrics listener. ``start``/``stop``."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.client_addresses = parse_urls(
            ",".join(settings.client_urls), default_port=DEFAULT_CLIENT_PORT, what="--listen-client-urls"
        )
        self.metrics_addresses = (
            parse_urls(
                ",".join(settings.metrics_urls),
                default_port=DEFAULT_METRICS_PORT,
                what="--listen-metrics-urls",
            )
            if settings.metrics_urls
            else ()
        )
        self.store = Store(settings.store)
        # Metrics (prometheus_client, and a small asyncio listener) only when asked for: the
        # store alone stays small.
        self.metrics: StoreMetrics | None = None
        if self.metrics_addresses:
            from master.store.metrics import StoreMetrics

            self.metrics = StoreMetrics(self.store)
        self.grpc = EtcdGrpcServer(
            self.store, metrics=self.metrics.grpc if self.metrics else None, settings=settings.grpc
        )
        self.client_ports: list[int] = []
        self.metrics_ports: list[int] = []
        self._metrics_servers: list[asyncio.Server] = []
        self._store_open = False

    async def start(self) -> None:
        _check_data_dir(self.settings.store.data_dir)
        try:
            for host, port in self.client_addresses:
                self.client_ports.append(self.grpc.add_port(host, port))
        except OSError as exc:
            raise ServerError(f"--listen-client-urls: {exc}") from None
        try:
            for host, port in self.metrics_addresses:
                from master.util import metrics_http

                assert self.metrics is not None
                listener = await metrics_http.serve(host, port, self.metrics.registry)
                self._metrics_servers.append(listener)
                self.metrics_ports.append(int(listener.sockets[0].getsockname()[1]))
        except OSError as exc:
            await self._stop_metrics()
            raise ServerError(
                f"--listen-metrics-urls: cannot listen on {host}:{port}: {exc.strerror or exc}"
            ) from None
        try:
            await self.store.open()
        except Exception as exc:
            await self._stop_metrics()
            where = self.settings.store.data_dir or "memory"
            raise ServerError(f"cannot open the store in {where}: {exc}") from None
        self._store_open = True
        await self.grpc.start()
        stats = self.store.stats()
        s = self.settings.store
        log.info(
            "store: opened %s backend in %s at revision %d (%d keys)",
            s.backend,
            s.data_dir or "memory",
            stats.revision,
            stats.keys_total,
        )
        for (host, _), port in zip(self.client_addresses, self.client_ports, strict=True):
            log.info("store: serving etcd v3 on %s:%d", host, port)
        for (host, _), port in zip(self.metrics_addresses, self.metrics_ports, strict=True):
            log.info("store: metrics on http://%s:%d/metrics", host, port)

    async def stop(self) -> None:
        await self.grpc.stop(self.settings.shutdown_grace)
        await self._stop_metrics()
        if self._store_open:
            self._store_open = False
            await self.store.close()

    async def _stop_metrics(self) -> None:
        for listener in self._metrics_servers:
            listener.close()
            with contextlib.suppress(Exception):
                await listener.wait_closed()
        self._metrics_servers.clear()


async def run(settings: ServerSettings, *, ready: asyncio.Event | None = None) -> None:
    """Serve until SIGINT or SIGTERM, then shut down cleanly."""
    server = StoreServer(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
        # What exists now (modules, the loaded index) lives as long as the process: the cyclic
        # GC need not walk it on every full collection, and young objects are collected in
        # larger, rarer passes. Together a few percent of the CPU per request.
        gc.freeze()
        gc.set_threshold(GC_YOUNG_THRESHOLD)
        if ready is not None:
            ready.set()
        await stop.wait()
        log.info("store: shutting down")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await server.stop()
    log.info("store: stopped")
