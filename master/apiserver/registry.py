"""What this apiserver serves: the resources, their discovery facts, and how to treat their objects.

A ``Served`` entry is the apiserver's view of one resource. The object rules (types, defaults,
validation, strategies) live in ``master.api``; this module adds what only the server needs: the
verbs and subresources it routes, the selectable fields, the storage it uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["COMMON_FIELDS", "Served", "ServedRegistry", "field_getter"]

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
COMMON_FIELDS = ("metadata.name", "metadata.namespace")


def _path_get(obj: dict[str, Any], path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def field_getter(paths: Iterable[str]) -> Callable[[dict[str, Any]], dict[str, str]]:
    """A function that reads the selectable fields (dotted paths) of an object."""
    names = tuple(dict.fromkeys((*COMMON_FIELDS, *paths)))

    def fields(obj: dict[str, Any]) -> dict[str, str]:
        return {p: _path_get(obj, p) for p in names}

    return fields


@dataclass(frozen=True)
class Served:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    # subresource name -> (kind it speaks, verbs)
    subresources: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    field_paths: tuple[str, ...] = ()
    # Objects of this resource are stored (False for virtual ones such as bindings).
    stored: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def fields(self) -> Callable[[dict[str, Any]], dict[str, str]]:
        return field_getter(self.field_paths)

    @property
    def selectable_fields(self) -> frozenset[str]:
        return frozenset((*COMMON_FIELDS, *self.field_paths))


_STATUS = ("get", "patch", "update")
_SCALE = ("get", "patch", "update")

BUILTIN: tuple[Served, ...] = (
    Served("", "v1", "Namespace", "namespaces", "namespace", False, ("ns",),
           verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
           subresources={"status": ("Namespace", _STATUS), "finalize": ("Namespace", ("update",))},
           field_paths=("status.phase",)),
    Served("", "v1", "Node", "nodes", "node", False, ("no",),
           subresources={"status": ("Node", _STATUS)}, field_paths=("spec.unschedulable",)),
    Served("", "v1", "Pod", "pods", "pod", True, ("po",), ("all",),
           subresources={"status": ("Pod", _STATUS), "binding": ("Binding", ("create",)),
                         "eviction": ("Eviction", ("create",)), "log": ("Pod", ("get",))},
           field_paths=("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                        "status.phase", "status.podIP", "status.nominatedNodeName")),
    Served("", "v1", "Service", "services", "service", True, ("svc",), ("all",),
           verbs=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
           subresources={"status": ("Service", _STATUS)}, field_paths=("spec.clusterIP", "spec.type")),
    Served("", "v1", "Endpoints", "endpoints", "endpoints", True, ("ep",)),
    Served("", "v1", "ConfigMap", "configmaps", "configmap", True, ("cm",)),
    Served("", "v1", "Secret", "secrets", "secret", True, (), field_paths=("type",)),
    Served("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", True, ("sa",)),
    Served("", "v1", "Event", "events", "event", True, ("ev",),
           field_paths=("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                        "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                        "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type")),
    Served("", "v1", "Binding", "bindings", "binding", True, verbs=("create",), stored=False),
    Served("apps", "v1", "Deployment", "deployments", "deployment", True, ("deploy",), ("all",),
           subresources={"status": ("Deployment", _STATUS), "scale": ("Scale", _SCALE)}),
    Served("apps", "v1", "ReplicaSet", "replicasets", "replicaset", True, ("rs",), ("all",),
           subresources={"status": ("ReplicaSet", _STATUS), "scale": ("Scale", _SCALE)}),
    Served("apps", "v1", "DaemonSet", "daemonsets", "daemonset", True, ("ds",), ("all",),
           subresources={"status": ("DaemonSet", _STATUS)}),
    Served("coordination.k8s.io", "v1", "Lease", "leases", "lease", True),
    Served("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", True,
           field_paths=("addressType",)),
)


class ServedRegistry:
    def __init__(self, resources: Iterable[Served]) -> None:
        self.resources = tuple(resources)
        self._by_path = {(r.group, r.version, r.plural): r for r in self.resources}
        self._by_kind = {(r.group, r.kind): r for r in self.resources if r.stored}

    @classmethod
    def builtin(cls) -> ServedRegistry:
        return cls(BUILTIN)

    def lookup(self, group: str, version: str, plural: str) -> Served | None:
        return self._by_path.get((group, version, plural))

    def by_kind(self, group: str, kind: str) -> Served | None:
        return self._by_kind.get((group, kind))

    def by_plural(self, plural: str) -> Served:
        for r in self.resources:
            if r.plural == plural:
                return r
        raise KeyError(plural)

    def storage_resources(self) -> list[Served]:
        return [r for r in self.resources if r.stored]

    def groups(self) -> list[str]:
        return list(dict.fromkeys(r.group for r in self.resources if r.group))

    def group_versions(self) -> list[tuple[str, str]]:
        return list(dict.fromkeys((r.group, r.version) for r in self.resources))

    def in_group_version(self, group: str, version: str) -> list[Served]:
        return [r for r in self.resources if r.group == group and r.version == version]
