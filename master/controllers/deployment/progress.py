"""Deployment status: counts from the ReplicaSets, and the Available / Progressing / ReplicaFailure conditions.

What ``kubectl rollout status`` reads, in its order: ``observedGeneration >= generation``;
Progressing with reason ProgressDeadlineExceeded (fail); ``updatedReplicas < replicas``;
``replicas > updatedReplicas`` (old pods terminating); ``availableReplicas < updatedReplicas``;
else rolled out.

Progressing moves through: NewReplicaSetCreated / FoundNewReplicaSet -> ReplicaSetUpdated (each
time something moves; lastUpdateTime restarts the deadline clock) -> NewReplicaSetAvailable
(complete), or False/ProgressDeadlineExceeded when nothing moved for
``progressDeadlineSeconds``. Paused deployments show Unknown/DeploymentPaused.
"""

from __future__ import annotations

import msgspec

from master.api import apps, timefmt
from master.controllers.deployment import util
from master.controllers.deployment.rollout import Rollout

__all__ = ["calculate_status", "paused_conditions", "requeue_after", "rollout_status"]


def calculate_status(ro: Rollout, now: float) -> apps.DeploymentStatus:
    d = ro.d
    all_rss = ro.all_rss
    available = sum(rs.status.available_replicas for rs in all_rss)
    total = util.replicas_sum(all_rss)
    conditions = list(d.status.conditions)
    for cond in ro.pending:
        conditions = util.set_condition(conditions, cond)
    if available >= util.replicas_of(d) - util.max_unavailable(d):
        cond = util.new_condition("Available", "True", util.MIN_AVAILABLE, "Deployment has minimum availability.", now)
    else:
        cond = util.new_condition(
            "Available", "False", util.MIN_UNAVAILABLE, "Deployment does not have minimum availability.", now
        )
    conditions = util.set_condition(conditions, cond)
    return apps.DeploymentStatus(
        observed_generation=d.metadata.generation,
        replicas=util.actual_sum(all_rss),
        updated_replicas=util.actual_sum([ro.new_rs]),
        ready_replicas=sum(rs.status.ready_replicas for rs in all_rss),
        available_replicas=available,
        unavailable_replicas=max(total - available, 0),
        conditions=conditions,
        collision_count=d.status.collision_count,
    )


def rollout_status(ro: Rollout, now: float) -> apps.DeploymentStatus:
    """``calculate_status`` plus the Progressing and ReplicaFailure conditions."""
    d = ro.d
    status = calculate_status(ro, now)
    conds = status.conditions
    if not util.has_progress_deadline(d):
        conds = util.remove_condition(conds, "Progressing")
    cur = next((c for c in conds if c.type == "Progressing"), None)
    complete = status.replicas == status.updated_replicas and cur is not None and cur.reason == util.NEW_RS_AVAILABLE
    name = ro.new_rs.metadata.name if ro.new_rs is not None else ""
    if util.has_progress_deadline(d) and not complete:
        probe = msgspec.structs.replace(status, conditions=conds)
        if util.is_complete(d, probe):
            msg = f'ReplicaSet "{name}" has successfully progressed.' if name else "Deployment has successfully progressed."
            conds = util.set_condition(conds, util.new_condition("Progressing", "True", util.NEW_RS_AVAILABLE, msg, now))
        elif util.is_progressing(d, probe):
            msg = f'ReplicaSet "{name}" is progressing.' if name else "Deployment is progressing."
            cond = util.new_condition("Progressing", "True", util.RS_UPDATED, msg, now)
            if cur is not None and cur.status == "True":
                cond = msgspec.structs.replace(cond, last_transition_time=cur.last_transition_time)
            # Replaced, not merged: lastUpdateTime must move, it restarts the deadline.
            conds = [*util.remove_condition(conds, "Progressing"), cond]
        elif util.timed_out(d, probe, now):
            msg = (f'ReplicaSet "{name}" has timed out progressing.' if name
                   else f'Deployment "{d.metadata.name}" has timed out progressing.')
            conds = util.set_condition(conds, util.new_condition("Progressing", "False", util.TIMED_OUT, msg, now))
    failure = _replica_failure(ro)
    if failure is not None:
        conds = util.set_condition(
            conds, util.new_condition("ReplicaFailure", failure.status, failure.reason, failure.message, now)
        )
    else:
        conds = util.remove_condition(conds, "ReplicaFailure")
    return msgspec.structs.replace(status, conditions=conds)


def _replica_failure(ro: Rollout) -> apps.ReplicaSetCondition | None:
    rss = [ro.new_rs, *ro.old_rss] if ro.new_rs is not None else list(ro.old_rss)
    for rs in rss:
        for c in rs.status.conditions:
            if c.type == "ReplicaFailure" and c.status == "True":
                return c
    return None


def requeue_after(d: apps.Deployment, status: apps.DeploymentStatus, now: float) -> float | None:
    """Seconds until the progress deadline of a rollout in progress would pass (None: no deadline)."""
    if not util.has_progress_deadline(d):
        return None
    cond = util.get_condition(status, "Progressing")
    if cond is None or cond.reason in (util.NEW_RS_AVAILABLE, util.TIMED_OUT):
        return None
    stamp = cond.last_update_time or cond.last_transition_time
    if not stamp:
        return None
    try:
        since = timefmt.to_epoch(stamp)
    except timefmt.TimeFormatError:
        return None
    after = since + float(d.spec.progress_deadline_seconds or 0) - now
    return max(after, 1.0)


def paused_conditions(d: apps.Deployment, now: float) -> list[apps.DeploymentCondition] | None:
    """The conditions after pausing or resuming (None: nothing to record)."""
    if not util.has_progress_deadline(d):
        return None
    cond = util.get_condition(d.status, "Progressing")
    if cond is not None and cond.reason == util.TIMED_OUT:
        return None
    paused_recorded = cond is not None and cond.reason == util.PAUSED
    if d.spec.paused and not paused_recorded:
        new = util.new_condition("Progressing", "Unknown", util.PAUSED, "Deployment is paused", now)
    elif not d.spec.paused and paused_recorded:
        new = util.new_condition("Progressing", "Unknown", util.RESUMED, "Deployment is resumed", now)
    else:
        return None
    return util.set_condition(list(d.status.conditions), new)
