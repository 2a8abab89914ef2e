"""The agent process: the kubelet, the pod network and the service proxy, sharing one API client
and one set of informers.

::

    agent = Agent(AgentSettings(kubelet=KubeletSettings(node_name="pi-1", node_ip="10.77.0.11"),
                                kubeconfig=Path("kubeconfig"), runtime_endpoint="unix:///run/containerd/containerd.sock"))
    await agent.start()      # one log line per step
    await agent.stop()       # the agent stops; pods keep running

Start-up order: the API client (kubeconfig), the container runtime, the pod network and the
proxy (they only wait for informers), then the kubelet (runtime check, HTTPS server, Node
registration, pod informer, workers).

The pod network (``agent.network``): the Node informer (every Node) gives this node's podCIDR
(set by the nodeipam controller, or by ``--pod-cidr`` at registration) and every other node's.
Once the podCIDR is known the CNI config is written (so containerd reports its network ready and
the node can become Ready; NetworkUnavailable turns False), and on every Node change the host-gw
routes to the other nodes' podCIDRs are reconciled. The proxy (``agent.proxy``) gets Services and
EndpointSlices from their informers and the podCIDR for pod-egress masquerading.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from agent.kubelet.certs import serving_context
from agent.kubelet.cri.containerd import DEFAULT_ENDPOINT, ContainerdRuntime
from agent.kubelet.cri.metrics import RuntimeMetrics
from agent.kubelet.kubelet import Kubelet
from agent.kubelet.nodestatus import NetworkCondition
from agent.kubelet.settings import KubeletSettings
from hw.board.board import LinuxBoard
from hw.board.metrics import BoardCollector
from master.api.core import Node, Service
from master.api.discovery import EndpointSlice
from master.client import kubeconfig
from master.client.config import ClientConfig
from master.client.informer import Informer, InformerSettings, SharedInformerFactory
from master.client.rest import ApiClient
from master.util.tasks import cancel_and_wait

__all__ = ["Agent", "AgentSettings", "lan_device", "limit_malloc_arenas", "shrink_tls_buffers"]

log = logging.getLogger("picluster.agent")

ROUTE_RESYNC = 300.0  # seconds between route checks when nothing changes
# Requests in flight to the apiserver at once (watches have their own connections): enough for
# the status writers, the pods being started (token requests), events, lease and node status,
# so a burst of pod starts reuses keep-alive connections instead of opening dozens of TLS sessions.
API_CONNECTIONS = 12


@dataclass(frozen=True, slots=True)
class AgentSettings:
    kubelet: KubeletSettings
    kubeconfig: Path | None = None
    server: str | None = None
    runtime_endpoint: str = DEFAULT_ENDPOINT
    cni_conf_dir: Path = Path("/etc/cni/net.d")
    pod_cidr: str | None = None
    cluster_cidr: str = "10.244.0.0/16"
    service_cidr: str = "10.96.0.0/12"
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    network: bool = True
    proxy: bool = True
    client: ClientConfig | None = None  # tests pass one instead of a kubeconfig


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's per-thread malloc arenas (gRPC and to_thread workers each get one): on a
    Pi that is tens of MB of RSS for nothing. No-op without glibc."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        return


def shrink_tls_buffers(size: int = 32 << 10) -> None:
    """Give every TLS connection of this process a ``size`` receive buffer instead of asyncio's
    256 KiB (allocated zeroed, so resident, per connection: the agent keeps one per watch).
    TLS records are at most 16 KiB, so reads only take a few more calls. asyncio reads the
    size from a class attribute of its SSL protocol; without one (another Python) nothing changes."""
    import asyncio.sslproto

    if isinstance(getattr(asyncio.sslproto.SSLProtocol, "max_size", None), int):
        asyncio.sslproto.SSLProtocol.max_size = size


def lan_device(node_ip: str) -> str | None:
    """The interface that holds ``node_ip`` (the LAN), for the Service CIDR route."""
    import psutil

    for name, addrs in psutil.net_if_addrs().items():
        if any(a.address == node_ip for a in addrs):
            return name
    return None


class NetworkSync:
    """Keeps the pod network in step with the Nodes: CNI config, routes, the proxy's podCIDR."""

    def __init__(self, settings: AgentSettings, nodes: Informer[Node], *, on_change: Callable[[], None]) -> None:
        from agent.network.cni import CNISettings
        from agent.network.podnet import NetworkSettings, PodNetwork
        from agent.network.routes_apply import HelperRoutes

        k = settings.kubelet
        self._name = k.node_name
        self._nodes = nodes
        self._on_change = on_change
        # Routes are applied by a short-lived helper process (agent/network/__init__.py says why).
        self.routes = HelperRoutes(resync=ROUTE_RESYNC)
        self.net = PodNetwork(
            NetworkSettings(node_name=k.node_name, cni=CNISettings(conf_dir=settings.cni_conf_dir, data_dir=k.data_dir),
                            service_cidr=settings.service_cidr, service_dev=lan_device(k.node_ip)),
            self.routes,
        )
        self.pod_cidr: str | None = None
        self.condition: NetworkCondition | None = NetworkCondition(False, "NoPodCIDR", "the node has no podCIDR yet")
        self._wake = asyncio.Event()
        self.listeners: list[Callable[[str], None]] = []

    def request(self, *_: Any) -> None:
        self._wake.set()

    async def sync(self) -> None:
        nodes = self._nodes.cache.list()
        me = next((n for n in nodes if n.metadata.name == self._name), None)
        cidr = (me.spec.pod_cidr or next(iter(me.spec.pod_cidrs), "")) if me is not None else ""
        if cidr:
            status = await asyncio.to_thread(self.net.setup, cidr)
            cond = NetworkCondition(status.available, status.reason, status.message)
            if cond != self.condition:
                log.info("pod network: %s", status.message)
                self.condition = cond
                self._on_change()
            if cidr != self.pod_cidr:
                self.pod_cidr = cidr
                for listener in self.listeners:
                    listener(cidr)
        changes = await asyncio.to_thread(self.net.sync_routes, nodes)
        for route in changes.added + changes.replaced:
            log.info("route %s%s%s", route.dst, f" via {route.gateway}" if route.gateway else "",
                     f" dev {route.dev}" if route.dev else "")
        for route in changes.removed:
            log.info("route %s removed", route.dst)
        for route, err in changes.errors:
            log.warning("route %s: %s", route.dst, err)

    async def run(self) -> None:
        await self._nodes.wait_synced()
        delay = 1.0
        while True:
            self._wake.clear()
            try:
                await self.sync()
                delay = 1.0
            except Exception as exc:
                log.warning("pod network sync failed: %s; retrying in %.0fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
                self._wake.set()
            # Node events wake us; the timeout lets the route helper repair drift on a quiet cluster.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), ROUTE_RESYNC)

    def close(self) -> None:
        self.routes.close()


class Agent:
    def __init__(self, settings: AgentSettings, *, registry: CollectorRegistry | None = None,
                 step: Callable[[str], None] = log.info) -> None:
        self.settings = settings
        self.registry = registry or CollectorRegistry()
        self._step = step
        self.api: ApiClient | None = None
        self.runtime: ContainerdRuntime | None = None
        self.kubelet: Kubelet | None = None
        self.network: NetworkSync | None = None
        self.proxy: Any = None
        self._netfilter: Any = None
        self.informers: SharedInformerFactory | None = None
        self._tasks: list[asyncio.Task[Any]] = []

    def _client_config(self) -> ClientConfig:
        s = self.settings
        if s.client is not None:
            return s.client
        cfg = kubeconfig.load_client_config(str(s.kubeconfig) if s.kubeconfig else None, server=s.server)
        return replace(cfg, user_agent=f"picluster-agent/{s.kubelet.node_name}")

    async def start(self) -> None:
        s = self.settings
        k = s.kubelet
        cfg = self._client_config()
        self.api = ApiClient(cfg, pool_size=API_CONNECTIONS)
        self._step(f"agent: node {k.node_name} ({k.node_ip}), apiserver {cfg.server}")
        self.runtime = ContainerdRuntime(s.runtime_endpoint, metrics=RuntimeMetrics(self.registry))
        board = LinuxBoard(k.data_dir)
        self.registry.register(BoardCollector(board))
        # Reconnect within seconds once the master is back (client-go waits up to 30 s).
        self.informers = SharedInformerFactory(self.api, settings=InformerSettings(backoff_max=5.0))
        services: Informer[Service] = self.informers.informer(Service)
        kubelet_holder: list[Kubelet] = []

        def poke_node_status() -> None:
            if kubelet_holder:
                kubelet_holder[0].node_status.changed.set()

        nodes: Informer[Node] | None = None
        if s.network:
            nodes = self.informers.informer(Node)
            try:
                self.network = NetworkSync(s, nodes, on_change=poke_node_status)
            except OSError as exc:
                log.error("pod network disabled (the node stays NotReady without a CNI config): %s", exc)
            else:
                nodes.add_event_handler(on_add=self.network.request, on_update=self.network.request,
                                        on_delete=self.network.request)
                self._tasks.append(asyncio.create_task(self.network.run(), name="pod-network"))
                self._step(f"agent: pod network (CNI config in {s.cni_conf_dir}, host-gw routes)")
        if s.proxy:
            self._start_proxy(services)
        ctx, identity = serving_context(k.certs, node_name=k.node_name, node_ip=k.node_ip, client_ca=cfg.ca_data,
                                        tls_cert_file=s.tls_cert_file, tls_key_file=s.tls_key_file)
        self._step(f"agent: HTTPS identity: {identity.describe()}")
        network = (lambda: self.network.condition if self.network is not None else None) if s.network else (lambda: None)
        self.kubelet = Kubelet(
            k, api=self.api, runtime=self.runtime, board=board, informers=self.informers, registry=self.registry,
            pod_cidr=s.pod_cidr, network=network, services=services.cache.list, ssl_context=ctx,
            require_client_cert=cfg.ca_data is not None, nodes=nodes, step=self._step,
        )
        kubelet_holder.append(self.kubelet)
        await self.kubelet.start()
        self._step("agent: ready")

    def _start_proxy(self, services: Informer[Service]) -> None:
        from agent.proxy import KernelNetfilter, NetfilterError, ProxyConfig, ProxyMetrics, ServiceProxy

        s = self.settings
        assert self.informers is not None
        try:
            self._netfilter = KernelNetfilter()
        except NetfilterError as exc:
            log.error("service proxy disabled: %s", exc)
            return
        self.proxy = ServiceProxy(
            ProxyConfig(node_name=s.kubelet.node_name, cluster_cidr=s.cluster_cidr, pod_cidr=s.pod_cidr),
            self._netfilter, metrics=ProxyMetrics(self.registry),
        )
        proxy = self.proxy
        services.add_event_handler(on_add=proxy.on_service, on_update=lambda _o, n: proxy.on_service(n),
                                   on_delete=proxy.on_service_deleted)
        slices: Informer[EndpointSlice] = self.informers.informer(EndpointSlice)
        slices.add_event_handler(on_add=proxy.on_endpoint_slice, on_update=lambda _o, n: proxy.on_endpoint_slice(n),
                                 on_delete=proxy.on_endpoint_slice_deleted)
        if self.network is not None:
            self.network.listeners.append(lambda cidr: proxy.set_config(replace(proxy.config, pod_cidr=cidr)))

        async def run_proxy() -> None:
            await asyncio.gather(services.wait_synced(), slices.wait_synced())
            await proxy.run()

        self._tasks.append(asyncio.create_task(run_proxy(), name="service-proxy"))
        self._step(f"agent: service proxy (nftables table {proxy.config.table})")

    async def stop(self) -> None:
        if self.kubelet is not None:
            await self.kubelet.stop()
        await cancel_and_wait(self._tasks, ignore_errors=True)
        self._tasks.clear()
        if self.informers is not None:
            await self.informers.stop()
        if self.network is not None:
            self.network.close()
        if self._netfilter is not None:
            with contextlib.suppress(Exception):
                self._netfilter.close()
        if self.runtime is not None:
            await self.runtime.close()
        if self.api is not None:
            await self.api.close()

