"""Recreate: scale every old ReplicaSet to 0, wait until their pods are gone, then scale the new one up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from master.api import apps, core
from master.controllers.deployment import util

if TYPE_CHECKING:
    from master.controllers.deployment.controller import DeploymentController

__all__ = ["old_pods_running", "rollout_recreate"]


def old_pods_running(
    new_rs: apps.ReplicaSet | None, old_rss: list[apps.ReplicaSet], pods: dict[str, list[core.Pod]]
) -> bool:
    """Whether any pod of an old ReplicaSet may still run (terminating ones included).

    ``pods`` maps ReplicaSet uid -> its pods.
    """
    if util.actual_sum(old_rss) > 0:
        return True
    new_uid = new_rs.metadata.uid if new_rs is not None else ""
    for uid, rs_pods in pods.items():
        if uid == new_uid:
            continue
        for pod in rs_pods:
            if pod.status.phase not in ("Failed", "Succeeded"):
                return True
    return False


async def rollout_recreate(
    ctl: DeploymentController,
    d: apps.Deployment,
    rss: list[apps.ReplicaSet],
    pods: dict[str, list[core.Pod]],
) -> float | None:
    ro = await ctl.get_all_replica_sets(d, rss, create=False)
    scaled = False
    for rs in util.active(ro.old_rss):
        await ctl.scale_rs(ro, rs, 0)
        scaled = True
    if scaled:
        return await ctl.sync_rollout_status(ro)
    if old_pods_running(ro.new_rs, ro.old_rss, pods):
        return await ctl.sync_rollout_status(ro)
    if ro.new_rs is None:
        ro = await ctl.get_all_replica_sets(ro.d, rss, create=True)
    if ro.new_rs is not None and util.replicas_of(ro.new_rs) != util.replicas_of(ro.d):
        await ctl.scale_rs(ro, ro.new_rs, util.replicas_of(ro.d))
    if util.is_complete(ro.d, ro.d.status):
        await ctl.cleanup(ro)
    return await ctl.sync_rollout_status(ro)
