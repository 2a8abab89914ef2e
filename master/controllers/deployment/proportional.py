"""Scaling a Deployment (or a paused one) mid-rollout: spread the change over its ReplicaSets.

With one active ReplicaSet it simply gets the new size. With several (a rollout in progress),
each gets a share proportional to its size, measured against the ``max-replicas`` annotation
written when it was last scaled; the rounding leftover goes to the largest (newest when
growing, oldest when shrinking). Example: replicas 10 -> 15, maxSurge 3, RSes of 8 (new) and
5 (old), both annotated max-replicas 13: allowed 18, to add 5; new gets round(8*18/13)-8 = 3,
old gets round(5*18/13)-5 = 2.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from master.api import apps
from master.controllers.deployment import util

if TYPE_CHECKING:
    from master.controllers.deployment.controller import DeploymentController
    from master.controllers.deployment.rollout import Rollout

__all__ = ["find_active_or_latest", "is_saturated", "plan", "scale"]


def find_active_or_latest(
    new_rs: apps.ReplicaSet | None, old_rss: list[apps.ReplicaSet]
) -> apps.ReplicaSet | None:
    """The only active ReplicaSet; with none active the new (else newest) one; None with several."""
    newest_first = sorted(old_rss, key=lambda rs: util.created_at(rs), reverse=True)
    act = util.active([*newest_first, new_rs])
    if not act:
        if new_rs is not None:
            return new_rs
        return newest_first[0] if newest_first else None
    return act[0] if len(act) == 1 else None


def is_saturated(d: apps.Deployment, rs: apps.ReplicaSet | None) -> bool:
    if rs is None:
        return False
    desired = util.replicas_of(d)
    return (
        util.int_annotation(rs, util.DESIRED_REPLICAS_ANNOTATION) == desired
        and rs.status.available_replicas == desired
        and util.replicas_of(rs) == desired
    )


def _fraction(rs: apps.ReplicaSet, d: apps.Deployment) -> int:
    if util.replicas_of(d) == 0:
        return -util.replicas_of(rs)
    deployment_replicas = util.replicas_of(d) + util.max_surge(d)
    annotated = util.int_annotation(rs, util.MAX_REPLICAS_ANNOTATION)
    if not annotated:
        annotated = d.status.replicas
    if not annotated:
        return 0
    size = util.replicas_of(rs) * deployment_replicas / annotated
    rounded = math.floor(size + 0.5)  # Go's math.Round for non-negative values
    return rounded - util.replicas_of(rs)


def _proportion(rs: apps.ReplicaSet, d: apps.Deployment, to_add: int, added: int) -> int:
    if util.replicas_of(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def plan(d: apps.Deployment, rss: list[apps.ReplicaSet]) -> list[tuple[apps.ReplicaSet, int]]:
    """The new size of each active ReplicaSet of a rolling Deployment being scaled."""
    act = util.active(rss)
    desired = util.replicas_of(d)
    allowed = desired + util.max_surge(d) if desired > 0 else 0
    to_add = allowed - util.replicas_sum(act)
    if to_add > 0:
        act.sort(key=lambda rs: (-util.replicas_of(rs), -util.created_at(rs)))
    elif to_add < 0:
        act.sort(key=lambda rs: (-util.replicas_of(rs), util.created_at(rs)))
    sizes: list[int] = []
    added = 0
    for rs in act:
        size = util.replicas_of(rs)
        if to_add != 0:
            share = _proportion(rs, d, to_add, added)
            size += share
            added += share
        sizes.append(size)
    if added != to_add and sizes:
        # The rounding leftover goes to the first (largest) ReplicaSet.
        sizes[0] = max(sizes[0] + to_add - added, 0)
    return list(zip(act, sizes, strict=True))


async def scale(ctl: DeploymentController, ro: Rollout) -> None:
    d = ro.d
    only = find_active_or_latest(ro.new_rs, ro.old_rss)
    if only is not None:
        if util.replicas_of(only) != util.replicas_of(d):
            await ctl.scale_rs(ro, only, util.replicas_of(d))
        return
    if is_saturated(d, ro.new_rs):
        for rs in util.active(ro.old_rss):
            await ctl.scale_rs(ro, rs, 0)
        return
    if d.spec.strategy.type != "RollingUpdate":
        return
    for rs, size in plan(d, ro.all_rss):
        await ctl.scale_rs(ro, rs, size)
