"""host-gw route reconciliation against the fake route table; Node -> Peer."""

from __future__ import annotations

import pytest

from agent.network.routes import FakeRouteTable, HostGwRoutes, Peer, Route, desired_routes, peer_from_node
from master.api.codec import convert
from master.api.core import Node

PEERS = [Peer("pi-1", "10.244.1.0/24", "10.77.0.11"), Peer("pi-2", "10.244.2.0/24", "10.77.0.12")]


def test_desired_routes_skip_self_and_add_service_route():
    got = desired_routes([*PEERS, Peer("pi-3", "10.244.3.0/24", "10.77.0.13")], self_name="pi-1")
    assert got == {
        "10.244.2.0/24": Route("10.244.2.0/24", gateway="10.77.0.12"),
        "10.244.3.0/24": Route("10.244.3.0/24", gateway="10.77.0.13"),
    }
    with_svc = desired_routes(PEERS, self_name="pi-1", service_cidr="10.96.0.0/12", service_dev="eth0")
    assert with_svc["10.96.0.0/12"] == Route("10.96.0.0/12", dev="eth0")


def test_reconcile_adds_changes_removes_and_is_idempotent():
    table = FakeRouteTable()
    routes = HostGwRoutes(table)
    first = routes.reconcile(desired_routes(PEERS, self_name="pi-1"))
    assert first.added == (Route("10.244.2.0/24", "10.77.0.12"),) and not first.errors
    assert not routes.reconcile(desired_routes(PEERS, self_name="pi-1")).changed

    moved = [
        PEERS[0],
        Peer("pi-2", "10.244.2.0/24", "10.77.0.22"),
        Peer("pi-4", "10.244.4.0/24", "10.77.0.14"),
    ]
    second = routes.reconcile(desired_routes(moved, self_name="pi-1"))
    assert second.replaced == (Route("10.244.2.0/24", "10.77.0.22"),)
    assert second.added == (Route("10.244.4.0/24", "10.77.0.14"),)

    third = routes.reconcile(desired_routes([PEERS[0]], self_name="pi-1"))
    assert {r.dst for r in third.removed} == {"10.244.2.0/24", "10.244.4.0/24"}
    assert table.list() == []


def test_one_bad_route_does_not_stop_the_others():
    table = FakeRouteTable(unreachable={"10.77.0.12"})
    result = HostGwRoutes(table).reconcile(
        desired_routes([*PEERS, Peer("pi-3", "10.244.3.0/24", "10.77.0.13")], self_name="pi-1")
    )
    assert [r.dst for r, _ in result.errors] == ["10.244.2.0/24"]
    assert "unreachable" in result.errors[0][1]
    assert result.added == (Route("10.244.3.0/24", "10.77.0.13"),)


def node(name: str, pod_cidr: str = "", address: str = "", cidrs: list[str] | None = None) -> Node:
    spec: dict = {"podCIDR": pod_cidr} if pod_cidr else {}
    if cidrs:
        spec["podCIDRs"] = cidrs
    addresses = [{"type": "Hostname", "address": name}]
    if address:
        addresses.append({"type": "InternalIP", "address": address})
    return convert({"metadata": {"name": name}, "spec": spec, "status": {"addresses": addresses}}, Node)


@pytest.mark.parametrize(
    ("n", "peer"),
    [
        pytest.param(
            node("pi-2", "10.244.2.0/24", "10.77.0.12"), Peer("pi-2", "10.244.2.0/24", "10.77.0.12"), id="ok"
        ),
        pytest.param(
            node("pi-2", address="10.77.0.12", cidrs=["10.244.2.0/24"]),
            Peer("pi-2", "10.244.2.0/24", "10.77.0.12"),
            id="podCIDRs",
        ),
        pytest.param(node("pi-2", address="10.77.0.12"), None, id="no-cidr-yet"),
        pytest.param(node("pi-2", "10.244.2.0/24"), None, id="no-internal-ip"),
        pytest.param(node("pi-2", "garbage", "10.77.0.12"), None, id="bad-cidr"),
    ],
)
def test_peer_from_node(n, peer):
    assert peer_from_node(n) == peer
