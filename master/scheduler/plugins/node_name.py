"""NodeName: a pod that names a node (``spec.nodeName``) fits only there."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from master.scheduler.framework import status
from master.scheduler.framework.interface import ActionType, ClusterEvent, CycleState, Handle
from master.scheduler.framework.status import Status
from master.scheduler.framework.types import NodeInfo, PodInfo

__all__ = ["NAME", "REASON", "NodeName", "new"]

NAME = "NodeName"
REASON = "node(s) didn't match the requested node name"


class NodeName:
    name = NAME

    def events_to_register(self) -> Sequence[ClusterEvent]:
        return [ClusterEvent("Node", ActionType.ADD)]

    def pre_filter(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        return None if pod.pod.spec.node_name else status.SKIP

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        wanted = pod.pod.spec.node_name
        if not wanted or wanted == node.name:
            return None
        return status.unresolvable(REASON)


def new(args: Mapping[str, Any], handle: Handle) -> NodeName:
    return NodeName()
