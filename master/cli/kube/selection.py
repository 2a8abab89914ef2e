"""Which objects a verb acts on, as kubectl's delete, label and annotate pick them.

Exactly one of: names (``pod web db``, ``pod/web``), ``-l``/``--field-selector`` or ``--all``
with a type (listed on the server), or ``-f`` manifests (the objects they name)::

    refs = await selection.select(s, Selection(args=["pods"], selector="app=web"))

Without any of them the answer is kubectl's "resource(s) were provided, but no name was
specified". ``-A`` widens a listing to every namespace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from master.api import registry
from master.cli.kube import resources
from master.cli.kube.resources import kind_name
from master.cli.kube.session import Session

__all__ = ["Ref", "Selection", "SelectionError", "select"]


class SelectionError(ValueError):
    """Arguments that select nothing sensible (one line)."""


@dataclass(frozen=True, slots=True)
class Ref:
    resource: registry.Resource
    namespace: str  # "" for cluster-scoped kinds
    name: str
    obj: dict[str, Any] | None = None  # the object when it was listed

    @property
    def ref(self) -> str:
        """``pod/web``."""
        return f"{kind_name(self.resource)}/{self.name}"

    @property
    def quoted(self) -> str:
        """``pod "web"``, as delete reports it."""
        return f'{kind_name(self.resource)} "{self.name}"'


@dataclass(slots=True)
class Selection:
    args: list[str] = field(default_factory=list)
    filenames: list[str] = field(default_factory=list)
    recursive: bool = False
    selector: str = ""
    field_selector: str = ""
    all: bool = False
    all_namespaces: bool = False


def _check(sel: Selection) -> None:
    if sel.filenames and sel.args:
        raise SelectionError("when -f is given, resource arguments are not allowed")
    if not sel.filenames and not sel.args:
        raise SelectionError("you must specify the type of resource, or -f FILE")


async def select(s: Session, sel: Selection) -> list[Ref]:
    """The objects selected; raises ``SelectionError`` (or a client error from the listing)."""
    _check(sel)
    if sel.filenames:
        return _from_files(s, sel)
    try:
        targets = resources.parse(sel.args)
    except resources.ResourceError as exc:
        raise SelectionError(str(exc)) from None
    listing = bool(sel.selector or sel.field_selector or sel.all)
    refs: list[Ref] = []
    for t in targets:
        ns = s.namespace if t.resource.namespaced else ""
        if t.names:
            if listing:
                raise SelectionError("name cannot be provided when a selector or --all is specified")
            if sel.all_namespaces and t.resource.namespaced:
                raise SelectionError("a resource cannot be retrieved by name across all namespaces")
            refs.extend(Ref(t.resource, ns, n) for n in t.names)
            continue
        if not listing:
            raise SelectionError("resource(s) were provided, but no name was specified")
        scope = None if sel.all_namespaces and t.resource.namespaced else ns
        for obj in await s.rest.items(
            t.resource, scope, label_selector=sel.selector, field_selector=sel.field_selector
        ):
            meta = obj.get("metadata") or {}
            refs.append(Ref(t.resource, meta.get("namespace", "") if t.resource.namespaced else "",
                            meta.get("name", ""), obj))
    return refs


def _from_files(s: Session, sel: Selection) -> list[Ref]:
    from master.cli.kube import manifests, objects

    try:
        found = manifests.load(sel.filenames, recursive=sel.recursive)
        items = objects.resolve(found, namespace=s.namespace, explicit_namespace=s.explicit_namespace)
    except manifests.ManifestError as exc:
        raise SelectionError(str(exc)) from None
    except objects.ItemsError as exc:
        raise SelectionError(exc.lines[0]) from None
    return [Ref(i.resource, i.namespace, i.name) for i in items]
