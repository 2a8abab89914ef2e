"""Small object operations controllers, the scheduler and the kubelet share.

None of these change their arguments: setters return new objects that share unchanged parts
with the input (so a cached object is never mutated, and copying stays cheap)::

    pod2 = helpers.set_pod_condition(pod, PodCondition(type="Ready", status="True"), now=t)
    assert pod is not pod2 and helpers.is_pod_ready(pod2)
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from typing import Any, TypeVar

import msgspec

from master.api.core.node import Node, NodeCondition
from master.api.core.pod import Pod, PodCondition
from master.api.meta import Object, OwnerReference
from master.api.timefmt import TimeFormatError, to_epoch

__all__ = [
    "controller_ref",
    "generate_name",
    "get_node_condition",
    "get_pod_condition",
    "is_controlled_by",
    "is_node_ready",
    "is_pod_active",
    "is_pod_available",
    "is_pod_ready",
    "is_pod_terminal",
    "meta_key",
    "new_controller_ref",
    "new_uid",
    "set_node_condition",
    "set_pod_condition",
    "split_meta_key",
    "with_annotations",
    "with_labels",
]

ObjT = TypeVar("ObjT", bound=Object)

# Kubernetes' random-suffix alphabet (no vowels, no look-alikes), so names never spell words.
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SUFFIX_LEN = 5
_MAX_NAME = 63


def generate_name(prefix: str) -> str:
    """``prefix`` plus 5 random characters, as the apiserver fills ``metadata.generateName``."""
    base = prefix[: _MAX_NAME - _SUFFIX_LEN] if len(prefix) > _MAX_NAME - _SUFFIX_LEN else prefix
    return base + "".join(secrets.choice(_ALPHABET) for _ in range(_SUFFIX_LEN))


def new_uid() -> str:
    return str(uuid.uuid4())


def meta_key(obj: Object) -> str:
    """The work-queue key: "namespace/name", or "name" for cluster-scoped objects."""
    m = obj.metadata
    return f"{m.namespace}/{m.name}" if m.namespace else m.name


def split_meta_key(key: str) -> tuple[str, str]:
    """("namespace", "name") of a ``meta_key`` ("" namespace for cluster-scoped)."""
    ns, sep, name = key.partition("/")
    return (ns, name) if sep else ("", key)


def controller_ref(obj: Object) -> OwnerReference | None:
    for ref in obj.metadata.owner_references:
        if ref.controller:
            return ref
    return None


def is_controlled_by(obj: Object, owner: Object) -> bool:
    ref = controller_ref(obj)
    return ref is not None and ref.uid == owner.metadata.uid


def new_controller_ref(owner: Object) -> OwnerReference:
    """The ownerReference a controller puts on what it creates (controller, blockOwnerDeletion)."""
    return OwnerReference(
        api_version=owner.api_version,
        kind=owner.kind,
        name=owner.metadata.name,
        uid=owner.metadata.uid,
        controller=True,
        block_owner_deletion=True,
    )


def with_labels(obj: ObjT, labels: dict[str, str]) -> ObjT:
    """A new object with ``labels`` merged into its labels."""
    meta = msgspec.structs.replace(obj.metadata, labels={**obj.metadata.labels, **labels})
    return msgspec.structs.replace(obj, metadata=meta)


def with_annotations(obj: ObjT, annotations: dict[str, str]) -> ObjT:
    meta = msgspec.structs.replace(obj.metadata, annotations={**obj.metadata.annotations, **annotations})
    return msgspec.structs.replace(obj, metadata=meta)


# Conditions


def _find(conditions: Iterable[Any], ctype: str) -> Any:
    for c in conditions:
        if c.type == ctype:
            return c
    return None


def get_pod_condition(pod: Pod, ctype: str) -> PodCondition | None:
    return _find(pod.status.conditions, ctype)


def _with_condition(conditions: list[Any], cond: Any, now: str, *, heartbeat: bool = False) -> list[Any] | None:
    """The list with ``cond`` in place of its type's condition, or None when nothing changed.

    lastTransitionTime moves only when status changes (Kubernetes' rule); a condition without
    one gets ``now``."""
    old = _find(conditions, cond.type)
    if old is not None and old.status == cond.status:
        new = msgspec.structs.replace(cond, last_transition_time=old.last_transition_time)
    elif cond.last_transition_time:
        new = cond
    else:
        new = msgspec.structs.replace(cond, last_transition_time=now)
    if heartbeat and not new.last_heartbeat_time:
        new = msgspec.structs.replace(new, last_heartbeat_time=now)
    if old == new:
        return None
    if old is None:
        return [*conditions, new]
    return [new if c.type == cond.type else c for c in conditions]


def set_pod_condition(pod: Pod, cond: PodCondition, *, now: str) -> Pod:
    """A new Pod with ``cond`` set (the same Pod object when nothing changes)."""
    conds = _with_condition(pod.status.conditions, cond, now)
    if conds is None:
        return pod
    return msgspec.structs.replace(pod, status=msgspec.structs.replace(pod.status, conditions=conds))


def is_pod_ready(pod: Pod) -> bool:
    c = get_pod_condition(pod, "Ready")
    return c is not None and c.status == "True"


def is_pod_available(pod: Pod, min_ready_seconds: int, now: float) -> bool:
    """Ready for at least ``min_ready_seconds`` (``now`` in epoch seconds)."""
    c = get_pod_condition(pod, "Ready")
    if c is None or c.status != "True":
        return False
    if min_ready_seconds <= 0:
        return True
    if not c.last_transition_time:
        return False
    try:
        return to_epoch(c.last_transition_time) + min_ready_seconds <= now
    except TimeFormatError:
        return False


def is_pod_terminal(pod: Pod) -> bool:
    return pod.status.phase in ("Succeeded", "Failed")


def is_pod_active(pod: Pod) -> bool:
    """Not finished and not being deleted (what ReplicaSets count)."""
    return not is_pod_terminal(pod) and not pod.metadata.deletion_timestamp


def get_node_condition(node: Node, ctype: str) -> NodeCondition | None:
    return _find(node.status.conditions, ctype)


def set_node_condition(node: Node, cond: NodeCondition, *, now: str) -> Node:
    conds = _with_condition(node.status.conditions, cond, now, heartbeat=True)
    if conds is None:
        return node
    return msgspec.structs.replace(node, status=msgspec.structs.replace(node.status, conditions=conds))


def is_node_ready(node: Node) -> bool:
    c = get_node_condition(node, "Ready")
    return c is not None and c.status == "True"
