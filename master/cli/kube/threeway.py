"""Client-side apply: the three-way strategic merge patch, as ``kubectl apply`` computes it.

Three versions of one object take part:

- ``original``: what the user applied last time, kept by the server in the
  ``kubectl.kubernetes.io/last-applied-configuration`` annotation (None if never applied);
- ``modified``: what the user applies now (with the new annotation already set in it);
- ``current``: the live object, with everything servers and controllers filled in.

The patch changes what ``modified`` sets and ``current`` does not have (or has differently),
and deletes what ``original`` had but ``modified`` dropped; fields nobody applied (defaults,
status, replicas set by ``scale``) are left alone. Lists follow the type's patch strategy
(``master.api.patch.schema``): merging lists go element by element on their merge key with
``$setElementOrder``, ``{"$patch": "delete"}`` and ``$deleteFromPrimitiveList`` directives;
other lists are replaced whole. A worked example, a Deployment whose image changed and whose
``env`` entry ``DEBUG`` was removed from the file::

    original  containers: [{name: web, image: a, env: [{name: DEBUG, value: "1"}]}]
    modified  containers: [{name: web, image: b}]
    current   containers: [{name: web, image: a, env: [{name: DEBUG, value: "1"}],
                            imagePullPolicy: IfNotPresent}]
    patch     {"spec": {"template": {"spec": {
                  "$setElementOrder/containers": [{"name": "web"}],
                  "containers": [{"name": "web", "image": "b", "env": null}]}}}}

An empty patch (``{}``) means the object is "unchanged". ``last_applied(obj)`` makes the
annotation's value exactly as kubectl writes it (sorted compact JSON and a newline), so kubectl
and pictl read each other's annotations.
"""

from __future__ import annotations

import json
from typing import Any

from master.api.patch.schema import Node

__all__ = ["LAST_APPLIED", "last_applied", "original_of", "three_way_patch", "with_last_applied"]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

_MISSING = object()


def last_applied(obj: dict[str, Any]) -> str:
    """The annotation value for ``obj``: its JSON without the annotation itself. Like kubectl's,
    it always holds ``metadata.annotations`` (``{}`` when the object has no other)."""
    meta = dict(obj.get("metadata") or {})
    meta["annotations"] = {k: v for k, v in (meta.get("annotations") or {}).items() if k != LAST_APPLIED}
    return json.dumps({**obj, "metadata": meta}, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def with_last_applied(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``obj`` carrying its own last-applied annotation (what apply sends)."""
    meta = dict(obj.get("metadata") or {})
    meta["annotations"] = {**(meta.get("annotations") or {}), LAST_APPLIED: last_applied(obj)}
    return {**obj, "metadata": meta}


def original_of(live: dict[str, Any]) -> dict[str, Any] | None:
    """The last-applied configuration recorded on a live object, None if absent or unreadable."""
    text = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    if not text:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def three_way_patch(
    original: dict[str, Any] | None, modified: dict[str, Any], current: dict[str, Any], schema: Node
) -> dict[str, Any]:
    """The strategic merge patch that takes ``current`` to what ``modified`` asks for."""
    return _diff_map(original, modified, current, schema)


def _same(a: Any, b: Any) -> bool:
    if a == b and type(a) is type(b):
        return True
    # A number in YAML where the API keeps a string (quantities: "cpu: 1" is live "1").
    for x, y in ((a, b), (b, a)):
        if isinstance(x, int | float) and not isinstance(x, bool) and isinstance(y, str):
            return str(int(x) if float(x).is_integer() else x) == y
    return bool(a == b and not isinstance(a, bool) and not isinstance(b, bool))


def _kind(v: Any) -> str:
    return "map" if isinstance(v, dict) else "list" if isinstance(v, list) else "scalar"


def _diff_map(orig: dict[str, Any] | None, mod: dict[str, Any], cur: dict[str, Any], node: Node) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    for key, mv in mod.items():
        if key.startswith("$"):
            continue
        child = node.child(key)
        cv = cur.get(key, _MISSING)
        ov = orig.get(key, _MISSING) if orig is not None else _MISSING
        if mv is None:
            if cv is not _MISSING and cv is not None:
                patch[key] = None
            continue
        if cv is _MISSING or cv is None or _kind(mv) != _kind(cv):
            patch[key] = mv
        elif isinstance(mv, dict):
            if "replace" in child.strategy.split(","):
                if mv != cv:
                    patch[key] = mv
                continue
            sub = _diff_map(ov if isinstance(ov, dict) else None, mv, cv, child)
            if sub:
                patch[key] = sub
        elif isinstance(mv, list):
            if child.kind == "list" and child.merges:
                _diff_merging_list(key, ov if isinstance(ov, list) else None, mv, cv, child, patch)
            elif not _same_list(mv, cv):
                patch[key] = mv
        elif not _same(mv, cv):
            patch[key] = mv
    if orig is not None:
        for key, ov in orig.items():
            if key not in mod and ov is not None and cur.get(key) is not None:
                patch[key] = None
    if node.retains_keys and node.kind != "list" and (patch or _drops_keys(orig, mod)):
        patch["$retainKeys"] = sorted(k for k, v in mod.items() if v is not None and not k.startswith("$"))
    return patch


def _drops_keys(orig: dict[str, Any] | None, mod: dict[str, Any]) -> bool:
    return orig is not None and any(v is not None and k not in mod for k, v in orig.items())


def _same_list(a: list[Any], b: list[Any]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if isinstance(x, dict) or isinstance(y, dict) or isinstance(x, list) or isinstance(y, list):
            if x != y:
                return False
        elif not _same(x, y):
            return False
    return True


def _diff_merging_list(
    key: str, ol: list[Any] | None, ml: list[Any], cl: list[Any], node: Node, patch: dict[str, Any]
) -> None:
    mk = node.merge_key
    if not mk:
        _diff_scalar_set(key, ol, ml, cl, patch)
        return
    if not all(isinstance(e, dict) and mk in e for e in ml):
        # Elements without their merge key cannot merge; the server would refuse the patch.
        if not _same_list(ml, cl):
            patch[key] = ml
        return
    item = node.item or Node("any")
    current = {e[mk]: e for e in cl if isinstance(e, dict) and mk in e}
    previous = {e[mk]: e for e in ol or () if isinstance(e, dict) and mk in e}
    wanted = [e[mk] for e in ml]
    changes: list[Any] = []
    for me in ml:
        ce = current.get(me[mk])
        if ce is None:
            changes.append(me)
            continue
        oe = previous.get(me[mk])
        sub = _diff_map(oe if isinstance(oe, dict) else None, me, ce, item)
        if sub:
            changes.append({mk: me[mk], **sub})
    changes.extend({mk: k, "$patch": "delete"} for k in previous if k not in wanted and k in current)
    live_order = [k for k in (e.get(mk) for e in cl if isinstance(e, dict)) if k in wanted]
    if changes:
        patch[key] = changes
    if changes or live_order != [k for k in wanted if k in current]:
        patch[f"$setElementOrder/{key}"] = [{mk: k} for k in wanted]


def _diff_scalar_set(key: str, ol: list[Any] | None, ml: list[Any], cl: list[Any], patch: dict[str, Any]) -> None:
    added = [v for v in ml if v not in cl]
    removed = [v for v in ol or () if v not in ml and v in cl]
    if added:
        patch[key] = added
    if removed:
        patch[f"$deleteFromPrimitiveList/{key}"] = removed
    live_order = [v for v in cl if v in ml]
    if added or removed or live_order != [v for v in ml if v in cl]:
        patch[f"$setElementOrder/{key}"] = list(ml)
