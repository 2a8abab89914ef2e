"""Manifests resolved to API objects: their resource, namespace and name, checked locally.

``resolve`` does what can be done without the server, for every object before any is sent:
the kind is known (``no matches for kind "Foo" in version "v1"``), the namespace agrees with
``-n``, the name is present and valid for its kind (the apiserver's own name rules, worded as
its 422 answer). Every problem of every object is reported together.

``local_errors`` runs the kind's full validation (``master.api`` strategies) for objects the
server cannot dry-run yet (their namespace is created by the same apply).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from master.api import registry
from master.cli.kube.manifests import Manifest
from master.cli.kube.resources import kind_name

__all__ = ["Item", "ItemsError", "local_errors", "resolve"]


class ItemsError(ValueError):
    """Objects that cannot be sent; ``lines`` holds one error line per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


@dataclass(frozen=True, slots=True)
class Item:
    manifest: Manifest
    resource: registry.Resource
    namespace: str  # "" for cluster-scoped kinds
    name: str  # "" when only generateName is set (create)
    obj: dict[str, Any]

    @property
    def ref(self) -> str:
        """``pod/web`` or ``deployment.apps/web``, as apply and create report objects."""
        return f"{kind_name(self.resource)}/{self.name}"

    @property
    def where(self) -> str:
        return self.manifest.where

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.resource.plural + "." + self.resource.group, self.namespace, self.name)


def _invalid(res: registry.Resource, name: str, path: str, value: str, messages: list[str]) -> str:
    from master.api import field, status

    errs = [field.invalid(path, value, m) for m in messages]
    return "The " + status.invalid(res.kind, name, errs, group=res.group).message


def resolve(
    manifests: list[Manifest],
    *,
    namespace: str,
    explicit_namespace: bool,
    require_name: bool = True,
    reg: registry.Registry | None = None,
) -> list[Item]:
    """Items for ``manifests``; raises ``ItemsError`` listing every problem."""
    reg = reg or registry.DEFAULT
    items: list[Item] = []
    problems: list[str] = []
    for m in manifests:
        api_version, kind = m.obj["apiVersion"], m.obj["kind"]
        res = reg.by_kind(api_version, kind)
        if res is None:
            problems.append(f'{m.where}: no matches for kind "{kind}" in version "{api_version}"')
            continue
        meta = dict(m.obj.get("metadata") or {})
        name = meta.get("name") or ""
        if not isinstance(name, str):
            problems.append(f"{m.where}: metadata.name must be a string")
            continue
        ns = ""
        if res.namespaced:
            given = meta.get("namespace") or ""
            if not isinstance(given, str):
                problems.append(f"{m.where}: metadata.namespace must be a string")
                continue
            if given and explicit_namespace and given != namespace:
                problems.append(
                    f'the namespace from the provided object "{given}" does not match the namespace '
                    f'"{namespace}". You must pass \'--namespace={given}\' to perform this operation.'
                )
                continue
            ns = given or namespace
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        if not name:
            if require_name or not meta.get("generateName"):
                problems.append(f"{m.where}: {kind}: resource name may not be empty")
                continue
        else:
            bad = res.strategy.name_errors(name, False)
            if bad:
                problems.append(_invalid(res, name, "metadata.name", name, bad))
                continue
        if ns:
            from master.api import validation

            bad_ns = validation.is_dns1123_label(ns)
            if bad_ns:
                problems.append(_invalid(res, name, "metadata.namespace", ns, bad_ns))
                continue
        items.append(Item(m, res, ns, name, {**m.obj, "metadata": meta}))
    if problems:
        raise ItemsError(problems)
    return items


def local_errors(item: Item) -> str:
    """The kind's own validation of a new object, as the server would word it ("" if valid)."""
    from master.api import codec, status

    res = item.resource
    try:
        typed = codec.convert(item.obj, res.type)
    except codec.DecodeError as exc:
        return f"{item.where}: {exc}"
    typed = res.strategy.default(typed)
    typed = res.strategy.prepare_for_create(typed)
    errs = res.strategy.validate(typed)
    if not errs:
        return ""
    return "The " + status.invalid(res.kind, item.name, errs, group=res.group).message
