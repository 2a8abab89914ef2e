"""Every served resource through every verb, and the validation rules that guard them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.apiserver import Api

MERGE = {"Content-Type": "application/merge-patch+json"}
TEMPLATE = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}

# (collection path, minimal valid object)
RESOURCES: list[tuple[str, dict[str, Any]]] = [
    ("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "r-ns"}}),
    ("/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "r-node"}}),
    ("/api/v1/namespaces/default/pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "r-pod"},
                                         "spec": TEMPLATE["spec"]}),
    ("/api/v1/namespaces/default/services", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "r-svc"},
                                             "spec": {"selector": {"app": "x"}, "ports": [{"port": 80}]}}),
    ("/api/v1/namespaces/default/endpoints", {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "r-ep"},
                                              "subsets": [{"addresses": [{"ip": "10.244.1.5"}],
                                                           "ports": [{"port": 80}]}]}),
    ("/api/v1/namespaces/default/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "r-cm"},
                                               "data": {"a": "b"}}),
    ("/api/v1/namespaces/default/secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "r-secret"},
                                            "data": {"a": "Yg=="}}),
    ("/api/v1/namespaces/default/serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount",
                                                    "metadata": {"name": "r-sa"}}),
    ("/api/v1/namespaces/default/events", {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "r-ev"},
                                           "involvedObject": {"kind": "Pod", "name": "x", "namespace": "default"},
                                           "reason": "Test", "message": "hello", "type": "Normal"}),
    ("/apis/apps/v1/namespaces/default/deployments", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "r-deploy"},
        "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": TEMPLATE}}),
    ("/apis/apps/v1/namespaces/default/replicasets", {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "r-rs"},
        "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": TEMPLATE}}),
    ("/apis/apps/v1/namespaces/default/daemonsets", {
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "r-ds"},
        "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": TEMPLATE}}),
    ("/apis/coordination.k8s.io/v1/namespaces/default/leases", {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "r-lease"},
        "spec": {"holderIdentity": "me", "leaseDurationSeconds": 40}}),
    ("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"name": "r-slice"},
        "addressType": "IPv4", "endpoints": [{"addresses": ["10.244.1.5"]}], "ports": [{"port": 80}]}),
]


@pytest.mark.parametrize(("path", "obj"), [pytest.param(p, o, id=o["kind"]) for p, o in RESOURCES])
async def test_every_verb(apiserver: Api, path: str, obj: dict[str, Any]) -> None:
    name = obj["metadata"]["name"]
    code, created = await apiserver.post(path, json=obj)
    assert code == 201, created
    assert created["kind"] == obj["kind"] and created["apiVersion"] == obj["apiVersion"]
    code, got = await apiserver.get(f"{path}/{name}")
    assert code == 200 and got["metadata"]["uid"] == created["metadata"]["uid"]
    code, lst = await apiserver.get(path)
    assert code == 200 and lst["kind"] == f"{obj['kind']}List" and name in [i["metadata"]["name"] for i in lst["items"]]
    got["metadata"]["labels"] = {"updated": "yes"}
    code, updated = await apiserver.put(f"{path}/{name}", json=got)
    assert code == 200 and updated["metadata"]["labels"]["updated"] == "yes", updated
    code, patched = await apiserver.patch(f"{path}/{name}", data=b'{"metadata":{"annotations":{"p":"1"}}}',
                                          headers=MERGE)
    assert code == 200 and patched["metadata"]["annotations"] == {"p": "1"}, patched
    code, _ = await apiserver.delete(f"{path}/{name}")
    assert code == 200
    if obj["kind"] != "Namespace":  # namespaces wait for their finalizer (the namespace controller)
        assert (await apiserver.get(f"{path}/{name}"))[0] == 404


@pytest.mark.parametrize(
    ("path", "obj", "patch", "field"),
    [
        pytest.param("/apis/apps/v1/namespaces/default/deployments", RESOURCES[9][1],
                     b'{"spec":{"selector":{"matchLabels":{"app":"y"}},"template":{"metadata":{"labels":{"app":"y"}}}}}',
                     "spec.selector", id="deployment-selector-immutable"),
        pytest.param("/api/v1/namespaces/default/pods", RESOURCES[2][1],
                     b'{"spec":{"restartPolicy":"Never"}}', "spec", id="pod-spec-immutable"),
        pytest.param("/api/v1/namespaces/default/services", RESOURCES[3][1],
                     b'{"spec":{"ports":[{"port":70000}]}}', "spec.ports[0].port", id="service-port-range"),
        pytest.param("/api/v1/namespaces/default/configmaps", RESOURCES[5][1],
                     b'{"metadata":{"labels":{"bad key!":"v"}}}', "metadata.labels", id="label-syntax"),
    ],
)
async def test_invalid_updates_are_422(apiserver: Api, path: str, obj: dict[str, Any], patch: bytes,
                                       field: str) -> None:
    name = obj["metadata"]["name"]
    assert (await apiserver.post(path, json=obj))[0] == 201
    code, status = await apiserver.patch(f"{path}/{name}", data=patch, headers=MERGE)
    assert code == 422 and status["reason"] == "Invalid", status
    assert any(c["field"].startswith(field) for c in status["details"]["causes"]), status


async def test_missing_required_fields_are_422(apiserver: Api) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}
    code, status = await apiserver.post("/api/v1/namespaces/default/pods", json=pod)
    assert code == 422 and status["message"] == 'Pod "p" is invalid: spec.containers[0].image: Required value'
