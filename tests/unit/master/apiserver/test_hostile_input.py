"""Hostile request bodies: each gets a 4xx Status and leaves nothing half-stored, never a 500."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.apiserver import Api

CMS = "/api/v1/namespaces/default/configmaps"
DEPLOYS = "/apis/apps/v1/namespaces/default/deployments"
JSON = {"Content-Type": "application/json"}


def _deployment(replicas: int) -> dict[str, object]:
    labels = {"app": "w"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}


@pytest.mark.parametrize("replicas", [2**31, 10**20, -(2**31) - 1])
async def test_integers_wider_than_go_types_are_400(apiserver: Api, replicas: int) -> None:
    # replicas is an int32: 1e20 was stored, then every write that copied the object was a 500.
    code, status = await apiserver.post(DEPLOYS, data=json.dumps(_deployment(replicas)), headers=JSON)
    assert code == 400, status
    assert status["message"] == ('Deployment in version "v1" cannot be handled as a Deployment: '
                                 "Expected `int` " + (">= -2147483648" if replicas < 0 else "<= 2147483647")
                                 + " at spec.replicas")
    code, _ = await apiserver.get(f"{DEPLOYS}/w")
    assert code == 404


async def test_scale_beyond_int32_is_400_and_changes_nothing(apiserver: Api) -> None:
    code, _ = await apiserver.post(DEPLOYS, data=json.dumps(_deployment(1)), headers=JSON)
    assert code == 201
    for replicas in (2**31, 10**20):
        code, status = await apiserver.patch(f"{DEPLOYS}/w/scale", data=json.dumps({"spec": {"replicas": replicas}}),
                                             headers={"Content-Type": "application/merge-patch+json"})
        assert code == 400 and "Expected `int` <= 2147483647 at spec.replicas" in status["message"], status
    code, deploy = await apiserver.get(f"{DEPLOYS}/w")
    assert code == 200 and deploy["spec"]["replicas"] == 1
    code, scale = await apiserver.put(f"{DEPLOYS}/w/scale", json={"apiVersion": "autoscaling/v1", "kind": "Scale",
                                                                 "metadata": {"name": "w"},
                                                                 "spec": {"replicas": 2**31 - 1}})
    assert code == 200 and scale["spec"]["replicas"] == 2**31 - 1  # the largest int32 is fine


async def test_int64_fields_take_int64_values(apiserver: Api) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"terminationGracePeriodSeconds": 2**40, "containers": [{"name": "c", "image": "x"}]}}
    code, created = await apiserver.post("/api/v1/namespaces/default/pods", json=pod)
    assert code == 201 and created["spec"]["terminationGracePeriodSeconds"] == 2**40
    pod["metadata"] = {"name": "q"}
    pod["spec"]["terminationGracePeriodSeconds"] = 2**63  # type: ignore[index]
    code, status = await apiserver.post("/api/v1/namespaces/default/pods", json=pod)
    assert code == 400 and "Expected `int` <= 9223372036854775807 at spec.terminationGracePeriodSeconds" in \
        status["message"]


def _deep(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [150, 600, 10_000])
async def test_deeply_nested_documents_are_400(apiserver: Api, depth: int) -> None:
    # 10k levels overflowed the decoder; a few hundred got through it and overflowed deepcopy in
    # the JSON patch (or any other recursive step after it): both were 500s.
    code, _ = await apiserver.post(CMS, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "base"}})
    assert code == 201
    deep = _deep(depth)
    cm = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"NAME"},"x":DEEP}'
    requests = [
        ("POST", CMS, cm.replace("NAME", "d").replace("DEEP", deep), "application/json", "the request body"),
        ("PUT", f"{CMS}/base", cm.replace("NAME", "base").replace("DEEP", deep), "application/json",
         "the request body"),
        ("PATCH", f"{CMS}/base", '{"x":' + deep + "}", "application/merge-patch+json", "the patch"),
        ("PATCH", f"{CMS}/base", '{"x":' + deep + "}", "application/strategic-merge-patch+json", "the patch"),
        ("PATCH", f"{CMS}/base", '[{"op":"add","path":"/x","value":' + deep + "}]", "application/json-patch+json",
         "the patch"),
    ]
    for method, path, data, content_type, what in requests:
        code, status = await apiserver.request(method, path, data=data, headers={"Content-Type": content_type})
        assert code == 400, (method, content_type, status)
        assert status["message"] == f"{what} is nested more than 100 levels deep"


async def test_deeply_nested_yaml_is_400(apiserver: Api) -> None:
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\nx: " + "[" * 300 + "]" * 300 + "\n"
    code, status = await apiserver.post(CMS, data=doc, headers={"Content-Type": "application/yaml"})
    assert code == 400 and status["message"] == "the request body is nested more than 100 levels deep"


async def test_a_pod_as_deep_as_real_ones_is_fine(apiserver: Api) -> None:
    term = {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}]}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "deep-enough"},
           "spec": {"containers": [{"name": "c", "image": "x"}],
                    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [term]}}}}}
    code, created = await apiserver.post("/api/v1/namespaces/default/pods", json=pod)
    assert code == 201, created


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        pytest.param("a in (b", "unable to parse requirement: found '', expected: ')'", id="unclosed"),
        pytest.param("!", "unable to parse requirement: found '', expected: identifier", id="bang"),
        pytest.param("a=b,", "found '', expected: identifier after ','", id="trailing-comma"),
        pytest.param("a=b c", "found 'c', expected: ',' or 'end of string'", id="no-comma"),
    ],
)
async def test_label_selector_errors_read_as_kubernetes_words_them(apiserver: Api, selector: str,
                                                                  message: str) -> None:
    # The prefix was doubled: "unable to parse requirement: unable to parse requirement: ...".
    code, status = await apiserver.get(CMS, params={"labelSelector": selector})
    assert code == 400 and status["message"] == message


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_put_or_patch_on_a_collection_is_405(apiserver: Api, method: str) -> None:
    code, status = await apiserver.request(method, CMS, data="{}",
                                           headers={"Content-Type": "application/merge-patch+json"})
    assert code == 405 and status["reason"] == "MethodNotAllowed", status  # was 404 'configmaps "" not found'
