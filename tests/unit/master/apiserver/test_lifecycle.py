"""Deletion semantics (graceful pods, finalizers, propagation, namespaces) and the pod subresources."""

from __future__ import annotations

from typing import Any

from tests.fixtures.apiserver import Api

PODS = "/api/v1/namespaces/default/pods"
MERGE = {"Content-Type": "application/merge-patch+json"}


def pod(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "x"}], **spec}}


async def bind(api: Api, name: str, node: str = "pi-1") -> tuple[int, Any]:
    return await api.post(f"{PODS}/{name}/binding", json={
        "apiVersion": "v1", "kind": "Binding", "metadata": {"name": name}, "target": {"kind": "Node", "name": node}})


async def test_binding_sets_node_once(apiserver: Api) -> None:
    await apiserver.post(PODS, json=pod("a"))
    code, status = await bind(apiserver, "a")
    assert code == 201 and status["status"] == "Success"
    _, got = await apiserver.get(f"{PODS}/a")
    assert got["spec"]["nodeName"] == "pi-1"
    assert any(c["type"] == "PodScheduled" and c["status"] == "True" for c in got["status"]["conditions"])
    code, status = await bind(apiserver, "a", "pi-2")
    assert code == 409 and "already assigned" in status["message"]


async def test_unbound_pod_is_deleted_at_once(apiserver: Api) -> None:
    await apiserver.post(PODS, json=pod("a"))
    assert (await apiserver.delete(f"{PODS}/a"))[0] == 200
    assert (await apiserver.get(f"{PODS}/a"))[0] == 404


async def test_bound_pod_deletion_is_graceful(apiserver: Api) -> None:
    await apiserver.post(PODS, json=pod("a", terminationGracePeriodSeconds=30))
    await bind(apiserver, "a")
    code, obj = await apiserver.delete(f"{PODS}/a")
    assert code == 200 and obj["metadata"]["deletionGracePeriodSeconds"] == 30 and obj["metadata"]["deletionTimestamp"]
    code, _ = await apiserver.get(f"{PODS}/a")
    assert code == 200
    # The kubelet's final confirmation.
    code, _ = await apiserver.delete(f"{PODS}/a", params={"gracePeriodSeconds": "0"})
    assert code == 200
    assert (await apiserver.get(f"{PODS}/a"))[0] == 404


async def test_finalizers_hold_the_object(apiserver: Api) -> None:
    obj = pod("a")
    obj["metadata"]["finalizers"] = ["example.com/hold"]
    await apiserver.post(PODS, json=obj)
    code, deleting = await apiserver.delete(f"{PODS}/a")
    assert code == 200 and deleting["metadata"]["deletionTimestamp"]
    assert (await apiserver.get(f"{PODS}/a"))[0] == 200
    code, _ = await apiserver.patch(f"{PODS}/a", data=b'{"metadata":{"finalizers":null}}', headers=MERGE)
    assert code == 200
    assert (await apiserver.get(f"{PODS}/a"))[0] == 404


async def test_foreground_and_orphan_add_finalizers(apiserver: Api) -> None:
    cms = "/api/v1/namespaces/default/configmaps"
    for name, policy, fin in (("f", "Foreground", "foregroundDeletion"), ("o", "Orphan", "orphan")):
        await apiserver.post(cms, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
        code, obj = await apiserver.delete(f"{cms}/{name}", json={"propagationPolicy": policy})
        assert code == 200 and obj["metadata"]["finalizers"] == [fin] and obj["metadata"]["deletionTimestamp"]


async def test_delete_preconditions(apiserver: Api) -> None:
    await apiserver.post(PODS, json=pod("a"))
    code, status = await apiserver.delete(f"{PODS}/a", json={"preconditions": {"uid": "not-it"}})
    assert code == 409 and "Precondition failed" in status["message"]


async def test_eviction_deletes(apiserver: Api) -> None:
    await apiserver.post(PODS, json=pod("a"))
    code, _ = await apiserver.post(f"{PODS}/a/eviction", json={
        "apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "a", "namespace": "default"}})
    assert code == 201
    assert (await apiserver.get(f"{PODS}/a"))[0] == 404


async def test_status_subresource_updates_only_status(apiserver: Api) -> None:
    await apiserver.post(PODS, json=pod("a"))
    code, upd = await apiserver.patch(f"{PODS}/a/status", headers=MERGE,
                                      data=b'{"status":{"phase":"Running"},"metadata":{"labels":{"x":"y"}}}')
    assert code == 200 and upd["status"]["phase"] == "Running" and not upd["metadata"].get("labels")
    code, upd = await apiserver.patch(f"{PODS}/a", headers=MERGE, data=b'{"status":{"phase":"Failed"}}')
    assert code == 200 and upd["status"]["phase"] == "Running"


async def test_scale_subresource(apiserver: Api) -> None:
    deps = "/apis/apps/v1/namespaces/default/deployments"
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}},
                    "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c",
                                                                                            "image": "x"}]}}}}
    assert (await apiserver.post(deps, json=dep))[0] == 201
    code, scale = await apiserver.get(f"{deps}/d/scale")
    assert code == 200 and scale["kind"] == "Scale" and scale["spec"]["replicas"] == 1
    assert scale["status"]["selector"] == "a=b"
    code, scale = await apiserver.patch(f"{deps}/d/scale", headers=MERGE, data=b'{"spec":{"replicas":4}}')
    assert code == 200 and scale["spec"]["replicas"] == 4
    _, got = await apiserver.get(f"{deps}/d")
    assert got["spec"]["replicas"] == 4 and got["metadata"]["generation"] == 2


async def test_namespace_termination_and_finalize(apiserver: Api) -> None:
    code, _ = await apiserver.post("/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace",
                                                               "metadata": {"name": "tmp"}})
    assert code == 201
    assert (await apiserver.get("/api/v1/namespaces/tmp/serviceaccounts/default"))[0] == 200
    code, ns = await apiserver.delete("/api/v1/namespaces/tmp")
    assert code == 200 and ns["status"]["phase"] == "Terminating"
    code, status = await apiserver.post("/api/v1/namespaces/tmp/pods", json=pod("a"))
    assert code == 403 and "being terminated" in status["message"]
    _, ns = await apiserver.get("/api/v1/namespaces/tmp")
    ns["spec"]["finalizers"] = []
    code, _ = await apiserver.put("/api/v1/namespaces/tmp/finalize", json=ns)
    assert code == 200
    assert (await apiserver.get("/api/v1/namespaces/tmp"))[0] == 404


async def test_table_output(apiserver: Api) -> None:
    await apiserver.post(PODS, json=pod("a"))
    accept = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}
    code, table = await apiserver.get(PODS, headers=accept)
    assert code == 200 and table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]][:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert table["rows"][0]["cells"][:3] == ["a", "0/1", "Pending"]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    code, table = await apiserver.get("/api/v1/nodes", headers=accept)
    assert code == 200 and [c["name"] for c in table["columnDefinitions"]][:5] == [
        "Name", "Status", "Roles", "Age", "Version"]
