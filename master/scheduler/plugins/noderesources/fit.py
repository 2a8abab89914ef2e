"""NodeResourcesFit: the pod's requests must fit in what the node has left (allocatable minus
the requests of the pods already there, assumed ones included), and the node must have room
for one more pod. Reasons: "Too many pods", "Insufficient cpu", "Insufficient memory",
"Insufficient ephemeral-storage", "Insufficient <extended resource>".

Score: the scoring strategy over weighted resources (default LeastAllocated, cpu and memory
weight 1), using "non-zero" cpu/memory requests so best-effort pods spread too.

Args::

    ignoredResources: [example.com/foo]        extended resources not checked
    ignoredResourceGroups: [example.com]       ... by prefix before "/"
    scoringStrategy:
      type: LeastAllocated                     or MostAllocated
      resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from master.scheduler.framework import status
from master.scheduler.framework.interface import MAX_NODE_SCORE, ActionType, ClusterEvent, CycleState, Handle
from master.scheduler.framework.registry import PluginArgsError, parse_args
from master.scheduler.framework.status import Status
from master.scheduler.framework.types import NodeInfo, PodInfo
from master.scheduler.plugins.noderesources.allocation import (
    DEFAULT_RESOURCES,
    ResourceSpec,
    least_requested,
    most_requested,
    node_requested,
    pod_request,
    weighted,
)

__all__ = ["NAME", "Fit", "FitArgs", "ScoringStrategy", "new"]

NAME = "NodeResourcesFit"
TOO_MANY_PODS = "Too many pods"
LEAST_ALLOCATED = "LeastAllocated"
MOST_ALLOCATED = "MostAllocated"
_SCORE_KEY = f"PreScore{NAME}"


class ScoringStrategy(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    type: str = LEAST_ALLOCATED
    resources: list[ResourceSpec] = msgspec.field(default_factory=lambda: list(DEFAULT_RESOURCES))


class FitArgs(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    ignored_resources: list[str] = []
    ignored_resource_groups: list[str] = []
    scoring_strategy: ScoringStrategy = msgspec.field(default_factory=ScoringStrategy)


def insufficient(resource: str) -> str:
    return f"Insufficient {resource}"


class Fit:
    name = NAME

    def __init__(self, args: FitArgs) -> None:
        strategy = args.scoring_strategy
        if strategy.type not in (LEAST_ALLOCATED, MOST_ALLOCATED):
            raise PluginArgsError(
                f"{NAME} args: scoringStrategy.type: unsupported value {strategy.type!r} "
                f"(want {LEAST_ALLOCATED} or {MOST_ALLOCATED})"
            )
        if not strategy.resources:
            raise PluginArgsError(f"{NAME} args: scoringStrategy.resources: at least one resource is needed")
        for i, r in enumerate(strategy.resources):
            if not 1 <= r.weight <= 100:
                raise PluginArgsError(
                    f"{NAME} args: scoringStrategy.resources[{i}].weight: {r.weight} is not in 1..100"
                )
        self._ignored = frozenset(args.ignored_resources)
        self._ignored_groups = frozenset(args.ignored_resource_groups)
        self._resources = tuple(strategy.resources)
        self._per_resource = least_requested if strategy.type == LEAST_ALLOCATED else most_requested
        self._cpu_mem = tuple((r.name, r.weight) for r in self._resources) == (("cpu", 1), ("memory", 1))

    def events_to_register(self) -> Sequence[ClusterEvent]:
        return [
            ClusterEvent("Pod", ActionType.DELETE),
            ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_ALLOCATABLE),
        ]

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        req = pod.requests
        alloc, used = node.allocatable, node.requested
        # The common outcome, it fits, decided without a list of reasons (this runs per node).
        if (len(node.pods) < node.allowed_pods and req.milli_cpu <= alloc.milli_cpu - used.milli_cpu
                and req.memory <= alloc.memory - used.memory and not req.ephemeral_storage and not req.scalar):
            return None
        reasons: list[str] = []
        if len(node.pods) + 1 > node.allowed_pods:
            reasons.append(TOO_MANY_PODS)
        if req.milli_cpu or req.memory or req.ephemeral_storage or req.scalar:
            if req.milli_cpu and req.milli_cpu > alloc.milli_cpu - used.milli_cpu:
                reasons.append(insufficient("cpu"))
            if req.memory and req.memory > alloc.memory - used.memory:
                reasons.append(insufficient("memory"))
            if req.ephemeral_storage and req.ephemeral_storage > alloc.ephemeral_storage - used.ephemeral_storage:
                reasons.append(insufficient("ephemeral-storage"))
            for name, amount in req.scalar.items():
                if not amount or self._is_ignored(name):
                    continue
                if amount > alloc.scalar.get(name, 0) - used.scalar.get(name, 0):
                    reasons.append(insufficient(name))
        return status.unschedulable(*reasons) if reasons else None

    def _is_ignored(self, name: str) -> bool:
        if name in self._ignored:
            return True
        group, sep, _ = name.partition("/")
        return bool(sep) and group in self._ignored_groups

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        state.write(_SCORE_KEY, [pod_request(pod, r.name, non_zero=True) for r in self._resources])
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        pod_req: list[int] = state.read(_SCORE_KEY)
        if self._cpu_mem:
            # The default strategy, without the generic loop: this runs for every feasible node.
            alloc = node.allocatable
            per = self._per_resource
            cpu_cap, mem_cap = alloc.milli_cpu, alloc.memory
            if cpu_cap and mem_cap:
                return (per(node.non_zero_cpu + pod_req[0], cpu_cap) + per(node.non_zero_memory + pod_req[1], mem_cap)) // 2
        requested = [node_requested(node, r.name, non_zero=True) + p for r, p in zip(self._resources, pod_req, strict=True)]
        allocatable = [node.allocatable.get(r.name) for r in self._resources]
        return weighted(self._per_resource, self._resources, requested, allocatable)

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        """``score`` of every node; the default strategy (LeastAllocated of cpu and memory) inline."""
        if not (self._cpu_mem and self._per_resource is least_requested):
            return [self.score(state, pod, n) for n in nodes]
        cpu_req, mem_req = state.read(_SCORE_KEY)
        out: list[int] = []
        for node in nodes:
            alloc = node.allocatable
            cpu_cap, mem_cap = alloc.milli_cpu, alloc.memory
            if not (cpu_cap and mem_cap):
                out.append(self.score(state, pod, node))
                continue
            cpu, mem = node.non_zero_cpu + cpu_req, node.non_zero_memory + mem_req
            cpu_score = 0 if cpu > cpu_cap else (cpu_cap - cpu) * MAX_NODE_SCORE // cpu_cap
            mem_score = 0 if mem > mem_cap else (mem_cap - mem) * MAX_NODE_SCORE // mem_cap
            out.append((cpu_score + mem_score) // 2)
        return out


def new(args: Mapping[str, Any], handle: Handle) -> Fit:
    return Fit(parse_args(NAME, args, FitArgs))
