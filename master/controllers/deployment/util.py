"""Pure helpers of the Deployment controller: template hashes, revisions, annotations, fenceposts, conditions.

Facts kubectl relies on (``kubectl rollout history|undo|status``):

- a Deployment's ReplicaSets are named ``<deployment>-<hash>``; the hash of the pod template
  (plus ``status.collisionCount``) is also the pod-template-hash label of the ReplicaSet's
  selector, template and pods;
- each ReplicaSet carries ``deployment.kubernetes.io/revision``; the newest template has the
  highest number, a template that becomes current again (rollout undo) gets a new, highest
  number and its earlier numbers move to ``deployment.kubernetes.io/revision-history``;
- ReplicaSets also carry ``desired-replicas`` (the Deployment's replicas when last scaled)
  and ``max-replicas`` (replicas + maxSurge), which proportional scaling reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from master.api import apps, core, meta, timefmt
from master.controllers.hashing import compute_hash
from master.controllers.util import scaled_value

__all__ = [
    "DESIRED_REPLICAS_ANNOTATION",
    "MAX_REPLICAS_ANNOTATION",
    "POD_TEMPLATE_HASH_LABEL",
    "REVISION_ANNOTATION",
    "REVISION_HISTORY_ANNOTATION",
    "compute_hash",
    "equal_ignore_hash",
    "max_revision",
    "max_surge",
    "max_unavailable",
    "replicas_of",
    "revision_of",
]

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"
POD_TEMPLATE_HASH_LABEL = "pod-template-hash"

# Annotations of the Deployment that are not copied onto its ReplicaSets (kubectl keeps the
# same list when it copies a ReplicaSet's annotations back on rollout undo).
_SKIP_ANNOTATIONS = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    "deprecated.deployment.rollback.to",
})

# Progressing condition reasons (kubectl rollout status reads ProgressDeadlineExceeded).
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"
FAILED_RS_CREATE = "ReplicaSetCreateError"


def replicas_of(obj: apps.Deployment | apps.ReplicaSet) -> int:
    return obj.spec.replicas if obj.spec.replicas is not None else 1


def _without_hash(template: core.PodTemplateSpec) -> core.PodTemplateSpec:
    lbls = template.metadata.labels
    if POD_TEMPLATE_HASH_LABEL not in lbls:
        return template
    rest = {k: v for k, v in lbls.items() if k != POD_TEMPLATE_HASH_LABEL}
    return msgspec.structs.replace(template, metadata=msgspec.structs.replace(template.metadata, labels=rest))


def equal_ignore_hash(a: core.PodTemplateSpec, b: core.PodTemplateSpec) -> bool:
    """Templates equal apart from the pod-template-hash label (how a Deployment finds its new RS)."""
    return _without_hash(a) == _without_hash(b)


def revision_of(obj: meta.Object) -> int:
    try:
        return int(obj.metadata.annotations.get(REVISION_ANNOTATION, "0"))
    except ValueError:
        return 0


def max_revision(rss: Iterable[apps.ReplicaSet]) -> int:
    return max((revision_of(rs) for rs in rss), default=0)


def int_annotation(obj: meta.Object, name: str) -> int | None:
    value = obj.metadata.annotations.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def max_surge(d: apps.Deployment) -> int:
    if d.spec.strategy.type != "RollingUpdate" or d.spec.strategy.rolling_update is None:
        return 0
    surge, _ = resolve_fenceposts(d)
    return surge


def resolve_fenceposts(d: apps.Deployment) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as numbers: surge rounds up, unavailable down, never both 0."""
    ru = d.spec.strategy.rolling_update
    desired = replicas_of(d)
    surge = scaled_value(ru.max_surge if ru else None, desired, round_up=True)
    unavailable = scaled_value(ru.max_unavailable if ru else None, desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_unavailable(d: apps.Deployment) -> int:
    desired = replicas_of(d)
    if d.spec.strategy.type != "RollingUpdate" or d.spec.strategy.rolling_update is None or desired == 0:
        return 0
    _, unavailable = resolve_fenceposts(d)
    return min(unavailable, desired)


def copyable_annotations(d: apps.Deployment) -> dict[str, str]:
    return {k: v for k, v in d.metadata.annotations.items() if k not in _SKIP_ANNOTATIONS}


def new_rs_annotations(
    d: apps.Deployment, rs_annotations: dict[str, str], new_revision: int, *, exists: bool
) -> dict[str, str]:
    """The annotations the new ReplicaSet should carry (the Deployment's, its revision, sizes).

    A ReplicaSet that becomes current again keeps its old revision numbers in the history.
    """
    out = dict(rs_annotations)
    out.update(copyable_annotations(d))
    old = rs_annotations.get(REVISION_ANNOTATION, "")
    try:
        old_n = int(old) if old else 0
    except ValueError:
        old_n = 0
    if old_n < new_revision:
        out[REVISION_ANNOTATION] = str(new_revision)
        if exists and old:
            history = [h for h in rs_annotations.get(REVISION_HISTORY_ANNOTATION, "").split(",") if h]
            out[REVISION_HISTORY_ANNOTATION] = ",".join([*history, old])
    out[DESIRED_REPLICAS_ANNOTATION] = str(replicas_of(d))
    out[MAX_REPLICAS_ANNOTATION] = str(replicas_of(d) + max_surge(d))
    return out


def replicas_sum(rss: Sequence[apps.ReplicaSet | None]) -> int:
    """Sum of spec.replicas."""
    return sum(replicas_of(rs) for rs in rss if rs is not None)


def actual_sum(rss: Sequence[apps.ReplicaSet | None]) -> int:
    """Sum of status.replicas."""
    return sum(rs.status.replicas for rs in rss if rs is not None)


def active(rss: Iterable[apps.ReplicaSet | None]) -> list[apps.ReplicaSet]:
    return [rs for rs in rss if rs is not None and replicas_of(rs) > 0]


def created_at(obj: meta.Object) -> float:
    return timefmt.to_epoch_or(obj.metadata.creation_timestamp)


def by_creation(rss: Iterable[apps.ReplicaSet]) -> list[apps.ReplicaSet]:
    """Oldest first (ties by name)."""
    return sorted(rss, key=lambda rs: (created_at(rs), rs.metadata.name))


def get_condition(status: apps.DeploymentStatus, ctype: str) -> apps.DeploymentCondition | None:
    for c in status.conditions:
        if c.type == ctype:
            return c
    return None


def set_condition(
    conditions: list[apps.DeploymentCondition], cond: apps.DeploymentCondition
) -> list[apps.DeploymentCondition]:
    """The list with ``cond`` in place; an equal status and reason leaves the old one as is,
    an equal status keeps the old lastTransitionTime."""
    old = next((c for c in conditions if c.type == cond.type), None)
    if old is not None and old.status == cond.status and old.reason == cond.reason:
        return conditions
    if old is not None and old.status == cond.status:
        cond = msgspec.structs.replace(cond, last_transition_time=old.last_transition_time)
    return [*(c for c in conditions if c.type != cond.type), cond]


def remove_condition(
    conditions: list[apps.DeploymentCondition], ctype: str
) -> list[apps.DeploymentCondition]:
    return [c for c in conditions if c.type != ctype]


def new_condition(ctype: str, status: str, reason: str, message: str, now: float) -> apps.DeploymentCondition:
    stamp = timefmt.format_time(now)
    return apps.DeploymentCondition(
        type=ctype, status=status, reason=reason, message=message,
        last_update_time=stamp, last_transition_time=stamp,
    )


def has_progress_deadline(d: apps.Deployment) -> bool:
    pds = d.spec.progress_deadline_seconds
    return pds is not None and pds != 2**31 - 1


def is_complete(d: apps.Deployment, status: apps.DeploymentStatus) -> bool:
    """Every replica updated and available, and the latest spec observed."""
    desired = replicas_of(d)
    return (
        status.updated_replicas == desired
        and status.replicas == desired
        and status.available_replicas == desired
        and status.observed_generation >= d.metadata.generation
    )


def is_progressing(d: apps.Deployment, new: apps.DeploymentStatus) -> bool:
    """Something moved since the last recorded status (more updated, ready or available
    replicas, or fewer old ones)."""
    old = d.status
    old_status_replicas = old.replicas - old.updated_replicas
    new_status_replicas = new.replicas - new.updated_replicas
    return (
        new.updated_replicas > old.updated_replicas
        or new_status_replicas < old_status_replicas
        or new.ready_replicas > old.ready_replicas
        or new.available_replicas > old.available_replicas
    )


def timed_out(d: apps.Deployment, status: apps.DeploymentStatus, now: float) -> bool:
    if not has_progress_deadline(d):
        return False
    cond = get_condition(status, "Progressing")
    if cond is None:
        return False
    if cond.reason == NEW_RS_AVAILABLE or cond.reason == TIMED_OUT:
        return False
    stamp = cond.last_update_time or cond.last_transition_time
    if not stamp:
        return False
    try:
        since = timefmt.to_epoch(stamp)
    except timefmt.TimeFormatError:
        return False
    return since + float(d.spec.progress_deadline_seconds or 0) < now
