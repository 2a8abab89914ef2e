"""A minimal OpenAPI v3 description, enough for kubectl.

kubectl (1.27+) validates with server-side field validation when the server's OpenAPI v3
document shows a ``fieldValidation`` query parameter on the resource's PATCH operation (the
operation carries ``x-kubernetes-group-version-kind``). So the document lists, per group-version,
the item path of each resource with a PATCH operation that has that parameter, and a schema per
kind with its group-version-kind. kubectl's client-side apply finds no field schemas here and
falls back to its built-in types for strategic merge patches, as it does against any server.

/openapi/v2 is not served (404): kubectl treats that as "no v2 schema" and carries on.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from master.apiserver.registry import Served, ServedRegistry

__all__ = ["document"]

_encoder = msgspec.json.Encoder()

_PARAMS = [
    {"name": name, "in": "query", "schema": {"type": "string"}, "uniqueItems": True}
    for name in ("dryRun", "fieldManager", "fieldValidation", "force")
]


def _gvk(r: Served) -> dict[str, str]:
    return {"group": r.group, "version": r.version, "kind": r.kind}


def _gv_doc(resources: list[Served]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for r in resources:
        if not r.stored:
            continue
        base = f"/api/{r.version}" if not r.group else f"/apis/{r.group}/{r.version}"
        scope = "/namespaces/{namespace}" if r.namespaced else ""
        item = f"{base}{scope}/{r.plural}/{{name}}"
        ref = {"$ref": f"#/components/schemas/{_schema_name(r)}"}
        op = {"x-kubernetes-group-version-kind": _gvk(r), "x-kubernetes-action": "patch",
              "parameters": _PARAMS, "responses": {"200": {"description": "OK", "content": {
                  "application/json": {"schema": ref}}}}}
        paths[item] = {"patch": op}
        schemas[_schema_name(r)] = {
            "type": "object",
            "description": f"{r.kind} ({r.api_version}).",
            "x-kubernetes-group-version-kind": [_gvk(r)],
            "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                           "metadata": {"type": "object"}},
        }
    return {"openapi": "3.0.0", "info": {"title": "picluster", "version": "v1.32"},
            "paths": paths, "components": {"schemas": schemas}}


def _schema_name(r: Served) -> str:
    group = r.group or "core"
    return f"io.k8s.api.{group.split('.')[0]}.{r.version}.{r.kind}"


def document(registry: ServedRegistry, path: str) -> bytes | None:
    parts = [p for p in path.split("/") if p]
    if parts[:2] != ["openapi", "v3"]:
        return None
    if len(parts) == 2:
        index: dict[str, Any] = {}
        for group, version in registry.group_versions():
            rel = f"api/{version}" if not group else f"apis/{group}/{version}"
            digest = hashlib.sha256(_encoder.encode(_gv_doc(registry.in_group_version(group, version)))).hexdigest()
            index[rel] = {"serverRelativeURL": f"/openapi/v3/{rel}?hash={digest[:32].upper()}"}
        return _encoder.encode({"paths": index})
    rest = parts[2:]
    if rest[0] == "api" and len(rest) == 2:
        group, version = "", rest[1]
    elif rest[0] == "apis" and len(rest) == 3:
        group, version = rest[1], rest[2]
    else:
        return None
    resources = registry.in_group_version(group, version)
    if not resources:
        return None
    return _encoder.encode(_gv_doc(resources))
