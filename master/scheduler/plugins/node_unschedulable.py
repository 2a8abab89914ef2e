"""NodeUnschedulable: a cordoned node (``spec.unschedulable``) takes no new pods, unless the pod
tolerates the ``node.kubernetes.io/unschedulable:NoSchedule`` taint (DaemonSet pods do)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from master.api import core
from master.api.scheduling import tolerates
from master.scheduler.framework import status
from master.scheduler.framework.interface import ActionType, ClusterEvent, CycleState, Handle
from master.scheduler.framework.status import Status
from master.scheduler.framework.types import NodeInfo, PodInfo

__all__ = ["NAME", "REASON", "NodeUnschedulable", "new"]

NAME = "NodeUnschedulable"
REASON = "node(s) were unschedulable"
TAINT = core.Taint(key="node.kubernetes.io/unschedulable", effect="NoSchedule")


class NodeUnschedulable:
    name = NAME

    def events_to_register(self) -> Sequence[ClusterEvent]:
        return [ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_TAINT)]

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        n = node.node
        if n is None or not n.spec.unschedulable:
            return None
        if any(tolerates(t, TAINT) for t in pod.pod.spec.tolerations):
            return None
        return status.unresolvable(REASON)


def new(args: Mapping[str, Any], handle: Handle) -> NodeUnschedulable:
    return NodeUnschedulable()
