import json
from typing import Any

import pytest

from master.api import apps, codec, core, patch
from master.api.patch import PatchError
from master.api.patch.schema import schema_of

SMP = "application/strategic-merge-patch+json"


# JSON merge patch: RFC 7386 appendix A.


@pytest.mark.parametrize(
    ("target", "p", "result"),
    [
        pytest.param({"a": "b"}, {"a": "c"}, {"a": "c"}, id="replace"),
        pytest.param({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}, id="add"),
        pytest.param({"a": "b"}, {"a": None}, {}, id="delete"),
        pytest.param({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}, id="delete-one"),
        pytest.param({"a": ["b"]}, {"a": "c"}, {"a": "c"}, id="list-to-scalar"),
        pytest.param({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}, id="scalar-to-list"),
        pytest.param({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}, id="nested"),
        pytest.param({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}, id="list-replaced"),
        pytest.param(["a", "b"], ["c", "d"], ["c", "d"], id="root-list"),
        pytest.param({"a": "b"}, ["c"], ["c"], id="root-replace"),
        pytest.param({"e": None}, {"a": 1}, {"e": None, "a": 1}, id="keep-null"),
        pytest.param({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}, id="deep-null"),
    ],
)
def test_merge_patch_rfc7386(target: Any, p: Any, result: Any) -> None:
    original = json.loads(json.dumps(target))
    assert patch.merge_patch(target, p) == result
    assert target == original


# JSON patch: RFC 6902 examples.


@pytest.mark.parametrize(
    ("doc", "ops", "result"),
    [
        pytest.param({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}], {"baz": "qux", "foo": "bar"}, id="add"),
        pytest.param({"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}],
                     {"foo": ["bar", "qux", "baz"]}, id="add-array"),
        pytest.param({"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": "x"}], {"foo": ["bar", "x"]}, id="append"),
        pytest.param({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}, id="remove"),
        pytest.param({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]},
                     id="remove-array"),
        pytest.param({"baz": "qux"}, [{"op": "replace", "path": "/baz", "value": "boo"}], {"baz": "boo"}, id="replace"),
        pytest.param({"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
                     [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
                     {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}, id="move"),
        pytest.param({"foo": ["all", "grass", "cows", "eat"]}, [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
                     {"foo": ["all", "cows", "eat", "grass"]}, id="move-array"),
        pytest.param({"a": {"b": 1}}, [{"op": "copy", "from": "/a", "path": "/c"}], {"a": {"b": 1}, "c": {"b": 1}}, id="copy"),
        pytest.param({"baz": "qux", "foo": ["a", 2, "c"]},
                     [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
                     {"baz": "qux", "foo": ["a", 2, "c"]}, id="test"),
        pytest.param({"/": 9, "~1": 10}, [{"op": "replace", "path": "/~01", "value": 1}], {"/": 9, "~1": 1}, id="escapes"),
        pytest.param({"metadata": {"labels": {"a": "1"}}},
                     [{"op": "add", "path": "/metadata/labels/app.kubernetes.io~1name", "value": "x"}],
                     {"metadata": {"labels": {"a": "1", "app.kubernetes.io/name": "x"}}}, id="label-with-slash"),
    ],
)
def test_json_patch_rfc6902(doc: Any, ops: list[Any], result: Any) -> None:
    before = json.loads(json.dumps(doc))
    assert patch.apply_json_patch(doc, ops) == result
    assert doc == before


@pytest.mark.parametrize(
    ("doc", "ops", "code", "message"),
    [
        pytest.param({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}], 422, "test operation does not apply",
                     id="test-fails"),
        pytest.param({"a": 1}, [{"op": "test", "path": "/a", "value": True}], 422, "test operation", id="test-bool-vs-int"),
        pytest.param({"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}], 422, "doc is missing path",
                     id="add-missing-parent"),
        pytest.param({"a": 1}, [{"op": "remove", "path": "/b"}], 422, "doc is missing path", id="remove-missing"),
        pytest.param({"a": 1}, [{"op": "replace", "path": "/b", "value": 1}], 422, "doc is missing key",
                     id="replace-missing"),
        pytest.param({"a": [1]}, [{"op": "add", "path": "/a/5", "value": 1}], 422, "index out of range", id="index"),
        pytest.param({"a": [1]}, [{"op": "add", "path": "/a/" + "9" * 5000, "value": 1}], 422, "index out of range",
                     id="huge-index"),
        pytest.param({"a": 1}, [{"op": "frobnicate", "path": "/a"}], 400, "unknown operation", id="unknown-op"),
        pytest.param({"a": 1}, [{"op": "add", "path": "/a"}], 400, 'missing "value"', id="missing-value"),
        pytest.param({"a": 1}, [{"op": "add", "value": 1}], 400, 'missing "path"', id="missing-path"),
        pytest.param({"a": 1}, [{"op": "add", "path": "a", "value": 1}], 400, "must start with", id="bad-pointer"),
        pytest.param({"a": 1}, {"op": "add"}, 400, "JSON array", id="not-array"),
        pytest.param({"a": {"b": 1}}, [{"op": "move", "from": "/a", "path": "/a/b/c"}], 422, "is a prefix of",
                     id="move-into-self"),
    ],
)
def test_json_patch_errors(doc: Any, ops: Any, code: int, message: str) -> None:
    with pytest.raises(PatchError) as info:
        patch.apply_json_patch(doc, ops)
    assert info.value.code == code
    assert message in str(info.value)


# Strategic merge patch.


def deployment() -> dict[str, Any]:
    d = {
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web", "tier": "front"},
                     "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
                     "finalizers": ["a.io/x", "b.io/y"]},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80, "protocol": "TCP"}],
                         "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                         "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg"}]},
                        {"name": "sidecar", "image": "busybox"},
                    ],
                    "volumes": [{"name": "cfg", "configMap": {"name": "c"}}],
                    "tolerations": [{"key": "a", "operator": "Exists"}],
                },
            },
        },
    }
    return codec.to_builtins(codec.convert(d, apps.Deployment))  # type: ignore[no-any-return]


def smp(doc: dict[str, Any], body: dict[str, Any], cls: Any = apps.Deployment) -> dict[str, Any]:
    out = patch.apply(doc, json.dumps(body).encode(), SMP, cls)
    codec.convert(out, cls)  # still decodes as the type
    return out  # type: ignore[no-any-return]


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["spec"]["template"]["spec"]["containers"]  # type: ignore[no-any-return]


def test_kubectl_apply_changes_one_image() -> None:
    body = {
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"kind":"Deployment"}'}},
        "spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
                                       "containers": [{"image": "nginx:1.27", "name": "web"}]}}},
    }
    out = smp(deployment(), body)
    web, side = containers(out)
    assert web["image"] == "nginx:1.27"
    assert web["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert side == {"name": "sidecar", "image": "busybox", "resources": {}}
    assert out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] == '{"kind":"Deployment"}'


def test_kubectl_apply_removes_a_container_and_an_env_var() -> None:
    body = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "web"}],
        "containers": [{"$patch": "delete", "name": "sidecar"},
                       {"name": "web", "$setElementOrder/env": [{"name": "A"}], "env": [{"$patch": "delete", "name": "B"}]}],
    }}}}
    out = smp(deployment(), body)
    assert [c["name"] for c in containers(out)] == ["web"]
    assert containers(out)[0]["env"] == [{"name": "A", "value": "1"}]


def test_kubectl_apply_reorders_containers() -> None:
    body = {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "web"}]}}}}
    assert [c["name"] for c in containers(smp(deployment(), body))] == ["sidecar", "web"]


def test_labels_removed_with_null_and_ports_merged_by_container_port() -> None:
    body = {"metadata": {"labels": {"tier": None, "new": "x"}},
            "spec": {"template": {"spec": {"containers": [{"name": "web", "ports": [{"containerPort": 443}]}]}}}}
    out = smp(deployment(), body)
    assert out["metadata"]["labels"] == {"app": "web", "new": "x"}
    assert [p["containerPort"] for p in containers(out)[0]["ports"]] == [80, 443]


def test_lists_without_merge_keys_are_replaced() -> None:
    body = {"spec": {"template": {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}}}}
    out = smp(deployment(), body)
    assert out["spec"]["template"]["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]


def test_finalizers_merge_as_a_set_and_delete_from_primitive_list() -> None:
    out = smp(deployment(), {"metadata": {"finalizers": ["b.io/y", "c.io/z"]}})
    assert out["metadata"]["finalizers"] == ["a.io/x", "b.io/y", "c.io/z"]
    out = smp(deployment(), {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.io/x"]}})
    assert out["metadata"]["finalizers"] == ["b.io/y"]


def test_retain_keys_switches_strategy_to_recreate() -> None:
    out = smp(deployment(), {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})
    assert out["spec"]["strategy"] == {"type": "Recreate"}
    dep = codec.convert(out, apps.Deployment)
    assert dep.spec.strategy.rolling_update is None


def test_patch_replace_directives() -> None:
    out = smp(deployment(), {"spec": {"selector": {"$patch": "replace", "matchLabels": {"app": "x"}}}})
    assert out["spec"]["selector"] == {"matchLabels": {"app": "x"}}
    body = {"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "i"}]}}}}
    assert containers(smp(deployment(), body)) == [{"name": "only", "image": "i"}]
    out = smp(deployment(), {"spec": {"template": {"metadata": {"labels": {"$patch": "delete"}}}}})
    assert "labels" not in out["spec"]["template"]["metadata"]


def test_rollout_restart_and_cordon_and_scale() -> None:
    out = smp(deployment(), {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2026-11-27T04:34:00Z"}}}}})
    assert out["spec"]["template"]["metadata"]["annotations"] == {"kubectl.kubernetes.io/restartedAt": "2026-11-27T04:34:00Z"}
    assert smp(deployment(), {"spec": {"replicas": 5}})["spec"]["replicas"] == 5
    node = codec.to_builtins(core.Node())
    assert smp(node, {"spec": {"unschedulable": True}}, core.Node)["spec"]["unschedulable"] is True


def test_kubelet_status_patch_merges_conditions_by_type() -> None:
    node = codec.to_builtins(codec.convert({"status": {"conditions": [
        {"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "False", "reason": "KubeletNotReady"}]}},
        core.Node))
    body = {"status": {"$setElementOrder/conditions": [{"type": "MemoryPressure"}, {"type": "Ready"}],
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]}}
    out = smp(node, body, core.Node)
    assert out["status"]["conditions"] == [
        {"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True", "reason": "KubeletReady"}]


def test_owner_references_merge_by_uid() -> None:
    pod = codec.to_builtins(codec.convert({"metadata": {"ownerReferences": [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "1"}]}}, core.Pod))
    out = smp(pod, {"metadata": {"ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "x", "uid": "2"}]}}, core.Pod)
    assert [r["uid"] for r in out["metadata"]["ownerReferences"]] == ["1", "2"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}},
                     "does not contain declared merge key: name", id="missing-merge-key"),
        pytest.param({"spec": {"$frobnicate": 1}}, "unknown directive", id="unknown-directive"),
        pytest.param({"spec": {"$patch": "explode"}}, "unknown patch type", id="unknown-patch-type"),
        pytest.param({"spec": {"template": {"spec": {"containers": ["web"]}}}}, "is not an object", id="scalar-element"),
        pytest.param({"spec": {"strategy": {"$retainKeys": "type"}}}, "$retainKeys must be a list", id="bad-retain"),
    ],
)
def test_strategic_merge_errors(body: dict[str, Any], message: str) -> None:
    with pytest.raises(PatchError) as info:
        patch.apply(deployment(), json.dumps(body).encode(), SMP, apps.Deployment)
    assert message in str(info.value)
    assert info.value.code == 400


def test_apply_dispatches_on_content_type() -> None:
    doc = deployment()
    out = patch.apply(doc, b'{"spec":{"replicas":3}}', "application/merge-patch+json; charset=utf-8", apps.Deployment)
    assert out["spec"]["replicas"] == 3
    out = patch.apply(doc, b'[{"op":"replace","path":"/spec/replicas","value":4}]', "application/json-patch+json",
                      apps.Deployment)
    assert out["spec"]["replicas"] == 4
    with pytest.raises(PatchError) as info:
        patch.apply(doc, b"{}", "application/apply-patch+yaml", apps.Deployment)
    assert info.value.code == 415
    with pytest.raises(PatchError) as info:
        patch.apply(doc, b"{not json", SMP, apps.Deployment)
    assert info.value.code == 400
    with pytest.raises(PatchError):
        patch.apply(doc, b"[]", "application/merge-patch+json", apps.Deployment)


def test_schema_reads_merge_keys_from_types() -> None:
    s = schema_of(core.Pod)
    spec = s.child("spec")
    assert (spec.child("containers").merge_key, spec.child("containers").merges) == ("name", True)
    assert spec.child("volumes").retains_keys
    assert spec.child("tolerations").merges is False
    assert spec.child("containers").item.child("ports").merge_key == "containerPort"  # type: ignore[union-attr]
    assert s.child("metadata").child("finalizers").merges
    assert s.child("metadata").child("labels").kind == "map"
    assert schema_of(apps.Deployment).child("spec").child("strategy").retains_keys
