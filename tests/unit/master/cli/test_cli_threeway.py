"""Client-side apply's three-way strategic merge patch (and that the server's SMP applies it)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from master.api import apps, core
from master.api.patch import strategic_merge_patch
from master.api.patch.schema import schema_of
from master.cli.kube import threeway

DEPLOYMENT = schema_of(apps.Deployment)
POD = schema_of(core.Pod)


def _containers(*cs: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": list(cs)}}}}


CASES = [
    pytest.param(
        None, _containers({"name": "web", "image": "a"}),
        _containers({"name": "web", "image": "a", "imagePullPolicy": "IfNotPresent"}),
        {}, id="defaults-are-not-changes",
    ),
    pytest.param(
        _containers({"name": "web", "image": "a", "env": [{"name": "DEBUG", "value": "1"}]}),
        _containers({"name": "web", "image": "b"}),
        _containers({"name": "web", "image": "a", "env": [{"name": "DEBUG", "value": "1"}],
                     "imagePullPolicy": "IfNotPresent"}),
        {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "web"}],
                                        "containers": [{"name": "web", "image": "b", "env": None}]}}}},
        id="change-and-drop-a-field",
    ),
    pytest.param(
        _containers({"name": "a", "image": "x"}, {"name": "b", "image": "y"}),
        _containers({"name": "a", "image": "x"}),
        _containers({"name": "a", "image": "x"}, {"name": "b", "image": "y"}),
        {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "a"}],
                                        "containers": [{"name": "b", "$patch": "delete"}]}}}},
        id="drop-a-list-element",
    ),
    pytest.param(
        {"spec": {"replicas": 2}}, {"spec": {}}, {"spec": {"replicas": 5}},
        {"spec": {"replicas": None}}, id="field-removed-from-the-file",
    ),
    pytest.param(
        None, {"spec": {}}, {"spec": {"replicas": 5}}, {}, id="field-never-applied-is-left-alone",
    ),
    pytest.param(
        {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}},
        {"spec": {"strategy": {"type": "Recreate"}}},
        {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}}},
        {"spec": {"strategy": {"type": "Recreate", "rollingUpdate": None, "$retainKeys": ["type"]}}},
        id="retain-keys",
    ),
    pytest.param(
        None, {"metadata": {"finalizers": ["a/b", "c/d"]}}, {"metadata": {"finalizers": ["c/d"]}},
        {"metadata": {"finalizers": ["a/b"], "$setElementOrder/finalizers": ["a/b", "c/d"]}},
        id="scalar-set-addition",
    ),
    pytest.param(
        {"metadata": {"finalizers": ["a/b", "c/d"]}}, {"metadata": {"finalizers": ["c/d"]}},
        {"metadata": {"finalizers": ["a/b", "c/d"]}},
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a/b"], "$setElementOrder/finalizers": ["c/d"]}},
        id="scalar-set-removal",
    ),
    pytest.param(
        None, {"spec": {"template": {"spec": {"containers": [{"name": "c", "command": ["a", "b"]}]}}}},
        {"spec": {"template": {"spec": {"containers": [{"name": "c", "command": ["a"]}]}}}},
        {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "c"}],
                                        "containers": [{"name": "c", "command": ["a", "b"]}]}}}},
        id="replaced-list",
    ),
    pytest.param(
        None, _containers({"name": "c", "resources": {"requests": {"cpu": 1}}}),
        _containers({"name": "c", "resources": {"requests": {"cpu": "1"}}}), {}, id="number-vs-quantity-string",
    ),
]


@pytest.mark.parametrize(("original", "modified", "current", "want"), CASES)
def test_three_way_patch(original: Any, modified: Any, current: Any, want: Any) -> None:
    assert threeway.three_way_patch(original, modified, current, DEPLOYMENT) == want


@pytest.mark.parametrize(("original", "modified", "current", "want"), CASES)
def test_patched_object_then_needs_no_patch(original: Any, modified: Any, current: Any, want: Any) -> None:
    patch = threeway.three_way_patch(original, modified, current, DEPLOYMENT)
    patched = strategic_merge_patch(current, patch, apps.Deployment)
    assert threeway.three_way_patch(modified, modified, patched, DEPLOYMENT) == {}


def test_last_applied_is_kubectls() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"},
           "data": {"b": "2", "a": "1"}}
    text = threeway.last_applied(obj)
    assert text == ('{"apiVersion":"v1","data":{"a":"1","b":"2"},"kind":"ConfigMap",'
                    '"metadata":{"annotations":{},"name":"c","namespace":"default"}}\n')
    sent = threeway.with_last_applied(obj)
    assert json.loads(sent["metadata"]["annotations"][threeway.LAST_APPLIED]) == json.loads(text)
    assert threeway.last_applied(sent) == text  # the annotation never nests
    assert threeway.original_of(sent) == json.loads(text)


@pytest.mark.parametrize("value", ["", "not json", "[1]"])
def test_unreadable_last_applied_is_none(value: str) -> None:
    assert threeway.original_of({"metadata": {"annotations": {threeway.LAST_APPLIED: value}}}) is None


def test_pod_ports_merge_by_container_port() -> None:
    modified = {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}, {"containerPort": 443}]}]}}
    current = {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}}
    patch = threeway.three_way_patch(None, modified, current, POD)
    assert patch["spec"]["containers"] == [{"name": "c", "ports": [{"containerPort": 443}],
                                            "$setElementOrder/ports": [{"containerPort": 80},
                                                                       {"containerPort": 443}]}]
