"""The node's pod network in one place, for the agent to call.

::

    net = PodNetwork(NetworkSettings(node_name="pi-1", cni=CNISettings(conf_dir=..., data_dir=...),
                                     service_dev="eth0"),
                     HelperRoutes())             # or HostGwRoutes(PyrouteRouteTable()) in-process
    status = net.setup(node.spec.pod_cidr)   # forwarding, br_netfilter, CNI config
    # report NetworkUnavailable = not status.available (reason, message) on the Node
    net.sync_routes(nodes)                   # on every Node add/update/delete (level-based)

``setup`` and ``sync_routes`` are idempotent; call them again whenever the inputs change.
Both act on the network namespace of the calling thread (the agent's own).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from agent.network import cni, sysctl
from agent.network.routes import Peer, RouteChanges, RouteReconciler, desired_routes, peer_from_node
from master.api.core import Node

__all__ = ["NetworkSettings", "NetworkStatus", "PodNetwork"]


@dataclass(frozen=True, slots=True)
class NetworkSettings:
    node_name: str
    cni: cni.CNISettings = field(default_factory=cni.CNISettings)
    service_cidr: str | None = "10.96.0.0/12"
    service_dev: str | None = None  # the LAN device, for the Service CIDR route (None: no route)
    proc_sys: Path = sysctl.PROC_SYS


@dataclass(frozen=True, slots=True)
class NetworkStatus:
    """What the Node's NetworkUnavailable condition should say (``available`` -> "False")."""

    available: bool
    reason: str
    message: str


class PodNetwork:
    def __init__(self, settings: NetworkSettings, routes: RouteReconciler) -> None:
        self.settings = settings
        self._routes = routes

    def setup(self, pod_cidr: str | None) -> NetworkStatus:
        if not pod_cidr:
            return NetworkStatus(False, "NoPodCIDR", "the node has no podCIDR yet")
        s = self.settings
        try:
            sysctl.enable_forwarding(proc_sys=s.proc_sys)
            bridge_nf = sysctl.enable_bridge_netfilter(proc_sys=s.proc_sys)
        except sysctl.SysctlError as exc:
            return NetworkStatus(False, "SysctlFailed", str(exc))
        try:
            cni.write_config(pod_cidr, s.cni)
        except cni.CNIError as exc:
            return NetworkStatus(False, "CNIConfigFailed", str(exc))
        note = (
            ""
            if bridge_nf is not None
            else " (br_netfilter not loaded: same-node Service replies may bypass NAT)"
        )
        return NetworkStatus(True, "PiclusterNetworkReady", f"pod network {pod_cidr} on {s.cni.bridge}{note}")

    def sync_routes(self, nodes: Iterable[Node | Peer]) -> RouteChanges:
        peers = [n if isinstance(n, Peer) else peer_from_node(n) for n in nodes]
        desired = desired_routes(
            (p for p in peers if p is not None),
            self_name=self.settings.node_name,
            service_cidr=self.settings.service_cidr,
            service_dev=self.settings.service_dev,
        )
        return self._routes.reconcile(desired)
