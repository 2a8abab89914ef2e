"""The pod network's kernel side in a throwaway netns: host-gw routes (only ours touched),
sysctls, and the namespace worker."""

from __future__ import annotations

import pytest

from agent.network import sysctl
from agent.network.netns import NetnsError, NetnsWorker
from agent.network.routes import (
    RTPROT_PICLUSTER,
    HostGwRoutes,
    Peer,
    PyrouteRouteTable,
    Route,
    desired_routes,
)

pytestmark = pytest.mark.root


@pytest.fixture
def node(netns_factory):
    ns = netns_factory()
    # A veth pair with both ends here stands in for the LAN (this kernel has no dummy driver).
    ns.ip("link", "add", "eth0", "type", "veth", "peer", "name", "lan0")
    ns.ip("addr", "add", "10.77.0.11/24", "dev", "eth0")
    ns.ip("link", "set", "lan0", "up")
    ns.ip("link", "set", "eth0", "up")
    return ns


@pytest.fixture
def table(node):
    t = PyrouteRouteTable(node.name)
    try:
        yield t
    finally:
        t.close()


def routes_of(node) -> list[str]:
    return sorted(line.strip() for line in node.ip("route", "show").splitlines())


def test_reconcile_routes_touches_only_ours(node, table):
    node.ip("route", "add", "10.50.0.0/16", "via", "10.77.0.1", "proto", "static")
    routes = HostGwRoutes(table)
    peers = [Peer("pi-1", "10.244.1.0/24", "10.77.0.11"), Peer("pi-2", "10.244.2.0/24", "10.77.0.12")]
    first = routes.reconcile(
        desired_routes(peers, self_name="pi-1", service_cidr="10.96.0.0/12", service_dev="eth0")
    )
    assert not first.errors and len(first.added) == 2
    shown = routes_of(node)
    assert f"10.244.2.0/24 via 10.77.0.12 dev eth0 proto {RTPROT_PICLUSTER}" in shown
    assert any(r.startswith("10.96.0.0/12 dev eth0 proto 190") for r in shown)
    assert table.list() == [Route("10.244.2.0/24", "10.77.0.12"), Route("10.96.0.0/12", dev="eth0")]

    assert not routes.reconcile(
        desired_routes(peers, self_name="pi-1", service_cidr="10.96.0.0/12", service_dev="eth0")
    ).changed

    moved = [Peer("pi-2", "10.244.2.0/24", "10.77.0.22"), Peer("pi-3", "10.244.3.0/24", "10.77.0.13")]
    second = routes.reconcile(desired_routes(moved, self_name="pi-1"))
    assert second.replaced == (Route("10.244.2.0/24", "10.77.0.22"),)
    assert second.removed == (Route("10.96.0.0/12", dev="eth0"),)
    assert table.list() == [Route("10.244.2.0/24", "10.77.0.22"), Route("10.244.3.0/24", "10.77.0.13")]

    routes.reconcile({})
    assert table.list() == []
    assert "10.50.0.0/16 via 10.77.0.1 dev eth0 proto static" in routes_of(node)


def test_unreachable_gateway_is_reported_not_raised(node, table):
    result = HostGwRoutes(table).reconcile(
        desired_routes(
            [Peer("far", "10.244.9.0/24", "192.0.2.9"), Peer("pi-2", "10.244.2.0/24", "10.77.0.12")],
            self_name="pi-1",
        )
    )
    assert [r.dst for r, _ in result.errors] == ["10.244.9.0/24"]
    assert result.added == (Route("10.244.2.0/24", "10.77.0.12"),)
    bad_dev = HostGwRoutes(table).reconcile({"10.96.0.0/12": Route("10.96.0.0/12", dev="nope0")})
    assert "No such device" in bad_dev.errors[0][1]


def test_sysctls_inside_the_namespace(node):
    host_before = sysctl.get_sysctl("net.ipv4.ip_forward")
    worker = NetnsWorker(node.name)
    try:
        assert worker.call(sysctl.get_sysctl, "net.ipv4.ip_forward") == "0"
        assert worker.call(sysctl.enable_forwarding) is True
        assert worker.call(sysctl.enable_forwarding) is False
        assert worker.call(sysctl.get_sysctl, "net.ipv4.ip_forward") == "1"
        assert worker.call(sysctl.enable_bridge_netfilter) in (True, False, None)
    finally:
        worker.close()
    assert sysctl.get_sysctl("net.ipv4.ip_forward") == host_before


def test_missing_namespace_is_a_clear_error():
    with pytest.raises(NetnsError, match="cannot open /var/run/netns/no-such-ns"):
        NetnsWorker("no-such-ns")


def test_the_route_helper_process_programs_the_kernel(node):
    """What the agent does: ``python -m agent.network.routes_apply`` in the node's namespace."""
    from agent.network.routes_apply import HelperRoutes

    routes = HelperRoutes(netns=node.name)
    peers = [Peer("pi-2", "10.244.2.0/24", "10.77.0.12"), Peer("far", "10.244.9.0/24", "192.0.2.9")]
    first = routes.reconcile(desired_routes(peers, self_name="pi-1", service_cidr="10.96.0.0/12",
                                            service_dev="eth0"))
    assert first.added == (Route("10.244.2.0/24", "10.77.0.12"), Route("10.96.0.0/12", dev="eth0"))
    assert [r.dst for r, _ in first.errors] == ["10.244.9.0/24"]
    assert f"10.244.2.0/24 via 10.77.0.12 dev eth0 proto {RTPROT_PICLUSTER}" in routes_of(node)
    node.ip("route", "del", "10.244.2.0/24")  # drift: repaired by the next run
    second = routes.reconcile(desired_routes(peers[:1], self_name="pi-1"))
    assert second.added == (Route("10.244.2.0/24", "10.77.0.12"),)
    assert second.removed == (Route("10.96.0.0/12", dev="eth0"),)
    assert not routes.reconcile(desired_routes(peers[:1], self_name="pi-1")).changed
    assert routes.runs == 2  # the last one was known to be applied already
