"""NodePorts: a pod asking for host ports fits only on nodes where they are free (same
protocol and port, and the same host IP or 0.0.0.0 on either side, conflict)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from master.scheduler.framework import status
from master.scheduler.framework.interface import ActionType, ClusterEvent, CycleState, Handle
from master.scheduler.framework.status import Status
from master.scheduler.framework.types import NodeInfo, PodInfo

__all__ = ["NAME", "REASON", "NodePorts", "new"]

NAME = "NodePorts"
REASON = "node(s) didn't have free ports for the requested pod ports"


class NodePorts:
    name = NAME

    def events_to_register(self) -> Sequence[ClusterEvent]:
        return [ClusterEvent("Pod", ActionType.DELETE), ClusterEvent("Node", ActionType.ADD)]

    def pre_filter(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        return None if pod.host_ports else status.SKIP

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if node.port_conflict(pod.host_ports):
            return status.unschedulable(REASON)
        return None


def new(args: Mapping[str, Any], handle: Handle) -> NodePorts:
    return NodePorts()
