"""Strategic merge patch, as ``kubectl apply``/``edit``/``patch`` send it, for our types.

Like a JSON merge patch, except for lists and directives:

- a list of objects with a merge key merges element-wise: ``containers`` by name, ``env`` by
  name, ``ports`` by containerPort, ``volumeMounts`` by mountPath, ``conditions`` by type,
  ``ownerReferences`` by uid ...; a list of scalars marked MERGE (``finalizers``) is a set union;
  every other list is replaced;
- ``{"$patch": "delete", "name": "x"}`` in a merging list deletes element x;
  ``{"$patch": "replace"}`` in a list, or ``"$patch": "replace"`` in an object, replaces
  instead of merging; ``"$patch": "delete"`` in an object deletes it;
- ``"$deleteFromPrimitiveList/finalizers": ["a"]`` removes values from a scalar list;
- ``"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]`` orders the merged list
  (elements it does not name keep their relative order after the named ones);
- ``"$retainKeys": ["type"]`` clears the object's keys not listed (Deployment strategy
  switching to Recreate).

Example, a kubectl apply that changes one container's image::

    {"spec": {"$setElementOrder/containers": [{"name": "web"}],
              "containers": [{"name": "web", "image": "nginx:1.27"}]}}
"""

from __future__ import annotations

from typing import Any

from master.api.patch.errors import PatchError
from master.api.patch.schema import Node, schema_of

__all__ = ["strategic_merge_patch"]

_DELETE = object()
_DELETE_FROM = "$deleteFromPrimitiveList/"
_ORDER = "$setElementOrder/"


def strategic_merge_patch(original: Any, patch: Any, cls: Any) -> Any:
    """The patched copy of ``original`` (a dict from ``codec.to_builtins``) for type ``cls``."""
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch: the patch must be a JSON object")
    result = _merge_map(original if isinstance(original, dict) else {}, patch, schema_of(cls))
    return {} if result is _DELETE else result


def _merge_map(orig: dict[str, Any], patch: dict[str, Any], node: Node) -> Any:
    directive = patch.get("$patch")
    if directive == "replace":
        return _clean_map(patch, node)
    if directive == "delete":
        return _DELETE
    if directive not in (None, "merge"):
        raise PatchError(f"strategic merge patch: unknown patch type: {directive!r}")
    result = dict(orig)
    retain = patch.get("$retainKeys")
    if retain is not None:
        if not isinstance(retain, list) or not all(isinstance(k, str) for k in retain):
            raise PatchError("strategic merge patch: $retainKeys must be a list of strings")
        result = {k: v for k, v in result.items() if k in retain}
    orders: dict[str, Any] = {}
    for key, pv in patch.items():
        if key in ("$patch", "$retainKeys"):
            continue
        if key.startswith(_DELETE_FROM):
            name = key[len(_DELETE_FROM) :]
            if not isinstance(pv, list):
                raise PatchError(f"strategic merge patch: {key} must be a list")
            current = result.get(name)
            if isinstance(current, list):
                result[name] = [x for x in current if x not in pv]
            continue
        if key.startswith(_ORDER):
            if not isinstance(pv, list):
                raise PatchError(f"strategic merge patch: {key} must be a list")
            orders[key[len(_ORDER) :]] = pv
            continue
        if key.startswith("$"):
            raise PatchError(f"strategic merge patch: unknown directive {key!r}")
        child = node.child(key)
        if pv is None:
            result.pop(key, None)
            continue
        ov = result.get(key)
        if isinstance(pv, list):
            if child.kind == "list" and child.merges and isinstance(ov, list):
                result[key] = _merge_list(ov, pv, child)
            else:
                result[key] = _replace_list(pv, child)
        elif isinstance(pv, dict):
            merged = _merge_map(ov if isinstance(ov, dict) else {}, pv, child)
            if merged is _DELETE:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = pv
    for name, order in orders.items():
        current = result.get(name)
        if isinstance(current, list):
            result[name] = _order(current, order, node.child(name))
    return result


def _clean_map(patch: dict[str, Any], node: Node) -> dict[str, Any]:
    """A patch value taken as is, minus directives (what ``$patch: replace`` leaves)."""
    out = {}
    for k, v in patch.items():
        if k.startswith("$"):
            continue
        child = node.child(k)
        if isinstance(v, dict):
            merged = _merge_map({}, v, child)
            if merged is not _DELETE:
                out[k] = merged
        elif isinstance(v, list):
            out[k] = _replace_list(v, child)
        elif v is not None:
            out[k] = v
    return out


def _replace_list(items: list[Any], node: Node) -> list[Any]:
    item = node.item or Node("any")
    out = []
    for x in items:
        if isinstance(x, dict):
            if x.get("$patch") in ("replace", "delete") and len(x) == 1:
                continue
            out.append(_clean_map(x, item))
        else:
            out.append(x)
    return out


def _merge_list(orig: list[Any], patch: list[Any], node: Node) -> list[Any]:
    item = node.item or Node("any")
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return _replace_list(patch, node)
    key = node.merge_key
    if not key:
        # A set of scalars: union, in order of first appearance.
        out = list(orig)
        for v in patch:
            if isinstance(v, dict | list):
                raise PatchError("strategic merge patch: a merging list of scalars cannot hold objects or lists")
            if v not in out:
                out.append(v)
        return out
    out = list(orig)
    for pe in patch:
        if not isinstance(pe, dict):
            raise PatchError(f"strategic merge patch: element {pe!r} of a list merged by {key!r} is not an object")
        if key not in pe:
            raise PatchError(f"strategic merge patch: map: {pe!r} does not contain declared merge key: {key}")
        kv = pe[key]
        if pe.get("$patch") == "delete":
            out = [x for x in out if not (isinstance(x, dict) and x.get(key) == kv)]
            continue
        for i, x in enumerate(out):
            if isinstance(x, dict) and x.get(key) == kv:
                merged = _merge_map(x, pe, item)
                if merged is _DELETE:
                    del out[i]
                else:
                    out[i] = merged
                break
        else:
            merged = _merge_map({}, pe, item)
            if merged is not _DELETE:
                out.append(merged)
    return out


def _order(items: list[Any], order: list[Any], node: Node) -> list[Any]:
    key = node.merge_key

    def ident(x: Any) -> Any:
        return x.get(key) if key and isinstance(x, dict) else x

    wanted = [ident(o) for o in order]
    rank = {v: i for i, v in enumerate(wanted) if isinstance(v, str | int | float | bool)}
    named = sorted((x for x in items if rank.get(ident(x)) is not None), key=lambda x: rank[ident(x)])
    rest = [x for x in items if rank.get(ident(x)) is None]
    return named + rest
