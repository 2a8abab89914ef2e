"""``pictl master``: the control plane in one process.

Components start in order and stop in reverse; each is an object with ``name``, ``start()`` and
``stop()``. Today: the embedded store (unless ``--etcd-servers`` names an external etcd) and the
apiserver; later issues append the controller-manager and the scheduler to ``COMPONENTS``.
Every start-up step logs one line; SIGTERM and Ctrl-C shut down cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import typer

__all__ = ["COMPONENTS", "MasterOptions", "register", "run_master"]

log = logging.getLogger("pictl.master")

SQLITE_CACHE_KIB = 2048
TLS_READ_BUFFER = 32 * 1024


class Component(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class MasterOptions:
    data_dir: Path
    bind_address: str
    secure_port: int
    advertise_address: str
    etcd_servers: tuple[str, ...]
    listen_client_urls: tuple[str, ...]
    service_cluster_ip_range: str
    service_node_port_range: str
    store_backend: str = "sqlite"


class _Context:
    """What components share: the store client made by the store component."""

    def __init__(self, options: MasterOptions, step: Callable[[str], None]) -> None:
        self.options = options
        self.step = step
        self.client: Any = None


class StoreComponent:
    name = "store"

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self._close: list[Callable[[], Any]] = []

    async def start(self) -> None:
        o = self.ctx.options
        if o.etcd_servers:
            from master.store.grpcclient import GrpcClient

            client = GrpcClient(list(o.etcd_servers))
            status = await client.status()
            self.ctx.client = client
            self._close.append(client.close)
            self.ctx.step(f"store: using etcd at {','.join(o.etcd_servers)} (version {status.version}, "
                          f"revision {status.header.revision})")
            return
        client, closers = await _open_embedded_store(o.data_dir / "store", o.listen_client_urls, self.ctx.step,
                                                     o.store_backend)
        self.ctx.client = client
        self._close.extend(closers)

    async def stop(self) -> None:
        for close in reversed(self._close):
            with contextlib.suppress(Exception):
                result = close()
                if asyncio.iscoroutine(result):
                    await result
        self._close.clear()


async def _open_embedded_store(
    data_dir: Path, listen_client_urls: tuple[str, ...], step: Callable[[str], None], backend: str = "sqlite"
) -> tuple[Any, list[Callable[[], Any]]]:
    """The in-process store, its LocalClient, and its etcd v3 gRPC face on ``listen_client_urls``."""
    from master.store.local import LocalClient
    from master.store.settings import SqliteSettings, StoreSettings

    os.makedirs(data_dir, exist_ok=True)
    # A small SQLite page cache per connection keeps the master's RSS low on a Pi; the kernel's
    # page cache holds the database file anyway.
    settings = StoreSettings(data_dir=data_dir, backend=backend, sqlite=SqliteSettings(cache_kib=SQLITE_CACHE_KIB))
    client = await LocalClient.open(settings)
    closers: list[Callable[[], Any]] = [client.close]
    step(f"store: embedded {backend} store open in {data_dir}")
    from master.store import grpcserver

    try:
        for url in listen_client_urls:
            server = await grpcserver.serve(client.store, url)
            closers.append(server.stop)
            step(f"store: serving the etcd v3 API on {url}")
    except BaseException:
        for close in reversed(closers):
            with contextlib.suppress(Exception):
                result = close()
                if asyncio.iscoroutine(result):
                    await result
        raise
    return client, closers


class ApiServerComponentAdapter:
    name = "apiserver"

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.inner: Any = None

    async def start(self) -> None:
        from master.apiserver.app import ApiServerComponent
        from master.apiserver.settings import ApiServerSettings, parse_node_port_range, parse_service_cidr

        o = self.ctx.options
        settings = ApiServerSettings(
            data_dir=o.data_dir, bind_address=o.bind_address, secure_port=o.secure_port,
            advertise_address=o.advertise_address,
            service_cidr=parse_service_cidr(o.service_cluster_ip_range),
            node_port_range=parse_node_port_range(o.service_node_port_range),
        )
        self.inner = ApiServerComponent(settings, self.ctx.client, self.ctx.step)
        await self.inner.start()

    async def stop(self) -> None:
        if self.inner is not None:
            await self.inner.stop()


COMPONENTS: dict[str, Callable[[_Context], Component]] = {
    "store": StoreComponent,
    "apiserver": ApiServerComponentAdapter,
}


def _validate(options: MasterOptions) -> None:
    from master.apiserver.settings import parse_node_port_range, parse_service_cidr

    parse_service_cidr(options.service_cluster_ip_range)
    parse_node_port_range(options.service_node_port_range)
    if options.store_backend not in ("sqlite", "memory"):
        raise ValueError(f"invalid --store-backend {options.store_backend!r}: want sqlite or memory")
    if not 0 <= options.secure_port <= 65535:
        raise ValueError(f"invalid --secure-port {options.secure_port}: want 0-65535")
    from master.util.metrics import parse_listen_url

    for url in options.listen_client_urls:
        parse_listen_url(url, default_port=2379)
    if options.etcd_servers:
        from master.store.grpcclient import parse_endpoint

        for url in options.etcd_servers:
            parse_endpoint(url)


def _small_tls_buffers() -> None:
    """asyncio gives every TLS connection a 256 KiB read buffer; with an agent watch per node that
    is most of a Pi master's memory. 32 KiB reads are as fast for API-sized messages."""
    import asyncio.sslproto

    asyncio.sslproto.SSLProtocol.max_size = TLS_READ_BUFFER


async def run_master(options: MasterOptions, *, stop: asyncio.Event | None = None) -> None:
    """Start every component, wait for ``stop`` (or SIGTERM/SIGINT), stop them in reverse."""

    def step(msg: str) -> None:
        log.info("%s", msg)

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    _small_tls_buffers()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    ctx = _Context(options, step)
    started: list[Component] = []
    try:
        os.makedirs(options.data_dir, exist_ok=True)
        step(f"master: data dir {options.data_dir}")
        for name, factory in COMPONENTS.items():
            component = factory(ctx)
            await component.start()
            started.append(component)
            step(f"master: {name} started")
        step("master: ready")
        await stop.wait()
        step("master: shutting down")
    finally:
        for component in reversed(started):
            try:
                await component.stop()
            except Exception as exc:  # keep stopping the others
                log.warning("master: stopping %s failed: %s", component.name, exc)
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        step("master: stopped")


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


def register(app: typer.Typer) -> None:
    @app.command("master")
    def master(
        data_dir: Path = typer.Option(Path("/var/lib/picluster/master"), "--data-dir", help="State directory."),
        bind_address: str = typer.Option("0.0.0.0", "--bind-address", help="Address to serve HTTPS on."),
        secure_port: int = typer.Option(6443, "--secure-port", help="HTTPS port of the apiserver."),
        advertise_address: str = typer.Option("", "--advertise-address",
                                              help="Address the kubernetes Service points at."),
        etcd_servers: str = typer.Option("", "--etcd-servers",
                                         help="Comma-separated etcd URLs; empty runs the embedded store."),
        listen_client_urls: str = typer.Option("http://127.0.0.1:2379", "--listen-client-urls",
                                               help="Where the embedded store serves the etcd v3 API."),
        service_cluster_ip_range: str = typer.Option("10.96.0.0/12", "--service-cluster-ip-range"),
        service_node_port_range: str = typer.Option("30000-32767", "--service-node-port-range"),
        store_backend: str = typer.Option("sqlite", "--store-backend",
                                          help="Embedded store backend: sqlite (durable) or memory."),
        log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error."),
    ) -> None:
        """Run the control plane: the store (embedded or --etcd-servers) and the apiserver."""
        from master.cli.main import CLIError

        level = getattr(logging, log_level.upper(), None)
        if not isinstance(level, int):
            raise CLIError(f"invalid --log-level {log_level!r}")
        logging.basicConfig(level=level, stream=sys.stderr,
                            format="%(asctime)s %(levelname).1s %(name)s: %(message)s")
        options = MasterOptions(
            data_dir=data_dir, bind_address=bind_address, secure_port=secure_port,
            advertise_address=advertise_address, etcd_servers=_split(etcd_servers),
            listen_client_urls=_split(listen_client_urls), service_cluster_ip_range=service_cluster_ip_range,
            service_node_port_range=service_node_port_range, store_backend=store_backend,
        )
        try:
            _validate(options)
        except ValueError as exc:
            raise CLIError(str(exc)) from exc
        try:
            asyncio.run(run_master(options))
        except OSError as exc:
            raise CLIError(f"master: {exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")) from exc
