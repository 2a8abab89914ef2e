"""The informer's local cache: objects by key, with secondary indexes.

Keys are client-go's: ``"<namespace>/<name>"`` for namespaced objects, ``"<name>"`` for
cluster-scoped ones (``meta_namespace_key``, ``split_key``).

Indexes map an index value to the keys of the objects that produce it; an ``IndexFunc``
returns the values of one object (zero, one or several)::

    cache = Cache({"node": lambda pod: [pod.spec.node_name] if pod.spec.node_name else []})
    cache.by_index("node", "pi-1")   -> the pods bound to pi-1
    cache.by_index(NAMESPACE_INDEX, "default")

Objects in the cache are shared with every reader and must never be mutated: build a new one
(``master.api.codec.clone``, ``msgspec.structs.replace``) and write it through the API. The
cache itself only replaces whole objects, so a reader's reference stays a consistent snapshot.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from typing import Generic, TypeVar

from master.api import helpers as api_helpers
from master.api import meta

__all__ = ["NAMESPACE_INDEX", "Cache", "IndexFunc", "meta_namespace_key", "split_key"]

T = TypeVar("T", bound=meta.Object)

IndexFunc = Callable[[T], Iterable[str]]
NAMESPACE_INDEX = "namespace"


# client-go's names (MetaNamespaceKeyFunc, SplitMetaNamespaceKey) for the API's own key functions:
# "ns/name", or "name" for cluster-scoped objects, and back.
meta_namespace_key = api_helpers.meta_key
split_key = api_helpers.split_meta_key


def _namespace(obj: meta.Object) -> list[str]:
    return [obj.metadata.namespace]


class Cache(Generic[T]):
    def __init__(self, indexers: Mapping[str, IndexFunc[T]] | None = None) -> None:
        self._items: dict[str, T] = {}
        self._indexers: dict[str, IndexFunc[T]] = {NAMESPACE_INDEX: _namespace}
        self._indices: dict[str, dict[str, set[str]]] = {NAMESPACE_INDEX: {}}
        if indexers:
            self.add_indexers(indexers)

    def add_indexers(self, indexers: Mapping[str, IndexFunc[T]]) -> None:
        """Add indexes (also after objects are cached: they are indexed now)."""
        for name, fn in indexers.items():
            if name in self._indexers:
                raise ValueError(f"indexer {name!r} already exists")
            self._indexers[name] = fn
            index: dict[str, set[str]] = {}
            self._indices[name] = index
            for key, obj in self._items.items():
                for value in fn(obj):
                    index.setdefault(value, set()).add(key)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def get(self, key: str) -> T | None:
        return self._items.get(key)

    def get_by_name(self, name: str, namespace: str = "") -> T | None:
        return self._items.get(f"{namespace}/{name}" if namespace else name)

    def list_keys(self) -> builtins.list[str]:
        return list(self._items)

    def list(self) -> builtins.list[T]:
        return list(self._items.values())

    def by_index(self, index: str, value: str) -> builtins.list[T]:
        return [self._items[k] for k in self.index_keys(index, value)]

    def index_keys(self, index: str, value: str) -> builtins.list[str]:
        try:
            idx = self._indices[index]
        except KeyError:
            raise KeyError(f"no index named {index!r}") from None
        return sorted(idx.get(value, ()))

    def index_values(self, index: str) -> builtins.list[str]:
        return list(self._indices[index])

    # The informer's writes.

    def put(self, key: str, obj: T) -> T | None:
        """Store ``obj`` under ``key``; the previous object, if any."""
        old = self._items.get(key)
        self._items[key] = obj
        if old is not None:
            self._unindex(key, old)
        self._index(key, obj)
        return old

    def delete(self, key: str) -> T | None:
        old = self._items.pop(key, None)
        if old is not None:
            self._unindex(key, old)
        return old

    def _index(self, key: str, obj: T) -> None:
        for name, fn in self._indexers.items():
            index = self._indices[name]
            for value in fn(obj):
                index.setdefault(value, set()).add(key)

    def _unindex(self, key: str, obj: T) -> None:
        for name, fn in self._indexers.items():
            index = self._indices[name]
            for value in fn(obj):
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]
