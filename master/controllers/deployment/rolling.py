"""RollingUpdate: surge the new ReplicaSet up, scale old ones down, never below the availability floor.

Worked example: replicas 4, maxSurge 1, maxUnavailable 1, all 4 pods on the old RS:

    new RS 0 -> 1           total may reach 4 + 1 = 5
    old RS 4 -> 3           available 4 >= minAvailable 3, so one old pod may go
    ... new pods become available; each round moves one or two more pods ...
    new RS 4, old RS 0      complete; old RSes beyond revisionHistoryLimit are deleted

Unhealthy old pods (counted in ``spec.replicas`` but not available) are removed first, as they
cost no availability (``cleanup_unhealthy``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from master.api import apps
from master.controllers.deployment import util
from master.controllers.deployment.rollout import Rollout

if TYPE_CHECKING:
    from master.controllers.deployment.controller import DeploymentController

__all__ = ["new_rs_new_replicas", "rollout_rolling"]


def new_rs_new_replicas(d: apps.Deployment, all_rss: list[apps.ReplicaSet], new_rs: apps.ReplicaSet) -> int:
    """How many replicas the new ReplicaSet may have now."""
    desired = util.replicas_of(d)
    if d.spec.strategy.type != "RollingUpdate":
        return desired
    current = util.replicas_of(new_rs)
    surge = util.max_surge(d)
    total = util.replicas_sum(all_rss)
    max_total = desired + surge
    if total >= max_total:
        return current
    return current + min(max_total - total, max(desired - current, 0))


async def rollout_rolling(ctl: DeploymentController, d: apps.Deployment, rss: list[apps.ReplicaSet]) -> float | None:
    ro = await ctl.get_all_replica_sets(d, rss, create=True)
    if await _reconcile_new(ctl, ro):
        return await ctl.sync_rollout_status(ro)
    if await _reconcile_old(ctl, ro):
        return await ctl.sync_rollout_status(ro)
    if util.is_complete(ro.d, ro.d.status):
        await ctl.cleanup(ro)
    return await ctl.sync_rollout_status(ro)


async def _reconcile_new(ctl: DeploymentController, ro: Rollout) -> bool:
    new_rs = ro.new_rs
    if new_rs is None:
        return False
    desired = util.replicas_of(ro.d)
    current = util.replicas_of(new_rs)
    if current == desired:
        return False
    if current > desired:
        await ctl.scale_rs(ro, new_rs, desired)
        return True
    target = new_rs_new_replicas(ro.d, ro.all_rss, new_rs)
    if target == current:
        return False
    await ctl.scale_rs(ro, new_rs, target)
    return True


async def _reconcile_old(ctl: DeploymentController, ro: Rollout) -> bool:
    if util.replicas_sum(ro.old_rss) == 0:
        return False
    d = ro.d
    all_pods = util.replicas_sum(ro.all_rss)
    min_available = util.replicas_of(d) - util.max_unavailable(d)
    new_unavailable = 0
    if ro.new_rs is not None:
        new_unavailable = util.replicas_of(ro.new_rs) - ro.new_rs.status.available_replicas
    max_scaled_down = all_pods - min_available - new_unavailable
    if max_scaled_down <= 0:
        return False
    cleaned = await _cleanup_unhealthy(ctl, ro, max_scaled_down)
    scaled = await _scale_down_old(ctl, ro, min_available)
    return cleaned + scaled > 0


async def _cleanup_unhealthy(ctl: DeploymentController, ro: Rollout, max_cleanup: int) -> int:
    total = 0
    for rs in util.by_creation(util.active(ro.old_rss)):
        if total >= max_cleanup:
            break
        replicas = util.replicas_of(rs)
        unhealthy = replicas - rs.status.available_replicas
        if unhealthy <= 0:
            continue
        count = min(max_cleanup - total, unhealthy)
        await ctl.scale_rs(ro, rs, replicas - count)
        total += count
    return total


async def _scale_down_old(ctl: DeploymentController, ro: Rollout, min_available: int) -> int:
    available = sum(rs.status.available_replicas for rs in ro.all_rss)
    if available <= min_available:
        return 0
    budget = available - min_available
    total = 0
    for rs in util.by_creation(util.active(ro.old_rss)):
        if total >= budget:
            break
        replicas = util.replicas_of(rs)
        count = min(replicas, budget - total)
        await ctl.scale_rs(ro, rs, replicas - count)
        total += count
    return total
