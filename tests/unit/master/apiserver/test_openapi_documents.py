"""The OpenAPI documents built from our types: names, schemas, patch facts, operations, validity."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from master.apiserver import openapi
from master.apiserver.registry import ServedRegistry

REGISTRY = ServedRegistry.builtin()
CORE = "io.k8s.api.core.v1"
META = "io.k8s.apimachinery.pkg.apis.meta.v1"


@pytest.fixture(scope="module")
def v2() -> dict[str, Any]:
    return openapi.v2_document(REGISTRY)


@pytest.fixture(scope="module")
def v3() -> dict[str, dict[str, Any]]:
    """Every group-version's document, by its path in the index ("api/v1", "apis/apps/v1")."""
    return {(f"apis/{g}/{v}" if g else f"api/{v}"): openapi.v3_document(REGISTRY.in_group_version(g, v))
            for g, v in REGISTRY.group_versions()}


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method != "parameters":
                yield path, method, op


def _unwrap(prop: dict[str, Any]) -> dict[str, Any]:
    """A v3 property's referenced schema, whether it is a bare $ref or wrapped in allOf."""
    return prop["allOf"][0] if "allOf" in prop else prop


def test_definitions_are_named_as_in_kubernetes(v2: dict[str, Any]) -> None:
    names = set(v2["definitions"])
    for name in (f"{CORE}.Pod", f"{CORE}.PodList", f"{CORE}.PodSpec", f"{CORE}.Container", f"{META}.ObjectMeta",
                 f"{META}.ListMeta", f"{META}.Status", f"{META}.DeleteOptions", f"{META}.WatchEvent",
                 "io.k8s.api.apps.v1.Deployment", "io.k8s.api.autoscaling.v1.Scale", "io.k8s.api.policy.v1.Eviction",
                 "io.k8s.api.rbac.v1.ClusterRole", "io.k8s.api.coordination.v1.Lease",
                 "io.k8s.api.discovery.v1.EndpointPort", f"{CORE}.EndpointPort",
                 "io.k8s.api.authorization.v1.LocalSubjectAccessReview",
                 "io.k8s.apimachinery.pkg.api.resource.Quantity", "io.k8s.apimachinery.pkg.util.intstr.IntOrString"):
        assert name in names, name
    assert not [n for n in names if not n.startswith("io.k8s.")]


def test_every_reference_resolves(v2: dict[str, Any], v3: dict[str, dict[str, Any]]) -> None:
    for ref in _refs(v2):
        assert ref.removeprefix("#/definitions/") in v2["definitions"], ref
    for rel, doc in v3.items():
        for ref in _refs(doc):
            assert ref.removeprefix("#/components/schemas/") in doc["components"]["schemas"], (rel, ref)


def test_schemas_carry_types_required_fields_and_descriptions(v2: dict[str, Any]) -> None:
    defs = v2["definitions"]
    spec = defs[f"{CORE}.PodSpec"]
    assert spec["type"] == "object" and spec["required"] == ["containers"]
    assert defs[f"{CORE}.Container"]["required"] == ["name"]
    port = defs[f"{CORE}.ContainerPort"]["properties"]
    assert port["containerPort"]["type"] == "integer" and port["hostIP"] == {"type": "string"}
    assert spec["properties"]["nodeSelector"]["additionalProperties"] == {"type": "string"}
    resources = defs[f"{CORE}.ResourceRequirements"]["properties"]["limits"]
    assert resources["additionalProperties"] == {"$ref": "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity"}
    target = defs[f"{CORE}.ServicePort"]["properties"]["targetPort"]
    assert target["$ref"].endswith("intstr.IntOrString")
    pod = defs[f"{CORE}.Pod"]
    assert pod["description"].startswith("A group of containers")
    assert pod["properties"]["metadata"]["$ref"] == f"#/definitions/{META}.ObjectMeta"
    assert "desired state" in pod["properties"]["spec"]["description"]
    assert "unique" in defs[f"{META}.ObjectMeta"]["properties"]["name"]["description"]
    # From the comment on the field's line in master/api/core/pod.py.
    assert "Exists or Equal" in defs[f"{CORE}.Toleration"]["properties"]["operator"]["description"]
    # A condition's status is a string, not the object-level "status" description.
    assert "observed state" not in defs[f"{CORE}.PodCondition"]["properties"]["status"].get("description", "")


@pytest.mark.parametrize(
    ("definition", "field", "strategy", "key"),
    [
        pytest.param(f"{CORE}.PodSpec", "containers", "merge", "name", id="containers"),
        pytest.param(f"{CORE}.PodSpec", "volumes", "merge,retainKeys", "name", id="volumes"),
        pytest.param(f"{CORE}.Container", "ports", "merge", "containerPort", id="ports"),
        pytest.param(f"{CORE}.Container", "env", "merge", "name", id="env"),
        pytest.param(f"{META}.ObjectMeta", "finalizers", "merge", None, id="finalizers"),
        pytest.param(f"{META}.ObjectMeta", "ownerReferences", "merge", "uid", id="owner-references"),
        pytest.param("io.k8s.api.apps.v1.DeploymentSpec", "strategy", "retainKeys", None, id="deployment-strategy"),
        pytest.param(f"{CORE}.PodSpec", "tolerations", None, None, id="tolerations-replace"),
    ],
)
def test_patch_strategies_and_merge_keys(v2: dict[str, Any], v3: dict[str, dict[str, Any]], definition: str,
                                         field: str, strategy: str | None, key: str | None) -> None:
    rel = "apis/apps/v1" if ".apps." in definition else "api/v1"
    for prop in (v2["definitions"][definition]["properties"][field],
                 v3[rel]["components"]["schemas"][definition]["properties"][field]):
        assert prop.get("x-kubernetes-patch-strategy") == strategy
        assert prop.get("x-kubernetes-patch-merge-key") == key


def test_v3_wraps_references_that_have_siblings(v3: dict[str, dict[str, Any]]) -> None:
    pod = v3["api/v1"]["components"]["schemas"][f"{CORE}.Pod"]["properties"]
    assert pod["spec"]["allOf"] == [{"$ref": f"#/components/schemas/{CORE}.PodSpec"}]
    assert pod["spec"]["description"]
    quantity = v3["api/v1"]["components"]["schemas"]["io.k8s.apimachinery.pkg.api.resource.Quantity"]
    assert "type" not in quantity and {"type": "string"} in quantity["oneOf"]


def test_top_level_kinds_carry_their_group_version_kind(v2: dict[str, Any]) -> None:
    defs = v2["definitions"]
    assert defs[f"{CORE}.Pod"]["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    assert defs[f"{CORE}.PodList"]["x-kubernetes-group-version-kind"] == [
        {"group": "", "kind": "PodList", "version": "v1"}]
    assert defs["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}]
    assert defs["io.k8s.api.autoscaling.v1.Scale"]["x-kubernetes-group-version-kind"][0]["group"] == "autoscaling"
    assert "x-kubernetes-group-version-kind" not in defs[f"{CORE}.PodSpec"]


def test_pods_have_every_operation(v2: dict[str, Any]) -> None:
    paths = v2["paths"]
    ns = "/api/v1/namespaces/{namespace}/pods"
    actions = {(path, method): op["x-kubernetes-action"] for path, method, op in _operations(v2)}
    assert actions[(ns, "get")] == "list" and actions[(ns, "post")] == "post"
    assert actions[(ns, "delete")] == "deletecollection"
    assert [actions[(ns + "/{name}", m)] for m in ("get", "put", "patch", "delete")] == ["get", "put", "patch",
                                                                                          "delete"]
    assert actions[("/api/v1/pods", "get")] == "list"
    assert actions[("/api/v1/watch/namespaces/{namespace}/pods", "get")] == "watchlist"
    assert actions[("/api/v1/watch/namespaces/{namespace}/pods/{name}", "get")] == "watch"
    assert actions[(ns + "/{name}/status", "patch")] == "patch"
    assert actions[(ns + "/{name}/log", "get")] == "get" and actions[(ns + "/{name}/binding", "post")] == "post"
    assert actions[("/api/v1/nodes/{name}/proxy/{path}", "get")] == "connect"
    read = paths[ns + "/{name}"]["get"]
    assert read["operationId"] == "readCoreV1NamespacedPod" and read["tags"] == ["core_v1"]
    assert read["x-kubernetes-group-version-kind"] == {"group": "", "kind": "Pod", "version": "v1"}
    assert read["responses"]["200"]["schema"] == {"$ref": f"#/definitions/{CORE}.Pod"}
    assert [p["name"] for p in paths[ns + "/{name}"]["parameters"]] == ["namespace", "name"]
    scale = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["put"]
    assert scale["x-kubernetes-group-version-kind"] == {"group": "autoscaling", "kind": "Scale", "version": "v1"}
    assert scale["operationId"] == "replaceAppsV1NamespacedDeploymentScale"
    assert paths["/apis/rbac.authorization.k8s.io/v1/clusterroles"]["get"]["tags"] == ["rbacAuthorization_v1"]


def test_operations_follow_the_served_verbs(v2: dict[str, Any]) -> None:
    # Namespaces have no deletecollection; bindings and reviews are create-only.
    assert "delete" not in v2["paths"]["/api/v1/namespaces"]
    assert set(v2["paths"]["/api/v1/namespaces/{namespace}/bindings"]) == {"post", "parameters"}
    reviews = [p for p in v2["paths"] if "subjectaccessreviews" in p]
    assert reviews and all(set(v2["paths"][p]) <= {"post", "parameters"} for p in reviews)
    for r in REGISTRY.resources:
        assert any(op.get("x-kubernetes-group-version-kind", {}).get("kind") == r.kind
                   for _, _, op in _operations(v2)), r.kind


def test_every_patch_offers_server_side_field_validation(v2: dict[str, Any],
                                                         v3: dict[str, dict[str, Any]]) -> None:
    patches = [op for _, method, op in _operations(v2) if method == "patch"]
    assert len(patches) > 20
    for op in patches:
        assert "fieldValidation" in [p["name"] for p in op["parameters"]]
        assert "application/strategic-merge-patch+json" in op["consumes"]
    for doc in v3.values():
        for _, method, op in _operations(doc):
            if method == "patch":
                assert "fieldValidation" in [p["name"] for p in op["parameters"]]
                # kubectl builds apply patches from the schemas only when this content type is listed.
                assert "application/strategic-merge-patch+json" in op["requestBody"]["content"]


def test_v3_documents_hold_only_their_group_version(v3: dict[str, dict[str, Any]]) -> None:
    assert set(v3) == {"api/v1", "apis/apps/v1", "apis/coordination.k8s.io/v1", "apis/discovery.k8s.io/v1",
                       "apis/rbac.authorization.k8s.io/v1", "apis/certificates.k8s.io/v1",
                       "apis/authentication.k8s.io/v1", "apis/authorization.k8s.io/v1",
                       "apis/apiextensions.k8s.io/v1"}
    assert all(p.startswith("/apis/apps/v1/") for p in v3["apis/apps/v1"]["paths"])
    assert "io.k8s.api.apps.v1.Deployment" not in v3["api/v1"]["components"]["schemas"]
    assert "io.k8s.api.autoscaling.v1.Scale" in v3["apis/apps/v1"]["components"]["schemas"]


def test_v3_documents_are_valid_openapi_3_0(v3: dict[str, dict[str, Any]]) -> None:
    from openapi_spec_validator import OpenAPIV30SpecValidator

    for rel, doc in v3.items():
        errors = [str(e)[:300] for e in OpenAPIV30SpecValidator(doc).iter_errors()]
        assert not errors, (rel, errors[:3])


def test_v2_document_is_valid_swagger_2_0(v2: dict[str, Any]) -> None:
    from openapi_spec_validator import OpenAPIV2SpecValidator

    errors = [str(e)[:300] for e in OpenAPIV2SpecValidator(v2).iter_errors()]
    assert not errors, errors[:3]


def test_documents_are_deterministic(v2: dict[str, Any]) -> None:
    import msgspec

    assert msgspec.json.encode(openapi.v2_document(REGISTRY)) == msgspec.json.encode(v2)
