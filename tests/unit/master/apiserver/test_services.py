"""ClusterIP and NodePort allocation: honoured, rejected clearly, unique under concurrency, released."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

from tests.fixtures.apiserver import Api

SVCS = "/api/v1/namespaces/default/services"


def svc(name: str, *, ip: str = "", kind: str = "ClusterIP", node_port: int = 0) -> dict[str, Any]:
    port: dict[str, Any] = {"port": 80, "protocol": "TCP"}
    if node_port:
        port["nodePort"] = node_port
    spec: dict[str, Any] = {"type": kind, "selector": {"app": name}, "ports": [port]}
    if ip:
        spec["clusterIP"] = ip
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


async def test_kubernetes_service_has_first_address(apiserver: Api) -> None:
    code, obj = await apiserver.get(f"{SVCS}/kubernetes")
    assert code == 200 and obj["spec"]["clusterIP"] == "10.96.0.1"
    assert obj["spec"]["ports"][0]["port"] == 443
    code, ep = await apiserver.get("/api/v1/namespaces/default/endpoints/kubernetes")
    assert code == 200 and ep["subsets"][0]["addresses"][0]["ip"] == "127.0.0.1"


async def test_allocates_in_range_and_honours_explicit(apiserver: Api) -> None:
    _, a = await apiserver.post(SVCS, json=svc("a"))
    assert ipaddress.ip_address(a["spec"]["clusterIP"]) in ipaddress.ip_network("10.96.0.0/12")
    assert a["spec"]["clusterIPs"] == [a["spec"]["clusterIP"]]
    code, b = await apiserver.post(SVCS, json=svc("b", ip="10.96.0.50"))
    assert code == 201 and b["spec"]["clusterIP"] == "10.96.0.50"


async def test_explicit_conflicts_are_rejected(apiserver: Api) -> None:
    await apiserver.post(SVCS, json=svc("a", ip="10.96.0.50"))
    code, status = await apiserver.post(SVCS, json=svc("b", ip="10.96.0.50"))
    assert code == 422 and "already allocated" in status["message"]
    code, status = await apiserver.post(SVCS, json=svc("c", ip="192.168.1.1"))
    assert code == 422 and "not in the valid range" in status["message"]
    code, status = await apiserver.post(SVCS, json=svc("d", kind="NodePort", node_port=80))
    assert code == 422 and "valid range" in status["message"]


async def test_node_ports(apiserver: Api) -> None:
    code, a = await apiserver.post(SVCS, json=svc("a", kind="NodePort"))
    assert code == 201 and 30000 <= a["spec"]["ports"][0]["nodePort"] <= 32767
    code, b = await apiserver.post(SVCS, json=svc("b", kind="NodePort", node_port=31000))
    assert code == 201 and b["spec"]["ports"][0]["nodePort"] == 31000
    code, status = await apiserver.post(SVCS, json=svc("c", kind="NodePort", node_port=31000))
    assert code == 422 and "already allocated" in status["message"]


async def test_release_on_delete(apiserver: Api) -> None:
    await apiserver.post(SVCS, json=svc("a", ip="10.96.0.60", kind="NodePort", node_port=31001))
    await apiserver.delete(f"{SVCS}/a")
    code, _ = await apiserver.post(SVCS, json=svc("b", ip="10.96.0.60", kind="NodePort", node_port=31001))
    assert code == 201


async def test_cluster_ip_is_immutable_and_kept_on_update(apiserver: Api) -> None:
    _, a = await apiserver.post(SVCS, json=svc("a"))
    ip = a["spec"]["clusterIP"]
    code, upd = await apiserver.patch(f"{SVCS}/a", data=b'{"spec":{"selector":{"app":"x"}}}',
                                      headers={"Content-Type": "application/merge-patch+json"})
    assert code == 200 and upd["spec"]["clusterIP"] == ip
    code, status = await apiserver.patch(f"{SVCS}/a", data=b'{"spec":{"clusterIP":"10.96.0.99"}}',
                                         headers={"Content-Type": "application/merge-patch+json"})
    assert code == 422, status


async def test_type_change_allocates_and_releases_node_ports(apiserver: Api) -> None:
    await apiserver.post(SVCS, json=svc("a"))
    code, np = await apiserver.patch(f"{SVCS}/a", data=b'{"spec":{"type":"NodePort"}}',
                                     headers={"Content-Type": "application/merge-patch+json"})
    assert code == 200, np
    port = np["spec"]["ports"][0]["nodePort"]
    code, back = await apiserver.patch(f"{SVCS}/a", data=b'{"spec":{"type":"ClusterIP"}}',
                                       headers={"Content-Type": "application/merge-patch+json"})
    assert code == 200 and "nodePort" not in back["spec"]["ports"][0], back
    code, _ = await apiserver.post(SVCS, json=svc("b", kind="NodePort", node_port=port))
    assert code == 201


async def test_no_duplicates_under_concurrency(apiserver: Api) -> None:
    results = await asyncio.gather(*(apiserver.post(SVCS, json=svc(f"s{i}", kind="NodePort")) for i in range(24)))
    assert all(code == 201 for code, _ in results), [s for c, s in results if c != 201]
    ips = [obj["spec"]["clusterIP"] for _, obj in results]
    ports = [obj["spec"]["ports"][0]["nodePort"] for _, obj in results]
    assert len(set(ips)) == len(ips) and len(set(ports)) == len(ports)
