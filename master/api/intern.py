"""Interned strings for objects that live long (informer caches).

A decoded object holds its own copy of every string: 1000 pods that all say
``namespace: default``, ``image: busybox:1.36``, ``imagePullPolicy: IfNotPresent``,
``effect: NoExecute`` hold 1000 copies of each, about 40 strings (2.4 KB) per pod, of which
only the name, uid, resourceVersion, timestamps and a few generated names differ from pod
to pod. ``intern_strings`` replaces them in place with ``sys.intern``'s copy, so every cached
object (and every informer of the process) shares one string per distinct value::

    pod = intern_strings(codec.decode(data, core.Pod))
    pod.metadata.namespace is other_pod.metadata.namespace   -> True

Interned strings are freed with their last user (CPython keeps no reference in its table),
so strings that are unique to an object (uids) cost nothing once it is gone.

Only for an object nobody else holds yet (just decoded): it is changed in place.
"""

from __future__ import annotations

import sys
from typing import Any, TypeVar

import msgspec

__all__ = ["intern_strings"]

T = TypeVar("T")

_intern = sys.intern


def intern_strings(obj: T) -> T:
    """``obj``, its strings (dict keys included) replaced by their interned copies."""
    if isinstance(obj, msgspec.Struct):
        _struct(obj)
    elif isinstance(obj, dict):
        _dict(obj)
    elif isinstance(obj, list):
        _list(obj)
    return obj


def _struct(obj: Any) -> None:
    for name in obj.__struct_fields__:
        v = getattr(obj, name)
        t = type(v)
        if t is str:
            if v:
                setattr(obj, name, _intern(v))
        elif t is list:
            if v:
                _list(v)
        elif t is dict:
            if v:
                _dict(v)
        elif isinstance(v, msgspec.Struct):
            _struct(v)


def _list(items: list[Any]) -> None:
    for i, v in enumerate(items):
        t = type(v)
        if t is str:
            items[i] = _intern(v)
        elif t is dict:
            _dict(v)
        elif t is list:
            _list(v)
        elif isinstance(v, msgspec.Struct):
            _struct(v)


def _dict(d: dict[Any, Any]) -> None:
    # Rebuilt rather than assigned key by key: the keys are interned too.
    items = list(d.items())
    d.clear()
    for k, v in items:
        t = type(v)
        if t is str:
            v = _intern(v)
        elif t is dict:
            _dict(v)
        elif t is list:
            _list(v)
        elif isinstance(v, msgspec.Struct):
            _struct(v)
        d[_intern(k) if type(k) is str else k] = v
