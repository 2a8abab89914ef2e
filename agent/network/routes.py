"""host-gw routing: a route to every other node's podCIDR via that node's address.

Every route we add carries our own routing protocol number (``RTPROT_PICLUSTER`` in the
route's ``proto`` field), and we only ever list, change or delete routes that carry it,
so routes made by anybody else (DHCP, the admin, another CNI) are never touched.

``HostGwRoutes.reconcile(desired)`` is level-based and idempotent: it reads our routes,
adds the missing ones, replaces those whose gateway or device changed and deletes the
rest, and returns what it did (errors included, per route, as values: one unreachable
gateway does not stop the other routes).

    peers = [Peer("pi-2", "10.244.2.0/24", "10.77.0.12"), Peer("pi-3", "10.244.3.0/24", "10.77.0.13")]
    routes.reconcile(desired_routes(peers, self_name="pi-1"))
    # -> 10.244.2.0/24 via 10.77.0.12 proto 190, 10.244.3.0/24 via 10.77.0.13 proto 190

Optionally a route for the Service CIDR out of the node's LAN device: a node without a
default route (the simulated Pis have none) needs one so that its own connections to a
ClusterIP get past the routing decision and reach our nftables ``output`` chain.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from agent.network.netns import NetnsWorker

if TYPE_CHECKING:  # the route helper process (routes_apply) imports this module: keep it light
    from master.api.core import Node

__all__ = [
    "RTPROT_PICLUSTER",
    "FakeRouteTable",
    "HostGwRoutes",
    "Peer",
    "PyrouteRouteTable",
    "Route",
    "RouteError",
    "RouteReconciler",
    "RouteTable",
    "desired_routes",
    "peer_from_node",
]

RTPROT_PICLUSTER = 190  # our mark in the route's protocol field (0-255; 0-4 are the kernel's)


class RouteError(OSError):
    pass


@dataclass(frozen=True, slots=True, order=True)
class Route:
    dst: str  # "10.244.2.0/24"
    gateway: str | None = None
    dev: str | None = None


@dataclass(frozen=True, slots=True)
class Peer:
    """Another node as routing sees it."""

    name: str
    pod_cidr: str
    address: str


def peer_from_node(node: Node) -> Peer | None:
    """A Node with a podCIDR and an InternalIP (both IPv4) -> Peer; otherwise None."""
    cidr = node.spec.pod_cidr or next(iter(node.spec.pod_cidrs), "")
    address = next((a.address for a in node.status.addresses if a.type == "InternalIP"), "")
    try:
        ipaddress.IPv4Network(cidr)
        ipaddress.IPv4Address(address)
    except ValueError:
        return None
    return Peer(node.metadata.name, cidr, address)


def desired_routes(
    peers: Iterable[Peer],
    *,
    self_name: str,
    service_cidr: str | None = None,
    service_dev: str | None = None,
) -> dict[str, Route]:
    """Routes by destination: every other peer's podCIDR via its address (+ the Service CIDR)."""
    routes: dict[str, Route] = {}
    for p in sorted(peers, key=lambda p: p.name):
        if p.name == self_name:
            continue
        dst = str(ipaddress.IPv4Network(p.pod_cidr))
        routes.setdefault(dst, Route(dst, gateway=p.address))
    if service_cidr is not None and service_dev is not None:
        dst = str(ipaddress.IPv4Network(service_cidr))
        routes[dst] = Route(dst, dev=service_dev)
    return routes


class RouteTable(Protocol):
    """Our routes (those with ``RTPROT_PICLUSTER``) in the main table of one namespace."""

    def list(self) -> list[Route]: ...

    def add(self, route: Route) -> None: ...

    def replace(self, route: Route) -> None: ...

    def delete(self, route: Route) -> None: ...

    def close(self) -> None: ...


@dataclass
class FakeRouteTable:
    """In memory; ``unreachable`` gateways fail like the kernel's ENETUNREACH."""

    routes: dict[str, Route] = field(default_factory=dict)
    unreachable: set[str] = field(default_factory=set)
    links: set[str] = field(default_factory=lambda: {"eth0", "cni0"})

    def list(self) -> list[Route]:
        return sorted(self.routes.values())

    def _check(self, route: Route) -> None:
        if route.gateway is not None and route.gateway in self.unreachable:
            raise RouteError(101, f"route {route.dst} via {route.gateway}: Network is unreachable")
        if route.dev is not None and route.dev not in self.links:
            raise RouteError(19, f"route {route.dst} dev {route.dev}: No such device")

    def add(self, route: Route) -> None:
        self._check(route)
        if route.dst in self.routes:
            raise RouteError(17, f"route {route.dst}: File exists")
        self.routes[route.dst] = route

    def replace(self, route: Route) -> None:
        self._check(route)
        self.routes[route.dst] = route

    def delete(self, route: Route) -> None:
        if route.dst not in self.routes:
            raise RouteError(3, f"route {route.dst}: No such process")
        del self.routes[route.dst]

    def close(self) -> None:
        pass


class PyrouteRouteTable:
    """The kernel's main routing table through pyroute2's IPRoute, in ``netns`` (or here)."""

    def __init__(self, netns: str | None = None) -> None:
        from pyroute2 import IPRoute

        self._worker = NetnsWorker(netns, name="routes")
        try:
            self._ipr: Any = self._worker.call(IPRoute)
        except BaseException:
            self._worker.close()
            raise

    def close(self) -> None:
        try:
            self._worker.call(self._ipr.close)
        finally:
            self._worker.close()

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        from pyroute2.netlink.exceptions import NetlinkError

        try:
            return self._worker.call(fn, *args)
        except NetlinkError as exc:
            raise RouteError(exc.code, f"{what}: {exc}") from exc

    def _ifindex(self, dev: str) -> int:
        found = self._call(f"link {dev}", self._ipr.link_lookup, dev)
        if not found:
            raise RouteError(19, f"link {dev}: No such device")
        return int(found[0])

    def list(self) -> list[Route]:
        def dump() -> list[Route]:
            names = {m["index"]: m.get("ifname") for m in self._ipr.get_links()}
            out: list[Route] = []
            for m in self._ipr.get_routes(family=socket.AF_INET, table=254):
                if m["proto"] != RTPROT_PICLUSTER:
                    continue
                dst = f"{m.get('dst') or '0.0.0.0'}/{m['dst_len']}"
                gateway = m.get("gateway")
                dev = None if gateway else names.get(m.get("oif"))
                out.append(Route(dst, gateway=gateway, dev=dev))
            return sorted(out)

        return list(self._call("list routes", dump))

    def _spec(self, route: Route) -> dict[str, Any]:
        spec: dict[str, Any] = {"dst": route.dst, "proto": RTPROT_PICLUSTER, "table": 254}
        if route.gateway is not None:
            spec["gateway"] = route.gateway
        if route.dev is not None:
            spec["oif"] = self._ifindex(route.dev)
        return spec

    def add(self, route: Route) -> None:
        spec = self._spec(route)
        self._call(f"add route {route.dst}", lambda: self._ipr.route("add", **spec))

    def replace(self, route: Route) -> None:
        spec = self._spec(route)
        self._call(f"replace route {route.dst}", lambda: self._ipr.route("replace", **spec))

    def delete(self, route: Route) -> None:
        spec = {"dst": route.dst, "proto": RTPROT_PICLUSTER, "table": 254}
        self._call(f"delete route {route.dst}", lambda: self._ipr.route("del", **spec))


@dataclass(frozen=True, slots=True)
class RouteChanges:
    added: tuple[Route, ...] = ()
    replaced: tuple[Route, ...] = ()
    removed: tuple[Route, ...] = ()
    errors: tuple[tuple[Route, str], ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.removed)


class RouteReconciler(Protocol):
    """Makes our routes exactly ``desired`` (by destination); what it did, per-route errors included."""

    def reconcile(self, desired: Mapping[str, Route]) -> RouteChanges: ...


class HostGwRoutes:
    def __init__(self, table: RouteTable) -> None:
        self._table = table

    def reconcile(self, desired: Mapping[str, Route]) -> RouteChanges:
        current = {r.dst: r for r in self._table.list()}
        added: list[Route] = []
        replaced: list[Route] = []
        removed: list[Route] = []
        errors: list[tuple[Route, str]] = []
        for dst in sorted(desired):
            want = desired[dst]
            have = current.get(dst)
            if have == want:
                continue
            try:
                if have is None:
                    self._table.add(want)
                    added.append(want)
                else:
                    self._table.replace(want)
                    replaced.append(want)
            except RouteError as exc:
                errors.append((want, str(exc)))
        for dst in sorted(set(current) - set(desired)):
            try:
                self._table.delete(current[dst])
                removed.append(current[dst])
            except RouteError as exc:
                errors.append((current[dst], str(exc)))
        return RouteChanges(tuple(added), tuple(replaced), tuple(removed), tuple(errors))
