"""NodeAffinity: ``spec.nodeSelector`` and required node affinity filter nodes; preferred node
affinity scores them (the sum of the weights of the matching preferred terms, normalized so
the best node gets 100).

Args (``pluginConfig``): ``addedAffinity``, a NodeAffinity every pod of the profile must
also satisfy (its required terms) and prefers (its preferred terms).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from master.api import core
from master.api.scheduling import RequiredNodeAffinity, match_node_selector_term
from master.scheduler.framework import status
from master.scheduler.framework.interface import ActionType, ClusterEvent, CycleState, Handle
from master.scheduler.framework.registry import parse_args
from master.scheduler.framework.status import Status
from master.scheduler.framework.types import NodeInfo, PodInfo
from master.scheduler.plugins.helpers import default_normalize

__all__ = ["NAME", "REASON", "NodeAffinity", "NodeAffinityArgs", "new"]

NAME = "NodeAffinity"
REASON = "node(s) didn't match Pod's node affinity/selector"
_FILTER_KEY = f"PreFilter{NAME}"
_SCORE_KEY = f"PreScore{NAME}"


class NodeAffinityArgs(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    added_affinity: core.NodeAffinity | None = None


class NodeAffinity:
    name = NAME

    def __init__(self, args: NodeAffinityArgs) -> None:
        added = args.added_affinity
        required = added.required_during_scheduling_ignored_during_execution if added else None
        self._added_terms = required.node_selector_terms if required is not None else None
        self._added_preferred = list(added.preferred_during_scheduling_ignored_during_execution) if added else []

    def events_to_register(self) -> Sequence[ClusterEvent]:
        return [ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_LABEL)]

    def pre_filter(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        required = RequiredNodeAffinity(pod.pod.spec)
        if required.empty() and self._added_terms is None:
            return status.SKIP
        state.write(_FILTER_KEY, required)
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        required: RequiredNodeAffinity = state.read(_FILTER_KEY)
        labels = node.labels
        if self._added_terms is not None and not any(
            match_node_selector_term(t, labels, node.name) for t in self._added_terms
        ):
            return status.unresolvable(REASON)
        if not required.matches(labels, node.name):
            return status.unresolvable(REASON)
        return None

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        affinity = pod.pod.spec.affinity
        preferred = list(self._added_preferred)
        if affinity is not None and affinity.node_affinity is not None:
            preferred.extend(affinity.node_affinity.preferred_during_scheduling_ignored_during_execution)
        if not preferred:
            return status.SKIP
        state.write(_SCORE_KEY, preferred)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        preferred: list[core.PreferredSchedulingTerm] = state.read(_SCORE_KEY)
        labels = node.labels
        return sum(
            term.weight
            for term in preferred
            if term.weight and match_node_selector_term(term.preference, labels, node.name)
        )

    def normalize_score(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None:
        default_normalize(scores)


def new(args: Mapping[str, Any], handle: Handle) -> NodeAffinity:
    return NodeAffinity(parse_args(NAME, args, NodeAffinityArgs))
