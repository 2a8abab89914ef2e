"""Names and addresses of testbeds: derived from (name, index), short enough for the kernel."""

from __future__ import annotations

import ipaddress

import pytest

from hw.testbed.errors import TestbedError, UnknownNode
from hw.testbed.naming import MAX_INDEX, MAX_NODES, Plan, node_name, node_number, validate_name


def test_default_testbed_plan() -> None:
    plan = Plan("picluster", 0)
    assert plan.subnet == ipaddress.IPv4Network("10.77.0.0/24")
    assert plan.bridge_ip == "10.77.0.1"
    assert plan.master_ip == "10.77.0.10"
    assert plan.ip("master") == "10.77.0.10"
    assert [plan.ip(node_name(k)) for k in (1, 2, 3)] == ["10.77.0.11", "10.77.0.12", "10.77.0.13"]
    assert plan.bridge == "tb0-lan"
    assert plan.netns("pi-1") == plan.veth("pi-1") == "tb0-pi-1"
    assert plan.netns("master") == "tb0-master"
    assert plan.server_url() == "https://10.77.0.10:6443"


@pytest.mark.parametrize(
    ("index", "node", "ip"),
    [
        pytest.param(7, "pi-1", "10.77.7.11", id="other-subnet"),
        pytest.param(MAX_INDEX, node_name(MAX_NODES), "10.77.255.254", id="last-address"),
    ],
)
def test_addresses(index: int, node: str, ip: str) -> None:
    assert Plan("t1", index).ip(node) == ip


def test_kernel_names_fit_in_15_characters() -> None:
    plan = Plan("a-very-long-testbed-name", MAX_INDEX)
    names = [plan.bridge, plan.netns("master"), plan.netns(node_name(MAX_NODES)), plan.veth(node_name(MAX_NODES))]
    assert max(len(n) for n in names) <= 15


def test_prefixes_do_not_collide() -> None:
    # tb1- must not match tb12-'s names, or down of one would remove the other's links.
    assert not Plan("b", 12).netns("pi-1").startswith(Plan("a", 1).prefix)


@pytest.mark.parametrize(("name", "n"), [("pi-1", 1), ("pi-244", 244), ("master", 0)])
def test_node_number(name: str, n: int) -> None:
    assert node_number(name) == n


@pytest.mark.parametrize("name", ["pi-0", "pi-245", "pi-01", "pi1", "node-1", "", "PI-1"])
def test_node_number_rejects(name: str) -> None:
    with pytest.raises(UnknownNode):
        node_number(name)


@pytest.mark.parametrize("name", ["", "Upper", "has space", "-lead", "x" * 32, "a/b"])
def test_validate_name_rejects(name: str) -> None:
    with pytest.raises(TestbedError, match="invalid testbed name"):
        validate_name(name)


def test_plan_rejects_bad_index() -> None:
    with pytest.raises(TestbedError):
        Plan("t", MAX_INDEX + 1)
    with pytest.raises(TestbedError):
        node_name(0)
