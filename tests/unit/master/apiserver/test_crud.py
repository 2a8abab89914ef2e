"""The verbs through the real HTTPS pipeline, against an in-memory store."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.fixtures.apiserver import Api

PODS = "/api/v1/namespaces/default/pods"


def pod(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


async def test_create_get_list_delete(apiserver: Api) -> None:
    code, created = await apiserver.post(PODS, json=pod("a", app="web"))
    assert code == 201, created
    meta = created["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] and meta["namespace"] == "default"
    assert int(meta["resourceVersion"]) > 0
    code, got = await apiserver.get(f"{PODS}/a")
    assert code == 200 and got["metadata"]["uid"] == meta["uid"]
    code, lst = await apiserver.get(PODS)
    assert code == 200 and lst["kind"] == "PodList" and [p["metadata"]["name"] for p in lst["items"]] == ["a"]
    code, _ = await apiserver.delete(f"{PODS}/a")
    assert code == 200
    code, status = await apiserver.get(f"{PODS}/a")
    assert code == 404 and status["reason"] == "NotFound" and status["message"] == 'pods "a" not found'


async def test_create_twice_is_already_exists(apiserver: Api) -> None:
    assert (await apiserver.post(PODS, json=pod("a")))[0] == 201
    code, status = await apiserver.post(PODS, json=pod("a"))
    assert code == 409 and status["reason"] == "AlreadyExists"


async def test_generate_name(apiserver: Api) -> None:
    obj = pod("")
    obj["metadata"] = {"generateName": "web-"}
    code, created = await apiserver.post(PODS, json=obj)
    assert code == 201 and created["metadata"]["name"].startswith("web-") and len(created["metadata"]["name"]) == 9


async def test_stale_update_is_conflict(apiserver: Api) -> None:
    _, created = await apiserver.post(PODS, json=pod("a"))
    first = {**created, "metadata": {**created["metadata"], "labels": {"x": "1"}}}
    code, updated = await apiserver.put(f"{PODS}/a", json=first)
    assert code == 200 and updated["metadata"]["labels"] == {"x": "1"}
    stale = {**created, "metadata": {**created["metadata"], "labels": {"x": "2"}}}
    code, status = await apiserver.put(f"{PODS}/a", json=stale)
    assert code == 409 and status["reason"] == "Conflict"
    assert "the object has been modified" in status["message"]


async def test_concurrent_updates_have_one_winner(apiserver: Api) -> None:
    _, created = await apiserver.post(PODS, json=pod("a"))

    async def attempt(i: int) -> int:
        body = {**created, "metadata": {**created["metadata"], "labels": {"who": str(i)}}}
        code, _ = await apiserver.put(f"{PODS}/a", json=body)
        return code

    codes = await asyncio.gather(*(attempt(i) for i in range(8)))
    assert sorted(codes) == [200] + [409] * 7


async def test_concurrent_creates_have_one_winner(apiserver: Api) -> None:
    codes = await asyncio.gather(*(apiserver.post(PODS, json=pod("same")) for _ in range(8)))
    assert sorted(c for c, _ in codes) == [201] + [409] * 7


async def test_merge_patch(apiserver: Api) -> None:
    await apiserver.post(PODS, json=pod("a", app="web"))
    code, patched = await apiserver.patch(f"{PODS}/a", data=b'{"metadata":{"labels":{"tier":"db","app":null}}}',
                                          headers={"Content-Type": "application/merge-patch+json"})
    assert code == 200, patched
    assert patched["metadata"]["labels"] == {"tier": "db"}


async def test_label_and_field_selectors(apiserver: Api) -> None:
    for name, app in (("a", "web"), ("b", "db"), ("c", "web")):
        await apiserver.post(PODS, json=pod(name, app=app))
    _, lst = await apiserver.get(PODS, params={"labelSelector": "app in (web)"})
    assert [p["metadata"]["name"] for p in lst["items"]] == ["a", "c"]
    _, lst = await apiserver.get(PODS, params={"labelSelector": "app!=web"})
    assert [p["metadata"]["name"] for p in lst["items"]] == ["b"]
    _, lst = await apiserver.get(PODS, params={"fieldSelector": "metadata.name=b"})
    assert [p["metadata"]["name"] for p in lst["items"]] == ["b"]
    code, status = await apiserver.get(PODS, params={"fieldSelector": "spec.foo=b"})
    assert code == 400 and "field label not supported" in status["message"]


async def test_limit_and_continue(apiserver: Api) -> None:
    for i in range(5):
        await apiserver.post(PODS, json=pod(f"p{i}"))
    names: list[str] = []
    params = {"limit": "2"}
    while True:
        code, page = await apiserver.get(PODS, params=params)
        assert code == 200
        names += [p["metadata"]["name"] for p in page["items"]]
        token = page["metadata"].get("continue")
        if not token:
            break
        params = {"limit": "2", "continue": token}
    assert names == [f"p{i}" for i in range(5)]


async def test_missing_namespace_is_not_found(apiserver: Api) -> None:
    code, status = await apiserver.post("/api/v1/namespaces/nope/pods", json=pod("a"))
    assert code == 404 and status["message"] == 'namespaces "nope" not found'


async def test_system_namespaces_cannot_be_deleted(apiserver: Api) -> None:
    code, status = await apiserver.delete("/api/v1/namespaces/kube-system")
    assert code == 403 and status["reason"] == "Forbidden"


async def test_pod_admission_defaults(apiserver: Api) -> None:
    _, created = await apiserver.post(PODS, json=pod("a"))
    spec = created["spec"]
    assert spec["serviceAccountName"] == "default"
    keys = {t["key"]: t["tolerationSeconds"] for t in spec["tolerations"]}
    assert keys == {"node.kubernetes.io/not-ready": 300, "node.kubernetes.io/unreachable": 300}


async def test_metrics(apiserver: Api) -> None:
    await apiserver.post(PODS, json=pod("m"))
    await apiserver.get(f"{PODS}/nope")
    async with apiserver.watch(PODS):
        code, text = await apiserver.get("/metrics")
    assert code == 200
    assert 'apiserver_request_total{code="201",resource="pods",verb="CREATE"} 1.0' in text
    assert 'apiserver_request_total{code="404",resource="pods",verb="GET"} 1.0' in text
    assert "apiserver_request_duration_seconds_bucket" in text
    assert 'apiserver_registered_watchers{resource="pods"} 1.0' in text
    assert 'apiserver_storage_objects{resource="namespaces"} 4.0' in text


async def test_put_creates_leases_but_not_pods(apiserver: Api) -> None:
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "pi-1"},
             "spec": {"holderIdentity": "pi-1", "leaseDurationSeconds": 40}}
    code, created = await apiserver.put("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/pi-1",
                                        json=lease)
    assert code == 201 and created["spec"]["holderIdentity"] == "pi-1"
    code, _ = await apiserver.put(f"{PODS}/ghost", json=pod("ghost"))
    assert code == 404


async def test_exact_resource_version_list(apiserver: Api) -> None:
    _, first = await apiserver.post(PODS, json=pod("e1"))
    await apiserver.post(PODS, json=pod("e2"))
    rv = first["metadata"]["resourceVersion"]
    code, lst = await apiserver.get(PODS, params={"resourceVersion": rv, "resourceVersionMatch": "Exact"})
    assert code == 200 and [p["metadata"]["name"] for p in lst["items"]] == ["e1"]
    assert lst["metadata"]["resourceVersion"] == rv
    code, status = await apiserver.get(PODS, params={"resourceVersionMatch": "Exact"})
    assert code == 400, status


async def test_discovery_legacy_and_aggregated(apiserver: Api) -> None:
    code, doc = await apiserver.get("/api/v1")
    assert code == 200 and doc["kind"] == "APIResourceList"
    names = {r["name"] for r in doc["resources"]}
    assert {"pods", "pods/status", "pods/log", "pods/binding", "pods/eviction", "namespaces/finalize"} <= names
    code, groups = await apiserver.get("/apis")
    assert code == 200 and {g["name"] for g in groups["groups"]} == {
        "apps", "coordination.k8s.io", "discovery.k8s.io", "rbac.authorization.k8s.io", "certificates.k8s.io",
        "authentication.k8s.io", "authorization.k8s.io", "apiextensions.k8s.io"}
    accept = {"Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"}
    code, agg = await apiserver.get("/apis", headers=accept)
    assert code == 200 and agg["kind"] == "APIGroupDiscoveryList"
    apps = next(i for i in agg["items"] if i["metadata"]["name"] == "apps")
    deploy = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    assert deploy["scope"] == "Namespaced" and deploy["shortNames"] == ["deploy"]
    assert {"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
            "verbs": ["get", "patch", "update"]} in deploy["subresources"]
