"""Per-resource allocation scores, as kube-scheduler computes them (integer arithmetic)::

    least_requested(requested=1500, capacity=4000) = (4000 - 1500) * 100 // 4000 = 62
    most_requested(1500, 4000)                     = 1500 * 100 // 4000           = 37

``requested`` already includes the incoming pod. ``Scorer`` combines several resources by
weight, ignoring resources the node does not have (capacity 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import msgspec

from master.scheduler.framework.interface import MAX_NODE_SCORE
from master.scheduler.framework.types import NodeInfo, PodInfo

__all__ = [
    "DEFAULT_RESOURCES",
    "ResourceSpec",
    "balanced_score",
    "least_requested",
    "most_requested",
    "node_requested",
    "pod_request",
    "weighted",
]


class ResourceSpec(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    name: str
    weight: int = 1


DEFAULT_RESOURCES = (ResourceSpec(name="cpu", weight=1), ResourceSpec(name="memory", weight=1))


def least_requested(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def most_requested(requested: int, capacity: int) -> int:
    if capacity == 0:
        return 0
    return min(requested, capacity) * MAX_NODE_SCORE // capacity


def pod_request(pod: PodInfo, name: str, *, non_zero: bool) -> int:
    if non_zero and name == "cpu":
        return pod.non_zero_cpu
    if non_zero and name == "memory":
        return pod.non_zero_memory
    return pod.requests.get(name)


def node_requested(node: NodeInfo, name: str, *, non_zero: bool) -> int:
    if non_zero and name == "cpu":
        return node.non_zero_cpu
    if non_zero and name == "memory":
        return node.non_zero_memory
    return node.requested.get(name)


def weighted(
    per_resource: Callable[[int, int], int],
    resources: Sequence[ResourceSpec],
    requested: Sequence[int],
    allocatable: Sequence[int],
) -> int:
    total = weights = 0
    for spec, req, alloc in zip(resources, requested, allocatable, strict=True):
        if alloc == 0:
            continue
        total += per_resource(req, alloc) * spec.weight
        weights += spec.weight
    return total // weights if weights else 0


def balanced_score(requested: Sequence[int], allocatable: Sequence[int]) -> int:
    """100 * (1 - the standard deviation of the requested fractions), fractions capped at 1."""
    fractions = [min(req / alloc, 1.0) for req, alloc in zip(requested, allocatable, strict=True) if alloc]
    if len(fractions) == 2:
        std = abs(fractions[0] - fractions[1]) / 2
    elif len(fractions) > 2:
        mean = sum(fractions) / len(fractions)
        std = math.sqrt(sum((f - mean) ** 2 for f in fractions) / len(fractions))
    else:
        std = 0.0
    return int((1 - std) * MAX_NODE_SCORE)
