"""Discovery documents: /version, /api, /apis, /api/v1, /apis/GROUP[/VERSION].

kubectl 1.32 first asks for aggregated discovery (``Accept: application/json;g=apidiscovery.k8s.io;
v=v2;as=APIGroupDiscoveryList,...,application/json``) and gets it: one request for /api and one
for /apis describe everything. Clients that ask for plain JSON get the legacy documents, and
kubectl falls back to them too. Protobuf Accept headers also get JSON.
"""

from __future__ import annotations

import platform
from typing import Any

import msgspec

from master.apiserver.registry import Served, ServedRegistry

__all__ = ["aggregated", "api_resource_list", "document", "version_info", "wants_aggregated"]

_encoder = msgspec.json.Encoder()
KUBE_VERSION = ("1", "32")


def version_info() -> dict[str, str]:
    import master

    return {
        "major": KUBE_VERSION[0],
        "minor": KUBE_VERSION[1],
        "gitVersion": f"v{KUBE_VERSION[0]}.{KUBE_VERSION[1]}.0+picluster-{master.__version__}",
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "2026-11-27T00:00:00Z",
        "goVersion": f"python{platform.python_version()}",
        "compiler": "cpython",
        "platform": f"linux/{platform.machine() or 'unknown'}",
    }


def _resource_entries(r: Served) -> list[dict[str, Any]]:
    entry: dict[str, Any] = {
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": list(r.verbs),
    }
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    out = [entry]
    for sub, (kind, verbs) in r.subresources.items():
        sub_entry: dict[str, Any] = {
            "name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced,
            "kind": kind, "verbs": list(verbs),
        }
        if kind == "Scale":
            sub_entry.update(group="autoscaling", version="v1")
        elif kind == "Eviction":
            sub_entry.update(group="policy", version="v1")
        out.append(sub_entry)
    return out


def api_resource_list(registry: ServedRegistry, group: str, version: str) -> dict[str, Any] | None:
    resources = registry.in_group_version(group, version)
    if not resources:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [e for r in resources for e in _resource_entries(r)],
    }


def _group(registry: ServedRegistry, group: str) -> dict[str, Any]:
    versions = [v for g, v in registry.group_versions() if g == group]
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}


AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def wants_aggregated(accept: str) -> bool:
    for part in accept.split(","):
        params = {p.split("=", 1)[0].strip(): p.split("=", 1)[-1].strip() for p in part.split(";")[1:] if "=" in p}
        if (params.get("as") == "APIGroupDiscoveryList" and params.get("g") == "apidiscovery.k8s.io"
                and params.get("v") == "v2"):
            return True
    return False


def _gvk(group: str, version: str, kind: str) -> dict[str, str]:
    return {"group": group, "version": version, "kind": kind}


def _resource_discovery(r: Served) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resource": r.plural,
        "responseKind": _gvk(r.group, r.version, r.kind),
        "scope": "Namespaced" if r.namespaced else "Cluster",
        "singularResource": r.singular,
        "verbs": list(r.verbs),
    }
    if r.short_names:
        out["shortNames"] = list(r.short_names)
    if r.categories:
        out["categories"] = list(r.categories)
    subs = []
    for sub, (kind, verbs) in r.subresources.items():
        group, version = r.group, r.version
        if kind == "Scale":
            group, version = "autoscaling", "v1"
        elif kind == "Eviction":
            group, version = "policy", "v1"
        subs.append({"subresource": sub, "responseKind": _gvk(group, version, kind), "verbs": list(verbs)})
    if subs:
        out["subresources"] = subs
    return out


def aggregated(registry: ServedRegistry, *, core: bool) -> dict[str, Any]:
    """``/api`` (core=True) or ``/apis`` as an apidiscovery.k8s.io/v2 APIGroupDiscoveryList."""
    items = []
    groups = [""] if core else registry.groups()
    for group in groups:
        versions = [{"version": v, "resources": [_resource_discovery(r) for r in registry.in_group_version(group, v)],
                     "freshness": "Current"}
                    for g, v in registry.group_versions() if g == group]
        items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": versions})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}


def document(registry: ServedRegistry, path: str, accept: str = "") -> tuple[bytes, str] | None:
    """The discovery document at ``path`` as (JSON, content type), or None if it is not one."""
    parts = [p for p in path.split("/") if p]
    if parts in (["api"], ["apis"]) and wants_aggregated(accept):
        return _encoder.encode(aggregated(registry, core=parts == ["api"])), AGGREGATED
    doc: dict[str, Any] | None = None
    if parts == ["api"]:
        doc = {"kind": "APIVersions", "versions": ["v1"],
               "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]}
    elif parts == ["apis"]:
        doc = {"kind": "APIGroupList", "apiVersion": "v1",
               "groups": [_group(registry, g) for g in registry.groups()]}
    elif len(parts) == 2 and parts[0] == "api":
        doc = api_resource_list(registry, "", parts[1])
    elif len(parts) == 2 and parts[0] == "apis" and parts[1] in registry.groups():
        doc = {"kind": "APIGroup", "apiVersion": "v1", **_group(registry, parts[1])}
    elif len(parts) == 3 and parts[0] == "apis":
        doc = api_resource_list(registry, parts[1], parts[2])
    if doc is None:
        return None
    return _encoder.encode(doc), "application/json"
