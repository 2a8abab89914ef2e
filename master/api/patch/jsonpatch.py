"""JSON patch (RFC 6902): add, remove, replace, move, copy, test, with JSON pointers (RFC 6901).

Operations apply in order to a copy of the document; the first one that does not apply stops
the patch with a ``PatchError`` naming the operation and path::

    jsonpatch replace operation does not apply: doc is missing path: "/spec/foo"
"""

from __future__ import annotations

import copy
from typing import Any

from master.api.patch.errors import PatchError

__all__ = ["apply_json_patch"]

_OPS = ("add", "remove", "replace", "move", "copy", "test")


def _parse_pointer(pointer: Any) -> list[str]:
    if not isinstance(pointer, str):
        raise PatchError(f"jsonpatch: path must be a string, got {pointer!r}")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f'jsonpatch: invalid JSON pointer "{pointer}": must start with "/"')
    return [tok.replace("~1", "/").replace("~0", "~") for tok in pointer[1:].split("/")]


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _index(token: str, length: int, *, allow_end: bool) -> int | None:
    if token == "-" and allow_end:
        return length
    if not token.isdigit() or len(token) > 18 or (len(token) > 1 and token.startswith("0")):
        return None
    i = int(token)
    limit = length if allow_end else length - 1
    return i if i <= limit else None


class _Doc:
    def __init__(self, doc: Any) -> None:
        self.root = doc

    def _parent(self, tokens: list[str], op: str, path: str) -> Any:
        node = self.root
        for tok in tokens[:-1]:
            if isinstance(node, dict) and tok in node:
                node = node[tok]
            elif isinstance(node, list) and (i := _index(tok, len(node), allow_end=False)) is not None:
                node = node[i]
            else:
                raise PatchError(f'jsonpatch {op} operation does not apply: doc is missing path: "{path}"', code=422)
        return node

    def get(self, path: str, op: str) -> Any:
        tokens = _parse_pointer(path)
        if not tokens:
            return self.root
        parent = self._parent(tokens, op, path)
        last = tokens[-1]
        if isinstance(parent, dict) and last in parent:
            return parent[last]
        if isinstance(parent, list) and (i := _index(last, len(parent), allow_end=False)) is not None:
            return parent[i]
        raise PatchError(f'jsonpatch {op} operation does not apply: doc is missing path: "{path}"', code=422)

    def add(self, path: str, value: Any, op: str = "add") -> None:
        tokens = _parse_pointer(path)
        if not tokens:
            self.root = value
            return
        parent = self._parent(tokens, op, path)
        last = tokens[-1]
        if isinstance(parent, dict):
            parent[last] = value
        elif isinstance(parent, list):
            i = _index(last, len(parent), allow_end=True)
            if i is None:
                raise PatchError(f'jsonpatch {op} operation does not apply: index out of range: "{path}"', code=422)
            parent.insert(i, value)
        else:
            raise PatchError(f'jsonpatch {op} operation does not apply: doc is missing path: "{path}"', code=422)

    def remove(self, path: str, op: str = "remove") -> Any:
        tokens = _parse_pointer(path)
        if not tokens:
            raise PatchError(f"jsonpatch {op} operation does not apply: cannot remove the document root", code=422)
        parent = self._parent(tokens, op, path)
        last = tokens[-1]
        if isinstance(parent, dict) and last in parent:
            return parent.pop(last)
        if isinstance(parent, list) and (i := _index(last, len(parent), allow_end=False)) is not None:
            return parent.pop(i)
        raise PatchError(f'jsonpatch {op} operation does not apply: doc is missing path: "{path}"', code=422)

    def replace(self, path: str, value: Any) -> None:
        tokens = _parse_pointer(path)
        if not tokens:
            self.root = value
            return
        parent = self._parent(tokens, "replace", path)
        last = tokens[-1]
        if isinstance(parent, dict) and last in parent:
            parent[last] = value
        elif isinstance(parent, list) and (i := _index(last, len(parent), allow_end=False)) is not None:
            parent[i] = value
        else:
            raise PatchError(f'jsonpatch replace operation does not apply: doc is missing key: "{path}"', code=422)


def _field(op: dict[str, Any], name: str, kind: str) -> Any:
    if name not in op:
        raise PatchError(f'jsonpatch: operation "{kind}" is missing "{name}"')
    return op[name]


def apply_json_patch(doc: Any, patch: Any) -> Any:
    """The patched copy of ``doc``; ``patch`` is the decoded JSON array of operations."""
    if not isinstance(patch, list):
        raise PatchError("jsonpatch: the patch must be a JSON array of operations")
    d = _Doc(copy.deepcopy(doc))
    for n, op in enumerate(patch):
        if not isinstance(op, dict):
            raise PatchError(f"jsonpatch: operation {n} is not an object")
        kind = op.get("op")
        if kind not in _OPS:
            raise PatchError(f'jsonpatch: unknown operation "{kind}" (operation {n}); supported: {", ".join(_OPS)}')
        path = _field(op, "path", kind)
        if kind == "add":
            d.add(path, copy.deepcopy(_field(op, "value", kind)))
        elif kind == "remove":
            d.remove(path)
        elif kind == "replace":
            d.replace(path, copy.deepcopy(_field(op, "value", kind)))
        elif kind == "move":
            src = _field(op, "from", kind)
            if isinstance(src, str) and (path == src or path.startswith(src + "/")):
                if path != src:
                    raise PatchError(f'jsonpatch move operation does not apply: "{src}" is a prefix of "{path}"', code=422)
                continue
            d.add(path, d.remove(src, "move"), "move")
        elif kind == "copy":
            d.add(path, copy.deepcopy(d.get(_field(op, "from", kind), "copy")), "copy")
        else:
            want = _field(op, "value", kind)
            have = d.get(path, "test")
            if not _json_equal(have, want):
                raise PatchError(f'jsonpatch test operation does not apply: value at "{path}" is not the one given', code=422)
    return d.root
