"""The extension points: one Protocol each. A plugin implements only the hooks it needs.

One scheduling cycle for one pod, in order (``runtime.Framework`` drives it)::

    PreFilter   once per pod: precompute into CycleState, reject early, or SKIP its Filter
    Filter      per node: may this pod run here? (None = yes, a Status with reasons = no)
    PostFilter  only when no node passed Filter (e.g. preemption): may nominate a node
    PreScore    once, over the feasible nodes: precompute, or SKIP its Score
    Score       per feasible node: 0..100 (MAX_NODE_SCORE)
    NormalizeScore  once over all the plugin's scores (the "score extensions"), in place
    Reserve     the pod is assumed on the chosen node; Unreserve rolls back on a later failure
    Bind        asynchronously, outside the cycle: the first binder that does not SKIP binds

Filter, PreScore, Score and Reserve are plain (synchronous) functions: a cycle never yields to
the event loop between PreFilter and Reserve, so every plugin sees the same cache state
without copying it. PostFilter and Bind are coroutines (they talk to the apiserver).

``events_to_register`` (the "enqueue extension") names the cluster events that can make a
pod this plugin rejected schedulable again; the queue moves a rejected pod back only on
those, so node heartbeats do not churn thousands of unschedulable pods.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from master.scheduler.framework.status import Status
from master.scheduler.framework.types import NodeInfo, PodInfo

__all__ = [
    "MAX_NODE_SCORE",
    "ActionType",
    "BindPlugin",
    "ClusterEvent",
    "CycleState",
    "EnqueueExtension",
    "FilterPlugin",
    "Handle",
    "NormalizeScorePlugin",
    "Plugin",
    "PostFilterPlugin",
    "PostFilterResult",
    "PreFilterPlugin",
    "PreScorePlugin",
    "ReservePlugin",
    "ScorePlugin",
]

MAX_NODE_SCORE = 100


class ActionType(enum.IntFlag):
    ADD = 1
    DELETE = 2
    UPDATE_NODE_ALLOCATABLE = 4
    UPDATE_NODE_LABEL = 8
    UPDATE_NODE_TAINT = 16
    UPDATE_NODE_CONDITION = 32
    UPDATE_POD_LABEL = 64
    UPDATE = UPDATE_NODE_ALLOCATABLE | UPDATE_NODE_LABEL | UPDATE_NODE_TAINT | UPDATE_NODE_CONDITION | UPDATE_POD_LABEL
    ALL = ADD | DELETE | UPDATE


@dataclass(frozen=True, slots=True)
class ClusterEvent:
    """``resource`` is "Node" or "Pod" (an assigned pod); ``action`` one or more ActionType bits."""

    resource: str
    action: ActionType
    label: str = ""

    def matches(self, other: ClusterEvent) -> bool:
        return self.resource == other.resource and bool(self.action & other.action)


class CycleState:
    """Per-cycle scratch space plugins share with themselves (PreFilter -> Filter, PreScore -> Score)."""

    __slots__ = ("_data", "skip_filter", "skip_score")

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self.skip_filter: set[str] = set()
        self.skip_score: set[str] = set()

    def write(self, key: str, value: Any) -> None:
        self._data[key] = value

    def read(self, key: str) -> Any:
        """The value written under ``key``; KeyError if PreFilter/PreScore did not write it."""
        return self._data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)


class Handle(Protocol):
    """What plugins may use besides their arguments: the cache's view of the cluster, the API."""

    def node_infos(self) -> Sequence[NodeInfo]:
        """Every schedulable-candidate node (with a Node object), in the cache's order."""
        ...

    def node_info(self, name: str) -> NodeInfo | None: ...

    def image_node_count(self, image: str) -> int:
        """How many nodes report ``image`` (a normalized name) in status.images."""
        ...

    @property
    def api(self) -> Any:
        """The ``master.client.rest.ApiClient`` (None in unit tests that bind nothing)."""
        ...


@runtime_checkable
class Plugin(Protocol):
    name: str


@runtime_checkable
class EnqueueExtension(Protocol):
    def events_to_register(self) -> Sequence[ClusterEvent]: ...


@runtime_checkable
class PreFilterPlugin(Protocol):
    name: str

    def pre_filter(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        """None to go on, ``status.SKIP`` to skip this plugin's Filter, or an unschedulable Status
        to reject the pod on every node."""
        ...


@runtime_checkable
class FilterPlugin(Protocol):
    name: str

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None: ...


@dataclass(frozen=True, slots=True)
class PostFilterResult:
    nominated_node: str = ""


@runtime_checkable
class PostFilterPlugin(Protocol):
    name: str

    async def post_filter(
        self, state: CycleState, pod: PodInfo, statuses: Mapping[str, Status]
    ) -> tuple[PostFilterResult | None, Status | None]:
        """Called when no node fits (``statuses``: node name -> why not). A result with a
        nominated node and a None status means "retry this pod; it should fit there"."""
        ...


@runtime_checkable
class PreScorePlugin(Protocol):
    name: str

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None: ...


@runtime_checkable
class ScorePlugin(Protocol):
    name: str

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        """0..MAX_NODE_SCORE, or any integer if the plugin normalizes."""
        ...


@runtime_checkable
class BatchScorePlugin(Protocol):
    """A Score plugin that can also score every feasible node in one call (the same numbers as
    ``[score(state, pod, n) for n in nodes]``): for the cheap default plugins the per-node call
    was most of their cost, and they run for hundreds of nodes per pod."""

    name: str

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]: ...


@runtime_checkable
class NormalizeScorePlugin(Protocol):
    name: str

    def normalize_score(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None:
        """Map the plugin's raw scores (one per feasible node, in order) to 0..MAX_NODE_SCORE, in place."""
        ...


@runtime_checkable
class ReservePlugin(Protocol):
    name: str

    def reserve(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None: ...

    def unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None: ...


@runtime_checkable
class BindPlugin(Protocol):
    name: str

    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        """None when bound, ``status.SKIP`` to let the next binder try, else the failure."""
        ...
