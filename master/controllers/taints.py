"""Taints and tolerations, as the node lifecycle, taint eviction and DaemonSet controllers use them.

Whether one toleration matches a taint is ``master.api.scheduling.tolerates`` (the scheduler's
rule too)::

    tolerates([Toleration(key="node.kubernetes.io/unreachable", operator="Exists",
                          effect="NoExecute", toleration_seconds=300)],
              Taint(key="node.kubernetes.io/unreachable", effect="NoExecute"))   -> True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from master.api import core, scheduling

__all__ = [
    "DISK_PRESSURE",
    "MEMORY_PRESSURE",
    "NETWORK_UNAVAILABLE",
    "NOT_READY",
    "PID_PRESSURE",
    "UNREACHABLE",
    "UNSCHEDULABLE",
    "tolerates",
    "untolerated",
    "with_taints",
]

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
PID_PRESSURE = "node.kubernetes.io/pid-pressure"
NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"

NO_EXECUTE = "NoExecute"
NO_SCHEDULE = "NoSchedule"


def tolerates(tolerations: Iterable[core.Toleration], taint: core.Taint) -> bool:
    return any(scheduling.tolerates(t, taint) for t in tolerations)


def untolerated(tolerations: Sequence[core.Toleration], taints: Iterable[core.Taint]) -> list[core.Taint]:
    return [t for t in taints if not tolerates(tolerations, t)]


def with_taints(
    taints: Sequence[core.Taint], *, add: Sequence[core.Taint] = (), remove: Iterable[tuple[str, str]] = ()
) -> list[core.Taint] | None:
    """``taints`` with ``add`` (by key and effect, existing ones kept as they are) and without
    the (key, effect) pairs of ``remove``; None when that changes nothing."""
    drop = set(remove)
    kept = [t for t in taints if (t.key, t.effect) not in drop]
    have = {(t.key, t.effect) for t in kept}
    new = [t for t in add if (t.key, t.effect) not in have]
    result = kept + new
    return None if len(result) == len(taints) and not new else result
