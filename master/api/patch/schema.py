"""The strategic-merge-patch schema of a type, read from its Struct annotations.

``schema_of(Pod)`` walks the type once (cached) and says, for every field, what kind of value
it holds and how lists merge: ``containers`` merge by ``name``, ``finalizers`` as a set, the
rest replace. The facts come from ``master.api.schema``'s ``merge_by``/``MERGE``/
``RETAIN_KEYS`` markers on the types, so they cannot drift from the types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from msgspec import inspect as mi

__all__ = ["ANY", "Node", "schema_of"]


@dataclass(slots=True, eq=False)
class Node:
    """``kind`` is "struct", "map", "list" or "scalar" ("any" when unknown).

    For a struct, ``fields`` maps JSON names to child nodes; a child's ``strategy`` and
    ``merge_key`` describe how the field patches. ``item`` is a list's element or a map's value.
    """

    kind: str
    fields: dict[str, Node] = field(default_factory=dict)
    item: Node | None = None
    strategy: str = ""
    merge_key: str = ""

    def child(self, name: str) -> Node:
        if self.kind == "struct":
            return self.fields.get(name, ANY)
        if self.kind == "map" and self.item is not None:
            return self.item
        return ANY

    @property
    def merges(self) -> bool:
        return "merge" in self.strategy.split(",")

    @property
    def retains_keys(self) -> bool:
        return "retainKeys" in self.strategy.split(",")


ANY = Node("any")
_cache: dict[Any, Node] = {}


def schema_of(cls: Any) -> Node:
    node = _cache.get(cls)
    if node is None:
        node = _cache[cls] = _build(mi.type_info(cls), {})
    return node


def _build(t: mi.Type, seen: dict[Any, Node], strategy: str = "", merge_key: str = "") -> Node:
    if isinstance(t, mi.Metadata):
        extra = t.extra or {}
        return _build(t.type, seen, extra.get("patchStrategy", strategy), extra.get("patchMergeKey", merge_key))
    if isinstance(t, mi.UnionType):
        members = [u for u in t.types if not isinstance(u, mi.NoneType)]
        structured = [u for u in members if isinstance(u, mi.StructType | mi.ListType | mi.DictType | mi.Metadata)]
        if len(members) == 1 or structured:
            return _build((structured or members)[0], seen, strategy, merge_key)
        return Node("scalar", strategy=strategy, merge_key=merge_key)
    if isinstance(t, mi.StructType):
        if t.cls in seen and not strategy and not merge_key:
            return seen[t.cls]
        node = Node("struct", strategy=strategy, merge_key=merge_key)
        seen.setdefault(t.cls, node)
        for f in t.fields:
            node.fields[f.encode_name] = _build(f.type, seen)
        return node
    if isinstance(t, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        return Node("list", item=_build(t.item_type, seen), strategy=strategy, merge_key=merge_key)
    if isinstance(t, mi.DictType):
        return Node("map", item=_build(t.value_type, seen), strategy=strategy, merge_key=merge_key)
    if isinstance(t, mi.AnyType | mi.RawType):
        return Node("any", strategy=strategy, merge_key=merge_key)
    return Node("scalar", strategy=strategy, merge_key=merge_key)
