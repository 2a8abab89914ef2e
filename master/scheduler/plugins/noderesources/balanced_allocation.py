"""NodeResourcesBalancedAllocation: prefer nodes where, with the pod, the used fractions of the
resources (default cpu and memory) are close to each other::

    cpu 50%, memory 50%  -> 100          cpu 80%, memory 20%  -> 100 * (1 - 0.3) = 70

It uses the pods' actual requests, and skips best-effort pods (no requests: nothing to balance).

Args: ``resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}]`` (weights are ignored,
as upstream does for this plugin).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from master.scheduler.framework import status
from master.scheduler.framework.interface import CycleState, Handle
from master.scheduler.framework.registry import PluginArgsError, parse_args
from master.scheduler.framework.status import Status
from master.scheduler.framework.types import NodeInfo, PodInfo
from master.scheduler.plugins.noderesources.allocation import (
    DEFAULT_RESOURCES,
    ResourceSpec,
    balanced_score,
    node_requested,
    pod_request,
)

__all__ = ["NAME", "BalancedAllocation", "BalancedAllocationArgs", "new"]

NAME = "NodeResourcesBalancedAllocation"
_SCORE_KEY = f"PreScore{NAME}"


class BalancedAllocationArgs(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    resources: list[ResourceSpec] = msgspec.field(default_factory=lambda: list(DEFAULT_RESOURCES))


class BalancedAllocation:
    name = NAME

    def __init__(self, args: BalancedAllocationArgs) -> None:
        if not args.resources:
            raise PluginArgsError(f"{NAME} args: resources: at least one resource is needed")
        self._names = tuple(r.name for r in args.resources)
        self._cpu_mem = self._names == ("cpu", "memory")

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        requests = [pod_request(pod, n, non_zero=False) for n in self._names]
        if not any(requests):
            return status.SKIP
        state.write(_SCORE_KEY, requests)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        pod_req: list[int] = state.read(_SCORE_KEY)
        if self._cpu_mem:
            alloc, used = node.allocatable, node.requested
            if alloc.milli_cpu and alloc.memory:
                f_cpu = min((used.milli_cpu + pod_req[0]) / alloc.milli_cpu, 1.0)
                f_mem = min((used.memory + pod_req[1]) / alloc.memory, 1.0)
                return int((1 - abs(f_cpu - f_mem) / 2) * 100)
        requested = [node_requested(node, n, non_zero=False) + p for n, p in zip(self._names, pod_req, strict=True)]
        allocatable = [node.allocatable.get(n) for n in self._names]
        return balanced_score(requested, allocatable)

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        """``score`` of every node; cpu and memory (the default) inline."""
        if not self._cpu_mem:
            return [self.score(state, pod, n) for n in nodes]
        cpu_req, mem_req = state.read(_SCORE_KEY)
        out: list[int] = []
        for node in nodes:
            alloc, used = node.allocatable, node.requested
            cpu_cap, mem_cap = alloc.milli_cpu, alloc.memory
            if not (cpu_cap and mem_cap):
                out.append(self.score(state, pod, node))
                continue
            # min(x, 1.0) without the call: it showed per node.
            f_cpu = (used.milli_cpu + cpu_req) / cpu_cap
            f_cpu = f_cpu if f_cpu < 1.0 else 1.0
            f_mem = (used.memory + mem_req) / mem_cap
            f_mem = f_mem if f_mem < 1.0 else 1.0
            out.append(int((1 - abs(f_cpu - f_mem) / 2) * 100))
        return out


def new(args: Mapping[str, Any], handle: Handle) -> BalancedAllocation:
    return BalancedAllocation(parse_args(NAME, args, BalancedAllocationArgs))
