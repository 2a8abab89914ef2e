"""Kubernetes schema facts carried on Struct field annotations.

Go's API types say how a field patches with struct tags (``patchStrategy:"merge"
patchMergeKey:"name"``) and what a string means with its Go type (``resource.Quantity``).
Our Structs say the same with ``Annotated`` metadata, so one type declaration is the single
source for the JSON shape, the strategic-merge-patch schema (``master.api.patch.schema``) and
the lenient decoding of quantities written as numbers (``master.api.codec``)::

    containers: Annotated[list[Container], merge_by("name")]
    finalizers: Annotated[list[str], MERGE]          # a set-like list of scalars
    strategy: Annotated[DeploymentStrategy, RETAIN_KEYS]
    limits: dict[str, QuantityStr]
    replicas: Int32 | None                           # Go's int32: 2**31 is a decode error

Integers carry their Go width: Go's decoder refuses a number that does not fit (a 400), so a
client cannot store ``replicas: 1e20`` that every reader then chokes on.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = [
    "MERGE",
    "QUANTITY_FORMAT",
    "RETAIN_KEYS",
    "RFC3339",
    "Int32",
    "Int64",
    "IntOrString",
    "MicroTime",
    "QuantityStr",
    "ResourceList",
    "Time",
    "merge_by",
]

QUANTITY_FORMAT = "quantity"

# A resource quantity ("100m", "1.5Gi"). JSON numbers are accepted on decode and become strings.
QuantityStr = Annotated[str, msgspec.Meta(extra={"format": QUANTITY_FORMAT})]
ResourceList = dict[str, QuantityStr]
# Go's int32 and int64 (msgspec's int is unbounded).
Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
IntOrString = Int32 | str
# metav1.Time ("2026-11-27T04:34:00Z") and metav1.MicroTime ("2026-11-27T04:34:00.123456Z"):
# RFC 3339 strings, None when unset. See master.api.timefmt. Anything else is a decode error, as
# in Go: a stored "lastUpdateTime: garbage" made the object unreadable to client-go and the
# Python client.
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"
Time = Annotated[str, msgspec.Meta(pattern=RFC3339)]
MicroTime = Time

# A list of scalars merged as a set (e.g. finalizers, podCIDRs).
MERGE = msgspec.Meta(extra={"patchStrategy": "merge"})
# A struct whose keys not named in a patch's $retainKeys are cleared (e.g. Deployment strategy).
RETAIN_KEYS = msgspec.Meta(extra={"patchStrategy": "retainKeys"})


def merge_by(key: str, *, retain_keys: bool = False) -> msgspec.Meta:
    """A list of objects merged element-wise by ``key`` (e.g. containers by "name")."""
    strategy = "merge,retainKeys" if retain_keys else "merge"
    return msgspec.Meta(extra={"patchStrategy": strategy, "patchMergeKey": key})
