"""The proxy against the real kernel in a throwaway netns, read back with ``nft`` as the oracle:
stale state cleaned up on start, other tables untouched, unchanged chains keep their rule
handles (only what changed is rewritten), idempotent syncs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

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

pytestmark = pytest.mark.root

OTHER_TABLES = """
table ip other {
    chain input { type filter hook input priority 0; policy accept; tcp dport 22 accept; }
    chain nat { type nat hook prerouting priority -100; ip daddr 10.96.0.10 tcp dport 80 dnat to 10.9.9.9:1; }
}
table inet filter {
    set blocked { type ipv4_addr; elements = { 192.0.2.1 } }
    chain forward { type filter hook forward priority 0; policy accept; ip saddr @blocked drop; }
}
"""


@pytest.fixture
def node(netns_factory):
    return netns_factory()


@pytest.fixture
def proxy(node) -> Iterator[ServiceProxy]:
    nf = KernelNetfilter(node.name)
    try:
        yield ServiceProxy(ProxyConfig(node_name="pi-1", pod_cidr="10.244.1.0/24"), nf)
    finally:
        nf.close()


def service(i: int, node_port: int | None = None) -> ServiceInfo:
    return ServiceInfo(
        "default",
        f"svc-{i}",
        f"10.96.{i // 250}.{i % 250 + 1}",
        (ServicePortInfo("http", "TCP", 80, "web", node_port),),
        type="NodePort" if node_port else "ClusterIP",
    )


def endpoints(i: int, *hosts: int) -> EndpointSliceInfo:
    ports = (EndpointPortInfo("http", 8080),)
    eps = tuple(EndpointInfo(f"10.244.{h}.{i % 250 + 2}", ports, node_name=f"pi-{h}") for h in hosts)
    return EndpointSliceInfo("default", f"svc-{i}-abc", f"svc-{i}", eps)


def nft_json(node, *args: str) -> list[dict[str, Any]]:
    return json.loads(node.nft("-j", "list", *args))["nftables"]


def chains_with_handles(node) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for item in nft_json(node, "table", "ip", "picluster"):
        if "chain" in item:
            out.setdefault(item["chain"]["name"], [])
        elif "rule" in item:
            out.setdefault(item["rule"]["chain"], []).append(item["rule"]["handle"])
    return out


async def test_stale_state_is_removed_on_start(node, proxy):
    node.nft("add", "table", "ip", "picluster")
    node.nft("add", "chain", "ip", "picluster", "stale-chain")
    node.nft("add", "set", "ip", "picluster", "stale-set", "{ type ipv4_addr; }")
    node.nft("add", "rule", "ip", "picluster", "stale-chain", "ip", "daddr", "10.96.0.99", "drop")
    proxy.update_service(service(1))
    result = await proxy.sync()
    assert result.mode == "recreate"
    listing = node.nft("list", "table", "ip", "picluster")
    assert "stale" not in listing
    assert "10.96.0.2 . tcp . 80 : goto reject-chain" in listing


async def test_other_tables_are_never_touched(node, proxy, tmp_path):
    rules_file = tmp_path / "other.nft"
    rules_file.write_text(OTHER_TABLES)
    node.nft("-f", str(rules_file))
    before = {t: node.nft("-a", "list", "table", *t.split()) for t in ("ip other", "inet filter")}
    proxy.update_service(service(1, node_port=30080))
    proxy.update_endpoint_slice(endpoints(1, 1, 2))
    await proxy.sync()
    proxy.update_endpoint_slice(endpoints(1, 2))
    await proxy.sync()
    await proxy.sync(full=True)
    proxy.delete_service("default", "svc-1")
    await proxy.sync()
    after = {t: node.nft("-a", "list", "table", *t.split()) for t in ("ip other", "inet filter")}
    assert after == before
    tables = {(t["table"]["family"], t["table"]["name"]) for t in nft_json(node, "tables") if "table" in t}
    assert tables == {("ip", "other"), ("inet", "filter"), ("ip", "picluster")}


async def test_only_what_changed_is_rewritten(node, proxy):
    for i in range(20):
        proxy.update_service(service(i, node_port=30000 + i))
        proxy.update_endpoint_slice(endpoints(i, 1, 2))
    await proxy.sync()
    before = chains_with_handles(node)

    proxy.update_endpoint_slice(endpoints(7, 1, 2, 3))
    result = await proxy.sync()
    assert result.mode == "update" and result.services_rebuilt == 1
    after = chains_with_handles(node)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert changed, "the endpoint change should be in the kernel"
    assert all("default/svc-7/" in name for name in changed), changed
    assert any(name.startswith("ep-") and "10.244.3." in name for name in changed)

    # The kernel holds exactly what the proxy computed.
    listing = node.nft("list", "chain", "ip", "picluster", next(n for n in changed if n.startswith("svc-")))
    assert "numgen random mod 3" in listing and "numgen random mod 2" in listing


async def test_syncs_are_idempotent(node, proxy):
    for i in range(5):
        proxy.update_service(service(i))
        proxy.update_endpoint_slice(endpoints(i, 1))
    await proxy.sync()
    first = node.nft("list", "table", "ip", "picluster")
    assert (await proxy.sync()).ops == 0
    await proxy.sync(full=True)
    assert node.nft("list", "table", "ip", "picluster") == first


async def test_many_services_read_back(node, proxy):
    for i in range(300):
        proxy.update_service(service(i, node_port=30000 + i if i % 3 == 0 else None))
        if i % 5:
            proxy.update_endpoint_slice(endpoints(i, 1, 2))
    await proxy.sync()
    table = json.loads(node.nft("-j", "list", "table", "ip", "picluster"))["nftables"]
    maps = {m["map"]["name"]: m["map"] for m in table if "map" in m}
    assert len(maps["service-ips"]["elem"]) == 240
    assert len(maps["no-endpoint-services"]["elem"]) == 60
    assert len(maps["service-nodeports"]["elem"]) == 80
    assert len(maps["no-endpoint-nodeports"]["elem"]) == 20
    nf = KernelNetfilter(node.name)
    try:
        state = nf.dump("picluster")
    finally:
        nf.close()
    assert state is not None
    assert len([c for c in state.chains if c.startswith("ep-")]) == 480
