"""What this apiserver serves: the resources, their discovery facts, and how to treat their objects.

A ``Served`` entry is the apiserver's view of one resource, made from ``master.api``'s registry
(which owns kinds, names, verbs, subresources, types and strategies): the facts the routing,
discovery, storage and selectors need, in one small frozen value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from master.api import registry as api_registry

__all__ = ["COMMON_FIELDS", "Served", "ServedRegistry", "field_getter"]

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
COMMON_FIELDS = ("metadata.name", "metadata.namespace")


def _parts_get(obj: dict[str, Any], parts: tuple[str, ...]) -> str:
    cur: Any = obj
    for part in parts:
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return cur if isinstance(cur, str) else str(cur)


def field_getter(paths: Iterable[str]) -> Callable[[dict[str, Any]], dict[str, str]]:
    """A function that reads the selectable fields (dotted paths) of an object. It runs for every
    watch event, so the paths are split once, here."""
    names = tuple(dict.fromkeys((*COMMON_FIELDS, *paths)))
    split = tuple((name, tuple(name.split("."))) for name in names)

    def fields(obj: dict[str, Any]) -> dict[str, str]:
        return {name: _parts_get(obj, parts) for name, parts in split}

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


# Served by the apiserver itself, with no stored objects of their own.
VIRTUAL: tuple[Served, ...] = (
    Served("", "v1", "Binding", "bindings", "binding", True, verbs=("create",), stored=False),
    # Reviews (issue 8): a create answers with the status filled in (authn_reviews, authz_reviews).
    Served("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", "tokenreview", False,
           verbs=("create",), stored=False),
    Served("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", "selfsubjectreview", False,
           verbs=("create",), stored=False),
    Served("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", "subjectaccessreview",
           False, verbs=("create",), stored=False),
    Served("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews",
           "selfsubjectaccessreview", False, verbs=("create",), stored=False),
    Served("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews",
           "selfsubjectrulesreview", False, verbs=("create",), stored=False),
    Served("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews",
           "localsubjectaccessreview", True, verbs=("create",), stored=False),
    # There are no custom resources, and the list says so: kubectl asks it before it validates a
    # kind whose PATCH has no fieldValidation (the reviews), and a 404 there failed `kubectl create -f`.
    Served("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
           "customresourcedefinition", False, short_names=("crd", "crds"), verbs=("get", "list"), stored=False),
)


def from_api(resource: Any) -> Served:
    """The apiserver's view of a ``master.api.registry.Resource``."""
    keys: frozenset[str] = getattr(resource.strategy, "field_selector_keys", frozenset())
    return Served(
        resource.group, resource.version, resource.kind, resource.plural, resource.singular,
        resource.namespaced, tuple(resource.short_names), tuple(resource.categories), tuple(resource.verbs),
        {sub.name: (sub.kind, tuple(sub.verbs)) for sub in resource.subresources},
        tuple(sorted(set(keys) - set(COMMON_FIELDS))),
    )


class ServedRegistry:
    def __init__(self, resources: Iterable[Served]) -> None:
        self.resources = tuple(resources)
        self._by_path = {(r.group, r.version, r.plural): r for r in self.resources}
        self._by_kind = {(r.group, r.kind): r for r in self.resources if r.stored}

    @classmethod
    def builtin(cls) -> ServedRegistry:
        """Every resource of ``master.api``'s registry, plus the virtual ones."""
        return cls([*(from_api(r) for r in api_registry.DEFAULT.all()), *VIRTUAL])

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
