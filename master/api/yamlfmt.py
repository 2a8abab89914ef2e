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

__all__ = ["Loader", "load"]

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
