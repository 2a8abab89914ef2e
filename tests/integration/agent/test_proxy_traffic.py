"""Real traffic through our table, in throwaway namespaces (no testbed needed)::

    client (10.99.1.2) --veth-- node (10.99.1.1; cni0 10.244.1.1/24) --bridge-- ep1 (10.244.1.2)
                                                                      \\-------- ep2 (10.244.1.3)

The node runs the proxy (KernelNetfilter in its namespace) and routes; ep1 and ep2 run
TCP servers that answer "<name> <peer address>". Proves DNAT, random balancing over two
endpoints, NodePort, reject of a Service without endpoints, ClientIP affinity, hairpin,
the node's own connections, which sources get masqueraded, and pod egress masquerade.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from agent.network.routes import HostGwRoutes, PyrouteRouteTable, Route
from agent.proxy import (
    EndpointInfo,
    EndpointPortInfo,
    EndpointSliceInfo,
    KernelNetfilter,
    ProxyConfig,
    ServiceInfo,
    ServicePortInfo,
    ServiceProxy,
)
from tests.fixtures.netns import Netns, requires_netns

pytestmark = [pytest.mark.root, requires_netns, pytest.mark.asyncio(loop_scope="module")]


class Server:
    """Answers every TCP connection with "<name> <peer address>" and closes it."""

    def __init__(self, ns: Netns, name: str, port: int) -> None:
        self.name = name
        self.sock = ns.call(self._listen, port)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def _listen(port: int) -> socket.socket:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(64)
        return s

    def _serve(self) -> None:
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.sendall(f"{self.name} {peer[0]}".encode())

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(timeout=5)


def fetch(ns: Netns, ip: str, port: int) -> tuple[str, str]:
    def go() -> tuple[str, str]:
        with socket.create_connection((ip, port), timeout=5) as s:
            name, peer = s.recv(200).decode().split()
            return name, peer

    return ns.call(go)


class Topology:
    def __init__(self) -> None:
        self.namespaces: list[Netns] = []
        self.servers: list[Server] = []

    def netns(self, role: str) -> Netns:
        name = f"pctraf{role}{len(self.namespaces)}"
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
        ns = Netns(name)
        self.namespaces.append(ns)
        ns.ip("link", "set", "lo", "up")
        return ns

    def close(self) -> None:
        for s in self.servers:
            s.close()
        for ns in reversed(self.namespaces):
            ns.close()


@pytest.fixture(scope="module")
def topo() -> Iterator[tuple[Netns, Netns, Netns, Netns]]:
    t = Topology()
    try:
        node, client, ep1, ep2 = t.netns("n"), t.netns("c"), t.netns("a"), t.netns("b")
        node.ip("link", "add", "c0", "type", "veth", "peer", "name", "eth0", "netns", client.name)
        node.ip("addr", "add", "10.99.1.1/24", "dev", "c0")
        node.ip("link", "set", "c0", "up")
        client.ip("addr", "add", "10.99.1.2/24", "dev", "eth0")
        client.ip("link", "set", "eth0", "up")
        client.ip("route", "add", "default", "via", "10.99.1.1")
        node.ip("link", "add", "cni0", "type", "bridge")
        node.ip("addr", "add", "10.244.1.1/24", "dev", "cni0")
        node.ip("link", "set", "cni0", "up")
        for port, ep, ip in (("v1", ep1, "10.244.1.2"), ("v2", ep2, "10.244.1.3")):
            node.ip("link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ep.name)
            node.ip("link", "set", port, "master", "cni0")
            node.ip("link", "set", port, "type", "bridge_slave", "hairpin", "on")
            node.ip("link", "set", port, "up")
            ep.ip("addr", "add", f"{ip}/24", "dev", "eth0")
            ep.ip("link", "set", "eth0", "up")
            ep.ip("route", "add", "default", "via", "10.244.1.1")
        node.sysctl("net.ipv4.ip_forward", "1")
        # The client's packets to Service IPs leave by the interface they came in on; the node
        # would answer with an ICMP redirect first, and the per-host ICMP rate limit would then
        # swallow the port-unreachable that a UDP reject sends.
        node.sysctl("net.ipv4.conf.all.send_redirects", "0")
        node.sysctl("net.ipv4.conf.c0.send_redirects", "0")
        with contextlib.suppress(OSError):
            node.sysctl("net.bridge.bridge-nf-call-iptables", "1")
        table = PyrouteRouteTable(node.name)
        try:
            # Without a default route the node needs one for Service IPs (see agent.network.routes).
            HostGwRoutes(table).reconcile({"10.96.0.0/12": Route("10.96.0.0/12", dev="c0")})
        finally:
            table.close()
        t.servers += [Server(ep1, "ep1", 8080), Server(ep2, "ep2", 8080), Server(client, "client", 9000)]
        yield node, client, ep1, ep2
    finally:
        t.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def proxy(topo) -> AsyncIterator[ServiceProxy]:
    node = topo[0]
    nf = KernelNetfilter(node.name)
    p = ServiceProxy(ProxyConfig(node_name="pi-1", pod_cidr="10.244.1.0/24"), nf)
    ports = (EndpointPortInfo("http", 8080),)
    ep1 = EndpointInfo("10.244.1.2", ports, node_name="pi-1")
    ep2 = EndpointInfo("10.244.1.3", ports, node_name="pi-1")

    def svc(name: str, ip: str, node_port: int | None = None, **kw: object) -> ServiceInfo:
        port = ServicePortInfo("http", "TCP", 80, "web", node_port)
        kind = "NodePort" if node_port else "ClusterIP"
        return ServiceInfo("default", name, ip, (port,), type=kind, **kw)  # type: ignore[arg-type]

    p.update_service(svc("web", "10.96.0.10", 30080))
    p.update_service(svc("sticky", "10.96.0.11", session_affinity=True))
    empty = svc("empty", "10.96.0.12", 30082)
    p.update_service(
        ServiceInfo(
            "default",
            "empty",
            "10.96.0.12",
            (*empty.ports, ServicePortInfo("dns", "UDP", 53, 53)),
            type="NodePort",
        )
    )
    p.update_service(svc("self", "10.96.0.13"))
    p.update_endpoint_slice(EndpointSliceInfo("default", "web-1", "web", (ep1, ep2)))
    p.update_endpoint_slice(EndpointSliceInfo("default", "sticky-1", "sticky", (ep1, ep2)))
    p.update_endpoint_slice(EndpointSliceInfo("default", "self-1", "self", (ep1,)))
    await p.sync()
    try:
        yield p
    finally:
        nf.close()


async def test_cluster_ip_balances_over_both_endpoints_and_masquerades_outsiders(topo, proxy):
    _, client, _, _ = topo
    answers = [fetch(client, "10.96.0.10", 80) for _ in range(24)]
    assert {name for name, _ in answers} == {"ep1", "ep2"}
    # The client is outside the cluster CIDR: masqueraded to the node's bridge address.
    assert {peer for _, peer in answers} == {"10.244.1.1"}


async def test_pods_keep_their_address_and_hairpin_works(topo, proxy):
    _, _, ep1, _ = topo
    answers = {fetch(ep1, "10.96.0.10", 80) for _ in range(24)}
    # From ep1 to ep2 the pod's own address is kept; to itself (hairpin) it is masqueraded.
    assert ("ep2", "10.244.1.2") in answers
    assert ("ep1", "10.244.1.1") in answers
    assert fetch(ep1, "10.96.0.13", 80) == ("ep1", "10.244.1.1")


async def test_node_port_from_outside_and_from_the_node(topo, proxy):
    node, client, _, _ = topo
    assert fetch(client, "10.99.1.1", 30080)[0] in {"ep1", "ep2"}
    assert fetch(node, "10.99.1.1", 30080)[0] in {"ep1", "ep2"}
    assert fetch(node, "10.96.0.10", 80)[0] in {"ep1", "ep2"}


async def test_no_endpoints_is_refused_at_once(topo, proxy):
    node, client, _, _ = topo
    for ns, ip, port in ((client, "10.96.0.12", 80), (node, "10.96.0.12", 80), (client, "10.99.1.1", 30082)):
        with pytest.raises(ConnectionRefusedError):
            fetch(ns, ip, port)


async def test_no_endpoints_udp_gets_port_unreachable(topo, proxy):
    _, client, _, _ = topo

    def ask() -> bytes:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(5)
            s.connect(("10.96.0.12", 53))
            s.send(b"hello")
            return s.recv(100)

    with pytest.raises(ConnectionRefusedError):
        client.call(ask)


async def test_client_ip_affinity_sticks(topo, proxy):
    _, client, ep1, _ = topo
    assert len({fetch(client, "10.96.0.11", 80)[0] for _ in range(12)}) == 1
    assert len({fetch(ep1, "10.96.0.11", 80)[0] for _ in range(12)}) == 1


async def test_pod_egress_is_masqueraded(topo, proxy):
    _, _, ep1, _ = topo
    assert fetch(ep1, "10.99.1.2", 9000) == ("client", "10.99.1.1")


async def test_endpoint_change_takes_effect(topo, proxy):
    _, client, _, _ = topo
    ports = (EndpointPortInfo("http", 8080),)
    proxy.update_endpoint_slice(
        EndpointSliceInfo("default", "web-1", "web", (EndpointInfo("10.244.1.3", ports, node_name="pi-1"),))
    )
    result = await proxy.sync()
    assert result.mode == "update"
    assert {fetch(client, "10.96.0.10", 80)[0] for _ in range(10)} == {"ep2"}
    proxy.update_endpoint_slice(EndpointSliceInfo("default", "web-1", "web", ()))
    await proxy.sync()
    with pytest.raises(ConnectionRefusedError):
        fetch(client, "10.96.0.10", 80)
