"""Node health as the controller observes it: when did the node last show a sign of life?

A sign of life is a new ``lastHeartbeatTime`` on the Ready condition or a new ``renewTime``
on the node's Lease in ``kube-node-lease``. The controller notes *its own* (monotonic) time
when it sees one, and never compares the node's timestamps with its clock: Pis' clocks
drift. A node with no sign of life for the grace period (the startup grace period while it
never posted a Ready condition) gets its conditions set to Unknown::

    t=0   lease renewed            probe_at = 0
    t=10  lease renewed            probe_at = 10
    t=51  (grace 40) nothing new   51 > 10 + 40: Ready, MemoryPressure, DiskPressure,
                                   PIDPressure -> Unknown "Kubelet stopped posting node status."
"""

from __future__ import annotations

from dataclasses import dataclass

from master.api import coordination, core
from master.api import helpers as api_helpers

__all__ = ["CONDITION_TYPES", "NodeHealth", "observe", "unknown_conditions"]

CONDITION_TYPES = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
STOPPED = "Kubelet stopped posting node status."
NEVER = "Kubelet never posted node status."


@dataclass(slots=True)
class NodeHealth:
    probe_at: float
    heartbeat: str | None
    lease_renew: str | None
    # Whether the pods of the node were marked not ready for the current outage.
    pods_marked: bool = False


def observe(
    health: NodeHealth | None, node: core.Node, lease: coordination.Lease | None, now: float
) -> NodeHealth:
    """The health record after looking at ``node`` and its ``lease`` at monotonic time ``now``."""
    ready = api_helpers.get_node_condition(node, "Ready")
    heartbeat = ready.last_heartbeat_time if ready is not None else None
    renew = lease.spec.renew_time if lease is not None else None
    if health is None:
        return NodeHealth(probe_at=now, heartbeat=heartbeat, lease_renew=renew)
    if heartbeat != health.heartbeat:
        health.heartbeat = heartbeat
        if heartbeat is not None:
            health.probe_at = now
    if renew != health.lease_renew:
        health.lease_renew = renew
        if renew is not None:
            health.probe_at = now
    return health


def unknown_conditions(node: core.Node, now_stamp: str) -> list[core.NodeCondition] | None:
    """The conditions to write (merged by type) so that Ready and the pressure ones are
    Unknown (missing ones added as never posted); None when they all are Unknown already."""
    by_type = {c.type: c for c in node.status.conditions}
    changed = []
    for ctype in CONDITION_TYPES:
        cur = by_type.get(ctype)
        if cur is None:
            changed.append(core.NodeCondition(
                type=ctype, status="Unknown", reason="NodeStatusNeverUpdated", message=NEVER,
                last_heartbeat_time=node.metadata.creation_timestamp or now_stamp, last_transition_time=now_stamp,
            ))
        elif cur.status != "Unknown":
            changed.append(core.NodeCondition(
                type=ctype, status="Unknown", reason="NodeStatusUnknown", message=STOPPED,
                last_heartbeat_time=cur.last_heartbeat_time, last_transition_time=now_stamp,
            ))
    return changed or None
