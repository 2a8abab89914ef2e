"""``pictl master``: the control plane in one process.

Components start in order and stop in reverse; each is an object with ``name``, ``start()`` and
``stop()``. ``COMPONENTS`` lists them with the ``--components`` name that enables each: the
embedded store (unless ``--etcd-servers`` names an external etcd) and the apiserver
("apiserver"), the controller-manager, the scheduler. Components that are clients of the
apiserver use their own identities when it runs in this process (``<data dir>/controller-manager
.kubeconfig`` as system:kube-controller-manager, ``scheduler.kubeconfig`` as system:kube-scheduler,
each with its least-privilege role), else ``--kubeconfig``; their metrics go to the apiserver's
/metrics, else to a ``--metrics-bind-address`` listener.
Every start-up step logs one line; SIGTERM and Ctrl-C shut down cleanly. Once its flags check
out, the command replaces itself (same pid) with a Python that imports only what the master
needs (``launched``), as ``pictl agent`` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from master.cli import relaunch
from master.controllers.settings import ControllerManagerSettings
from master.util import eventloop
from master.util import launch as launch_util

if TYPE_CHECKING:  # the running master does without the CLI's libraries (see ``launched``)
    import typer

__all__ = ["COMPONENTS", "LAUNCH_ENV", "MasterOptions", "launched", "register", "run_master"]

log = logging.getLogger("pictl.master")

SQLITE_CACHE_KIB = 2048
TLS_READ_BUFFER = 16 * 1024


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
    # How long Events live after their last write (kube-apiserver's --event-ttl); 0: forever.
    event_ttl: float = 3600.0
    # master.util.eventloop: auto (uvloop when installed), uvloop or asyncio.
    event_loop: str = "auto"
    # Which of KNOWN_COMPONENTS run in this process.
    components: tuple[str, ...] = ("apiserver", "controller-manager", "scheduler")
    # For components running without the apiserver: how to reach it (empty: $KUBECONFIG, ~/.kube/config).
    kubeconfig: str = ""
    # Leader election of the controller-manager and the scheduler (kube's --leader-elect-* flags).
    leader_elect: bool = True
    leader_elect_lease_duration: float = 15.0
    leader_elect_renew_deadline: float = 10.0
    leader_elect_retry_period: float = 2.0
    # Without the apiserver in process: where to serve /metrics ("" the default, "off" none).
    metrics_bind_address: str = ""
    scheduler_config: Path | None = None
    # The controller-manager's flags (--controllers, --node-monitor-period ...).
    controller_manager: ControllerManagerSettings = field(default_factory=ControllerManagerSettings)
    # The apiserver's security flags (issue 8).
    authorization_mode: str = "Node,RBAC"
    anonymous_auth: bool = True
    enable_admission_plugins: tuple[str, ...] = ()
    disable_admission_plugins: tuple[str, ...] = ()
    token_auth_file: Path | None = None
    service_account_key_files: tuple[Path, ...] = ()
    service_account_signing_key_file: Path | None = None
    service_account_issuer: str = "https://kubernetes.default.svc.cluster.local"
    encryption_provider_config: Path | None = None
    audit_log_path: str = ""
    audit_log_maxage: int = 0
    audit_log_maxbackup: int = 0
    audit_log_maxsize: int = 0
    audit_policy_file: Path | None = None


KNOWN_COMPONENTS = ("apiserver", "controller-manager", "scheduler")
DEFAULT_METRICS_ADDRESS = "127.0.0.1:10259"


class _Context:
    """What components share: the store client made by the store component, and for the
    apiserver's clients the kubeconfig to use and the metrics registry to fill."""

    def __init__(self, options: MasterOptions, step: Callable[[str], None]) -> None:
        self.options = options
        self.step = step
        self.client: Any = None
        # Set by the apiserver component when it runs in this process.
        self.kubeconfig: Path | None = None
        self.metrics_registry: Any = None
        # component -> its own kubeconfig (system:kube-controller-manager, system:kube-scheduler)
        self.component_kubeconfigs: dict[str, Path] = {}

    def client_config(self, component: str = "") -> Any:
        """The ``ClientConfig`` of ``component``'s own identity when the apiserver runs in this
        process (the admin's without a component), else of ``--kubeconfig``."""
        from master.client import kubeconfig

        if component in self.component_kubeconfigs:
            return kubeconfig.load_client_config(str(self.component_kubeconfigs[component]))
        if self.kubeconfig is not None:
            return kubeconfig.load_client_config(str(self.kubeconfig))
        return kubeconfig.load_client_config(self.options.kubeconfig or None)

    def leader_election(self) -> Any:
        from master.client.leaderelection import LeaderElectionSettings

        o = self.options
        return LeaderElectionSettings(
            lease_duration=o.leader_elect_lease_duration,
            renew_deadline=o.leader_elect_renew_deadline,
            retry_period=o.leader_elect_retry_period,
        )


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
                                                     o.store_backend, pki_root=o.data_dir)
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
    data_dir: Path, listen_client_urls: tuple[str, ...], step: Callable[[str], None], backend: str = "sqlite",
    *, pki_root: Path | None = None,
) -> tuple[Any, list[Callable[[], Any]]]:
    """The in-process store, its LocalClient, and its etcd v3 gRPC face on ``listen_client_urls``
    (``https://`` ones with mutual TLS from the cluster CA under ``pki_root``/pki)."""
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
            tls = None
            if url.strip().startswith("https://") and pki_root is not None:
                from master.apiserver.certs import ensure_store_tls

                host, _ = grpcserver.parse_url(url, allow_https=True)
                tls = grpcserver.ServerTLS(*ensure_store_tls(pki_root, host))
            server = await grpcserver.serve(client.store, url, tls=tls)
            closers.append(server.stop)
            step(f"store: serving the etcd v3 API on {url}" + (
                f" (mutual TLS; clients use {pki_root}/pki/etcd-client.crt)" if tls is not None else ""))
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
            event_ttl=o.event_ttl,
            **_security_settings(o),
        )
        self.inner = ApiServerComponent(settings, self.ctx.client, self.ctx.step)
        await self.inner.start()
        self.ctx.kubeconfig = self.inner.pki.kubeconfig
        self.ctx.component_kubeconfigs = dict(self.inner.component_kubeconfigs)
        self.ctx.metrics_registry = self.inner.server.metrics.registry

    async def stop(self) -> None:
        if self.inner is not None:
            await self.inner.stop()


class MetricsListenerComponent:
    """/metrics for the apiserver's clients when the apiserver is not in this process."""

    name = "metrics"

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.runner: Any = None

    async def start(self) -> None:
        from prometheus_client import CollectorRegistry

        from master.util.metrics import parse_listen_url, serve_metrics

        address = self.ctx.options.metrics_bind_address or DEFAULT_METRICS_ADDRESS
        self.ctx.metrics_registry = CollectorRegistry(auto_describe=True)
        if address == "off":
            return
        host, port = parse_listen_url(address, default_port=10259)
        self.runner = await serve_metrics(host, port, self.ctx.metrics_registry)
        self.ctx.step(f"metrics: serving /metrics on http://{host}:{port}")

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


class ControllerManagerComponentAdapter:
    name = "controller-manager"

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.inner: Any = None

    async def start(self) -> None:
        from master.controllers.component import ControllerManagerComponent

        o = self.ctx.options
        settings = o.controller_manager
        if not settings.cluster_signing_cert_file and "apiserver" in o.components:
            import dataclasses

            settings = dataclasses.replace(settings, cluster_signing_cert_file=str(o.data_dir / "pki" / "ca.crt"),
                                           cluster_signing_key_file=str(o.data_dir / "pki" / "ca.key"))
        self.inner = ControllerManagerComponent(
            self.ctx.client_config("controller-manager"), settings, leader_elect=o.leader_elect,
            leader_election=self.ctx.leader_election(), registry=self.ctx.metrics_registry, step=self.ctx.step,
        )
        await self.inner.start()

    async def stop(self) -> None:
        if self.inner is not None:
            await self.inner.stop()


class SchedulerComponentAdapter:
    name = "scheduler"

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.inner: Any = None

    async def start(self) -> None:
        from master.scheduler.component import SchedulerComponent, SchedulerOptions

        o = self.ctx.options
        options = SchedulerOptions(
            config_file=o.scheduler_config, leader_elect=o.leader_elect, leader_election=self.ctx.leader_election()
        )
        self.inner = SchedulerComponent(
            self.ctx.client_config("scheduler"), options, registry=self.ctx.metrics_registry, step=self.ctx.step
        )
        await self.inner.start()

    async def stop(self) -> None:
        if self.inner is not None:
            await self.inner.stop()


def _metrics_needed(options: MasterOptions) -> bool:
    return "apiserver" not in options.components


# In start order: (the --components name that enables it, or a predicate; the factory).
COMPONENTS: list[tuple[str | Callable[[MasterOptions], bool], Callable[[_Context], Component]]] = [
    ("apiserver", StoreComponent),
    ("apiserver", ApiServerComponentAdapter),
    (_metrics_needed, MetricsListenerComponent),
    ("controller-manager", ControllerManagerComponentAdapter),
    ("scheduler", SchedulerComponentAdapter),
]


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _security_settings(o: MasterOptions) -> dict[str, Any]:
    """The ApiServerSettings fields of the security flags."""
    from master.apiserver.audit import AuditSettings
    from master.apiserver.authz import parse_modes

    return {
        "authorization_modes": parse_modes(o.authorization_mode), "anonymous_auth": o.anonymous_auth,
        "enable_admission_plugins": o.enable_admission_plugins,
        "disable_admission_plugins": o.disable_admission_plugins,
        "token_auth_file": o.token_auth_file,
        "service_account_key_files": o.service_account_key_files,
        "service_account_signing_key_file": o.service_account_signing_key_file,
        "service_account_issuer": o.service_account_issuer,
        "encryption_provider_config": o.encryption_provider_config,
        "audit": AuditSettings(path=o.audit_log_path, max_age_days=o.audit_log_maxage,
                               max_backups=o.audit_log_maxbackup, max_size_mb=o.audit_log_maxsize,
                               policy_file=o.audit_policy_file),
    }


def _validate_security(o: MasterOptions) -> None:
    """Read every security file once so a bad one fails before anything starts."""
    from master.apiserver.admission import select_plugins
    from master.apiserver.audit_policy import load_policy
    from master.apiserver.authn_tokenfile import load_token_file
    from master.apiserver.encryption import load_config

    fields = _security_settings(o)
    fields["audit"].validate()
    select_plugins(o.enable_admission_plugins, o.disable_admission_plugins)
    if o.token_auth_file is not None:
        load_token_file(o.token_auth_file)
    if o.encryption_provider_config is not None:
        load_config(o.encryption_provider_config)
    if o.audit_policy_file is not None:
        load_policy(o.audit_policy_file)
    if not o.service_account_issuer.strip():
        raise ValueError("invalid --service-account-issuer: must not be empty")


def _enabled(when: str | Callable[[MasterOptions], bool], options: MasterOptions) -> bool:
    return when(options) if callable(when) else when in options.components


def _validate(options: MasterOptions) -> None:
    from master.apiserver.settings import parse_node_port_range, parse_service_cidr

    parse_service_cidr(options.service_cluster_ip_range)
    parse_node_port_range(options.service_node_port_range)
    try:
        eventloop.check(options.event_loop)
    except ValueError as exc:
        raise ValueError(f"invalid --event-loop: {exc}") from None
    if options.store_backend not in ("sqlite", "memory"):
        raise ValueError(f"invalid --store-backend {options.store_backend!r}: want sqlite or memory")
    if not 0 <= options.secure_port <= 65535:
        raise ValueError(f"invalid --secure-port {options.secure_port}: want 0-65535")
    from master.util.metrics import parse_listen_url

    for url in options.listen_client_urls:
        host, _ = parse_listen_url(url, default_port=2379)
        if not url.strip().startswith("https://") and not _loopback(host):
            raise ValueError(f"invalid --listen-client-urls {url!r}: the store's client port off loopback must "
                             "use TLS (https://; its certificate comes from the cluster CA)")
    if not options.components:
        raise ValueError(f"invalid --components: name at least one of {','.join(KNOWN_COMPONENTS)}")
    for name in options.components:
        if name not in KNOWN_COMPONENTS:
            raise ValueError(f"invalid --components: unknown component {name!r} (known: {','.join(KNOWN_COMPONENTS)})")
    if options.metrics_bind_address not in ("", "off"):
        parse_listen_url(options.metrics_bind_address, default_port=10259)
    if options.leader_elect:
        from master.client.leaderelection import LeaderElectionSettings

        LeaderElectionSettings(
            lease_duration=options.leader_elect_lease_duration,
            renew_deadline=options.leader_elect_renew_deadline,
            retry_period=options.leader_elect_retry_period,
        )
    if "controller-manager" in options.components:
        from master.controllers.registry import enabled_controllers

        options.controller_manager.validate()
        enabled_controllers(options.controller_manager.controllers)
    if options.scheduler_config is not None and "scheduler" in options.components:
        from master.scheduler.component import SchedulerOptions

        SchedulerOptions(config_file=options.scheduler_config).load_config()
    if "apiserver" not in options.components:
        from master.client import kubeconfig

        kubeconfig.load_client_config(options.kubeconfig or None)
    if "apiserver" in options.components:
        _validate_security(options)
    if options.etcd_servers:
        from master.store.grpcclient import parse_endpoint

        for url in options.etcd_servers:
            parse_endpoint(url)


def _calm_gc() -> None:
    """A full garbage collection scans every object and pauses every request while it runs (tens
    of ms with the ~70k objects of the loaded modules). What exists after start-up lives as long
    as the process, so it is frozen out of the collector's scans."""
    gc.freeze()


def _small_tls_buffers() -> None:
    """asyncio gives every TLS connection a 256 KiB read buffer; with an agent watch per node that
    is most of a Pi master's memory. 16 KiB (one TLS record) reads are as fast for API-sized
    messages. (For asyncio's own loop; uvloop's TLS needs less memory per connection anyway.)"""
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
        if "apiserver" in options.components:
            os.makedirs(options.data_dir, exist_ok=True)
            step(f"master: data dir {options.data_dir}")
        for when, factory in COMPONENTS:
            if not _enabled(when, options):
                continue
            component = factory(ctx)
            await component.start()
            started.append(component)
            step(f"master: {component.name} started")
        _calm_gc()
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


def _duration(text: str, flag: str) -> float:
    """Seconds of ``15s``, ``500ms``, ``1m30s`` or a bare number of seconds; CLIError otherwise."""
    from master.cli.kube.options import parse_duration

    return parse_duration(text, flag=flag)


LAUNCH_ENV = "PICLUSTER_MASTER_LAUNCH"
_LOG_FORMAT = "%(asctime)s %(levelname).1s %(name)s: %(message)s"
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# Signals that arrive while the exec'd master is still starting: stop as soon as it can.
_early_stop: list[int] = []


def _exec_master(options: MasterOptions, level: int) -> None:
    """Become a Python that runs ``launched`` (same pid), without typer, click, rich and pydantic:
    ~10 MB of RSS less for the life of the master, as ``pictl agent`` does. The checked options
    travel in ``PICLUSTER_MASTER_LAUNCH`` (a pickle this program made a moment ago). Runs here
    when the interpreter cannot be executed."""
    env = {LAUNCH_ENV: launch_util.encode((options, level))}
    # Blocked across the exec (the mask is inherited) until ``launched`` handles them: a SIGTERM
    # while the new process imports is a clean stop, not a kill.
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    # The command line stays in the arguments (ignored), for ps and for whoever finds the master
    # by its --data-dir (the testbed does).
    relaunch.exec_python("import master.cli.master_cmd as m; raise SystemExit(m.launched())", env, sys.argv)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    raise SystemExit(_run(options))


def launched() -> int:
    """The master process started by ``pictl master``: its options from the environment."""
    for sig in _STOP_SIGNALS:
        signal.signal(sig, lambda signum, _frame: _early_stop.append(signum))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    try:
        options, level = launch_util.from_environ(tuple, env=LAUNCH_ENV, what="master options")
        if not isinstance(options, MasterOptions) or not isinstance(level, int):
            raise ValueError(f"{LAUNCH_ENV} does not hold master options")
    except ValueError as exc:
        print(f"error: master_cmd.launched is started by `pictl master` ({exc})", file=sys.stderr)
        return 2
    logging.basicConfig(level=level, stream=sys.stderr, format=_LOG_FORMAT)
    return _run(options)


def _run(options: MasterOptions) -> int:
    """Run the master until SIGTERM/SIGINT; failures are one line on stderr."""
    from master.store.errors import StoreError

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in _STOP_SIGNALS:  # until run_master installs its own handlers
            signal.signal(sig, lambda _signum, _frame: loop.call_soon_threadsafe(stop.set))
        if _early_stop:
            stop.set()
        await run_master(options, stop=stop)

    try:
        eventloop.run(main(), loop=options.event_loop)
    except OSError as exc:
        print(f"error: master: {exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""), file=sys.stderr)
        return 1
    except StoreError as exc:  # its message names the store already ("store: data dir ... is in use")
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one readable line, never a traceback
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def register(app: typer.Typer) -> None:
    import typer

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
        event_ttl: str = typer.Option("1h", "--event-ttl",
                                      help="How long Events are kept after their last write (0: forever)."),
        log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error."),
        event_loop: str = typer.Option("auto", "--event-loop",
                                       help="auto (uvloop when installed), uvloop or asyncio."),
        components: str = typer.Option(",".join(KNOWN_COMPONENTS), "--components",
                                       help="Comma-separated components to run in this process."),
        kubeconfig: str = typer.Option("", "--kubeconfig",
                                       help="How components reach a remote apiserver (when it is not in --components)."),
        leader_elect: bool = typer.Option(True, "--leader-elect/--no-leader-elect",
                                          help="Controller-manager and scheduler: run only while holding their Lease."),
        leader_elect_lease_duration: str = typer.Option("15s", "--leader-elect-lease-duration"),
        leader_elect_renew_deadline: str = typer.Option("10s", "--leader-elect-renew-deadline"),
        leader_elect_retry_period: str = typer.Option("2s", "--leader-elect-retry-period"),
        metrics_bind_address: str = typer.Option(
            "", "--metrics-bind-address",
            help=f"Without the apiserver: where to serve /metrics (default {DEFAULT_METRICS_ADDRESS}; off: none)."),
        scheduler_config: Path | None = typer.Option(None, "--scheduler-config",
                                                     help="A KubeSchedulerConfiguration YAML file."),
        controllers: str = typer.Option(
            "*", "--controllers",
            help="Controllers to run: '*' all on by default, 'foo' enables foo, '-foo' disables foo."),
        node_monitor_period: str = typer.Option("5s", "--node-monitor-period"),
        node_monitor_grace_period: str = typer.Option("40s", "--node-monitor-grace-period"),
        node_startup_grace_period: str = typer.Option("60s", "--node-startup-grace-period"),
        pod_eviction_timeout: str = typer.Option("5m", "--pod-eviction-timeout",
                                                 help="Kept for compatibility: eviction uses tolerationSeconds."),
        node_eviction_rate: float = typer.Option(0.1, "--node-eviction-rate",
                                                 help="Nodes per second per zone whose pods may be evicted."),
        secondary_node_eviction_rate: float = typer.Option(0.01, "--secondary-node-eviction-rate"),
        unhealthy_zone_threshold: float = typer.Option(0.55, "--unhealthy-zone-threshold"),
        large_cluster_size_threshold: int = typer.Option(50, "--large-cluster-size-threshold"),
        allocate_node_cidrs: bool = typer.Option(True, "--allocate-node-cidrs/--no-allocate-node-cidrs"),
        cluster_cidr: str = typer.Option("10.244.0.0/16", "--cluster-cidr", help="The pod network, split per node."),
        node_cidr_mask_size: int = typer.Option(24, "--node-cidr-mask-size"),
        concurrent_deployment_syncs: int = typer.Option(5, "--concurrent-deployment-syncs"),
        concurrent_replicaset_syncs: int = typer.Option(5, "--concurrent-replicaset-syncs"),
        concurrent_daemonset_syncs: int = typer.Option(2, "--concurrent-daemonset-syncs"),
        concurrent_endpoint_syncs: int = typer.Option(5, "--concurrent-endpoint-syncs"),
        concurrent_service_endpoint_syncs: int = typer.Option(5, "--concurrent-service-endpoint-syncs"),
        concurrent_namespace_syncs: int = typer.Option(10, "--concurrent-namespace-syncs"),
        concurrent_gc_syncs: int = typer.Option(20, "--concurrent-gc-syncs"),
        terminated_pod_gc_threshold: int = typer.Option(12500, "--terminated-pod-gc-threshold"),
        cluster_signing_cert_file: str = typer.Option(
            "", "--cluster-signing-cert-file", help="CA certificate csrsigning signs with (default: the apiserver's)."),
        cluster_signing_key_file: str = typer.Option("", "--cluster-signing-key-file"),
        cluster_signing_duration: str = typer.Option("8760h", "--cluster-signing-duration",
                                                     help="Lifetime of certificates csrsigning issues."),
        authorization_mode: str = typer.Option("Node,RBAC", "--authorization-mode",
                                               help="Authorizers in order: Node, RBAC, AlwaysAllow, AlwaysDeny."),
        anonymous_auth: bool = typer.Option(True, "--anonymous-auth/--no-anonymous-auth",
                                            help="Requests without credentials are system:anonymous (else 401)."),
        enable_admission_plugins: str = typer.Option("", "--enable-admission-plugins"),
        disable_admission_plugins: str = typer.Option("", "--disable-admission-plugins"),
        token_auth_file: Path | None = typer.Option(None, "--token-auth-file",
                                                    help="Static bearer tokens: token,user,uid[,\"groups\"]."),
        service_account_key_file: list[Path] = typer.Option(
            [], "--service-account-key-file", help="PEM key(s) that verify ServiceAccount tokens (repeatable)."),
        service_account_signing_key_file: Path | None = typer.Option(
            None, "--service-account-signing-key-file",
            help="ECDSA P-256 key that signs ServiceAccount tokens (default: <data-dir>/pki/sa.key, made once)."),
        service_account_issuer: str = typer.Option("https://kubernetes.default.svc.cluster.local",
                                                   "--service-account-issuer"),
        encryption_provider_config: Path | None = typer.Option(
            None, "--encryption-provider-config", help="EncryptionConfiguration (aesgcm, identity) for data at rest."),
        audit_log_path: str = typer.Option("", "--audit-log-path", help="Audit log file ('-' for stdout)."),
        audit_log_maxage: int = typer.Option(0, "--audit-log-maxage", help="Days to keep rotated audit logs."),
        audit_log_maxbackup: int = typer.Option(0, "--audit-log-maxbackup", help="Rotated audit logs to keep."),
        audit_log_maxsize: int = typer.Option(0, "--audit-log-maxsize", help="MB before the audit log rotates."),
        audit_policy_file: Path | None = typer.Option(None, "--audit-policy-file",
                                                      help="audit.k8s.io/v1 Policy (default: Metadata for all)."),
    ) -> None:
        """Run the control plane: the store (embedded or --etcd-servers), the apiserver, the
        controller-manager and the scheduler (--components picks which)."""
        from master.cli.main import CLIError

        level = getattr(logging, log_level.upper(), None)
        if not isinstance(level, int):
            raise CLIError(f"invalid --log-level {log_level!r}")
        logging.basicConfig(level=level, stream=sys.stderr, format=_LOG_FORMAT)
        options = MasterOptions(
            data_dir=data_dir, bind_address=bind_address, secure_port=secure_port,
            advertise_address=advertise_address, etcd_servers=_split(etcd_servers),
            listen_client_urls=_split(listen_client_urls), service_cluster_ip_range=service_cluster_ip_range,
            service_node_port_range=service_node_port_range, store_backend=store_backend,
            event_ttl=_duration(event_ttl, "--event-ttl"), event_loop=event_loop,
            components=_split(components), kubeconfig=kubeconfig, leader_elect=leader_elect,
            leader_elect_lease_duration=_duration(leader_elect_lease_duration, "--leader-elect-lease-duration"),
            leader_elect_renew_deadline=_duration(leader_elect_renew_deadline, "--leader-elect-renew-deadline"),
            leader_elect_retry_period=_duration(leader_elect_retry_period, "--leader-elect-retry-period"),
            metrics_bind_address=metrics_bind_address, scheduler_config=scheduler_config,
            controller_manager=ControllerManagerSettings(
                controllers=_split(controllers),
                node_monitor_period=_duration(node_monitor_period, "--node-monitor-period"),
                node_monitor_grace_period=_duration(node_monitor_grace_period, "--node-monitor-grace-period"),
                node_startup_grace_period=_duration(node_startup_grace_period, "--node-startup-grace-period"),
                pod_eviction_timeout=_duration(pod_eviction_timeout, "--pod-eviction-timeout"),
                node_eviction_rate=node_eviction_rate, secondary_node_eviction_rate=secondary_node_eviction_rate,
                unhealthy_zone_threshold=unhealthy_zone_threshold,
                large_cluster_size_threshold=large_cluster_size_threshold,
                allocate_node_cidrs=allocate_node_cidrs, cluster_cidr=cluster_cidr,
                node_cidr_mask_size=node_cidr_mask_size,
                concurrent_deployment_syncs=concurrent_deployment_syncs,
                concurrent_replicaset_syncs=concurrent_replicaset_syncs,
                concurrent_daemonset_syncs=concurrent_daemonset_syncs,
                concurrent_endpoint_syncs=concurrent_endpoint_syncs,
                concurrent_service_endpoint_syncs=concurrent_service_endpoint_syncs,
                concurrent_namespace_syncs=concurrent_namespace_syncs,
                concurrent_gc_syncs=concurrent_gc_syncs,
                terminated_pod_gc_threshold=terminated_pod_gc_threshold,
                cluster_signing_cert_file=cluster_signing_cert_file,
                cluster_signing_key_file=cluster_signing_key_file,
                cluster_signing_duration=_duration(cluster_signing_duration, "--cluster-signing-duration"),
            ),
            authorization_mode=authorization_mode, anonymous_auth=anonymous_auth,
            enable_admission_plugins=_split(enable_admission_plugins),
            disable_admission_plugins=_split(disable_admission_plugins),
            token_auth_file=token_auth_file, service_account_key_files=tuple(service_account_key_file),
            service_account_signing_key_file=service_account_signing_key_file,
            service_account_issuer=service_account_issuer, encryption_provider_config=encryption_provider_config,
            audit_log_path=audit_log_path, audit_log_maxage=audit_log_maxage,
            audit_log_maxbackup=audit_log_maxbackup, audit_log_maxsize=audit_log_maxsize,
            audit_policy_file=audit_policy_file,
        )
        try:
            _validate(options)
        except ValueError as exc:
            raise CLIError(str(exc)) from exc
        _exec_master(options, level)
