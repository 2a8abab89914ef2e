"""Reading objects that are plain JSON (dicts and lists), as the apiserver's Table printers and
``pictl describe`` see them: a path either leads to a value or gives the default, whatever
shape the object turns out to have::

    dig({"spec": {"containers": [{"name": "c"}]}}, "spec", "containers", 0, "name")   -> "c"
    dig({"spec": {"containers": []}}, "spec", "containers", 0, "name", default="")   -> ""
    dig({"spec": "oops"}, "spec", "containers")                                       -> None
"""

from __future__ import annotations

from typing import Any

__all__ = ["dig"]


def dig(obj: Any, *path: str | int, default: Any = None) -> Any:
    """The value at ``path`` (keys of dicts, indexes of lists); ``default`` where the path
    leaves the object or ends at None."""
    cur = obj
    for p in path:
        if isinstance(p, int):
            if not isinstance(cur, list) or len(cur) <= p:
                return default
            cur = cur[p]
        else:
            if not isinstance(cur, dict):
                return default
            cur = cur.get(p)
        if cur is None:
            return default
    return cur
