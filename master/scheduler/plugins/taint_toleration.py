"""TaintToleration: a node's NoSchedule and NoExecute taints keep out pods that do not tolerate
them (filter); PreferNoSchedule taints the pod does not tolerate make a node less attractive
(score: fewer such taints is better, normalized so the best node gets 100)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from master.api.scheduling import find_untolerated_taint, tolerates
from master.scheduler.framework import status
from master.scheduler.framework.interface import ActionType, ClusterEvent, CycleState, Handle
from master.scheduler.framework.status import Status
from master.scheduler.framework.types import NodeInfo, PodInfo
from master.scheduler.plugins.helpers import default_normalize

__all__ = ["NAME", "TaintToleration", "new", "untolerated_reason"]

NAME = "TaintToleration"
_FILTER_EFFECTS = ("NoSchedule", "NoExecute")
_PREFERRED_KEY = f"PreScore{NAME}"


def untolerated_reason(key: str, value: str) -> str:
    return f"node(s) had untolerated taint {{{key}: {value}}}"


class TaintToleration:
    name = NAME

    def events_to_register(self) -> Sequence[ClusterEvent]:
        return [ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_TAINT)]

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        taints = node.taints
        if not taints:
            return None
        taint = find_untolerated_taint(taints, pod.pod.spec.tolerations, _FILTER_EFFECTS)
        if taint is None:
            return None
        return status.unresolvable(untolerated_reason(taint.key, taint.value))

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        if not any(t.effect == "PreferNoSchedule" for n in nodes for t in n.taints):
            return status.SKIP
        preferred = [t for t in pod.pod.spec.tolerations if t.effect in ("", "PreferNoSchedule")]
        state.write(_PREFERRED_KEY, preferred)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        tolerations = state.read(_PREFERRED_KEY)
        return sum(
            1
            for taint in node.taints
            if taint.effect == "PreferNoSchedule" and not any(tolerates(t, taint) for t in tolerations)
        )

    def normalize_score(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None:
        default_normalize(scores, reverse=True)


def new(args: Mapping[str, Any], handle: Handle) -> TaintToleration:
    return TaintToleration()
