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

``intern_object`` goes one step further for whole objects: the informers of one process (the
controller-manager's and the scheduler's in ``pictl master``) each decode the same pod
version, and keep the first copy instead of a second::

    a = intern_object(codec.decode(data, core.Pod))    # strings interned, remembered
    b = intern_object(codec.decode(data, core.Pod))    # the same version, equal: a itself
    b is a   -> True

A copy is kept only while something holds it (a weak reference by type, uid and
resourceVersion), and only an equal object is ever replaced by it. Its empty lists and maps
(a pod has about 20: annotations, finalizers, env, command, conditions ...) are one shared
empty list and one shared empty dict, of the plain types, so it encodes and compares as before.

Both are for an object nobody else holds yet (just decoded): it is changed in place. What
they return is shared, like everything in an informer's cache: never mutate it.
"""

from __future__ import annotations

import sys
import weakref
from typing import Any, TypeVar

import msgspec

from master.api import meta

__all__ = ["intern_object", "intern_strings"]

T = TypeVar("T")
ObjT = TypeVar("ObjT", bound=meta.Object)

_intern = sys.intern
# Shared by the empty list and map fields of every interned object. Mutating one would change
# them all; objects out of an informer are never mutated (build a new one, STYLE.md rule 6).
_EMPTY_LIST: list[Any] = []
_EMPTY_DICT: dict[Any, Any] = {}
# Field values with nothing to intern (most of a struct's fields: unset, numbers, flags).
_SCALARS = frozenset({type(None), int, bool, float})
# (type, uid, resourceVersion) -> the live copy of that object version.
_objects: weakref.WeakValueDictionary[tuple[type, str, str], Any] = weakref.WeakValueDictionary()


def intern_object(obj: ObjT) -> ObjT:
    """The live copy of ``obj``'s version when one is equal to it, else ``obj`` with its strings
    interned (and remembered as that version's copy)."""
    m = obj.metadata
    if not (m.uid and m.resource_version):
        return intern_strings(obj)
    key = (type(obj), m.uid, m.resource_version)
    kept = _objects.get(key)
    if kept is not None and kept == obj:
        return kept
    _struct(obj, share_empty=True)
    try:
        _objects[(type(obj), m.uid, m.resource_version)] = obj  # the key's strings: now interned
    except TypeError:  # a type without weak references: its strings are shared all the same
        pass
    return obj


def intern_strings(obj: T) -> T:
    """``obj``, its strings (dict keys included) replaced by their interned copies."""
    if isinstance(obj, msgspec.Struct):
        _struct(obj)
    elif isinstance(obj, dict):
        _dict(obj)
    elif isinstance(obj, list):
        _list(obj)
    return obj


def _struct(obj: Any, share_empty: bool = False) -> None:
    for name in obj.__struct_fields__:
        v = getattr(obj, name)
        t = type(v)
        if t in _SCALARS:
            continue
        if t is str:
            if v:
                setattr(obj, name, _intern(v))
        elif t is list:
            if v:
                _list(v, share_empty)
            elif share_empty:
                setattr(obj, name, _EMPTY_LIST)
        elif t is dict:
            if v:
                _dict(v, share_empty)
            elif share_empty:
                setattr(obj, name, _EMPTY_DICT)
        elif isinstance(v, msgspec.Struct):
            _struct(v, share_empty)


def _list(items: list[Any], share_empty: bool = False) -> None:
    for i, v in enumerate(items):
        t = type(v)
        if t is str:
            items[i] = _intern(v)
        elif t is dict:
            _dict(v, share_empty)
        elif t is list:
            _list(v, share_empty)
        elif isinstance(v, msgspec.Struct):
            _struct(v, share_empty)


def _dict(d: dict[Any, Any], share_empty: bool = False) -> None:
    # Rebuilt rather than assigned key by key: the keys are interned too.
    items = list(d.items())
    d.clear()
    for k, v in items:
        t = type(v)
        if t is str:
            v = _intern(v)
        elif t is dict:
            _dict(v, share_empty)
        elif t is list:
            _list(v, share_empty)
        elif isinstance(v, msgspec.Struct):
            _struct(v, share_empty)
        d[_intern(k) if type(k) is str else k] = v
