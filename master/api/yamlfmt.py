"""YAML as Kubernetes reads it (sigs.k8s.io/yaml turns YAML into JSON before decoding):

- the safe loader: no Python objects;
- timestamps stay strings: ``when: 2024-01-01`` is the string "2024-01-01" (JSON has no dates;
  PyYAML's date made ``labels: {d: 2024-01-01}`` a 400 on the apiserver);
- a value that cannot be what its explicit tag says (``!!int abc``, ``!!bool maybe``,
  ``!!timestamp soon``) is a ``yaml.constructor.ConstructorError`` with its line, as every other
  YAML error is, not the ValueError, KeyError or AttributeError PyYAML's constructors raise::

    >>> load("a: !!int abc")
    Traceback (most recent call last):
    yaml.constructor.ConstructorError: 'abc' is not a valid YAML int
      in "<unicode string>", line 1, column 4

``Loader`` is for ``yaml.load`` and for composing documents one by one; ``load`` reads one.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError

__all__ = ["MAX_DEPTH", "MAX_VALUES", "Loader", "ShapeError", "check_shape", "load"]

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# How deep a document may nest (a Pod with affinity terms is about 10 deep).
MAX_DEPTH = 100
# How many values a document may hold once its aliases are expanded (a body at the apiserver's
# size limit holds well under a million; nine levels of nine aliases are 9**9 in 500 bytes).
MAX_VALUES = 1_000_000


class Loader(_Base):
    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, KeyError, AttributeError, TypeError):
            kind = str(node.tag).rsplit(":", 1)[-1]
            what = repr(node.value) if isinstance(node, yaml.ScalarNode) else "this value"
            raise ConstructorError(None, None, f"{what} is not a valid YAML {kind}", node.start_mark) from None


Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}


def load(text: str | bytes) -> Any:
    """One YAML document. Raises ``yaml.YAMLError``."""
    return yaml.load(text, Loader=Loader)


class ShapeError(ValueError):
    """A document too deep, too large once expanded, or containing itself. ``kind`` is "depth",
    "size" or "cycle"; ``path`` is where the cycle closes ("x.b", "items[0]"), else ""."""

    def __init__(self, kind: str, path: str = "") -> None:
        super().__init__(kind, path)
        self.kind = kind
        self.path = path


def _children(node: Any, path: str) -> list[tuple[Any, str]]:
    if type(node) is dict:
        return [(v, f"{path}.{k}" if path else str(k)) for k, v in node.items() if type(v) in (dict, list)]
    return [(v, f"{path}[{i}]") for i, v in enumerate(node) if type(v) in (dict, list)]


def check_shape(doc: Any) -> None:
    """ShapeError for a loaded document nested more than ``MAX_DEPTH`` levels, holding more than
    ``MAX_VALUES`` values once its aliases are expanded, or with an alias inside its own anchor
    (a cycle). Aliases share nodes, so each distinct node is measured once, its height and
    expanded size from its children's: a walk or a copy of the expanded document is what hangs."""
    height: dict[int, int] = {}
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool, str]] = [(doc, False, "")] if type(doc) in (dict, list) else []
    while stack:
        node, children_done, path = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            kids = [k for k, _ in _children(node, path)]
            height[key] = 1 + max((height[id(k)] for k in kids), default=0)
            size[key] = 1 + len(node) - len(kids) + sum(size[id(k)] for k in kids)
            if height[key] > MAX_DEPTH:
                raise ShapeError("depth")
            if size[key] > MAX_VALUES:
                raise ShapeError("size")
            continue
        if key in height:
            continue
        if key in on_path:
            raise ShapeError("cycle", path)
        on_path.add(key)
        stack.append((node, True, path))
        stack.extend((k, False, p) for k, p in _children(node, path) if id(k) not in height)
