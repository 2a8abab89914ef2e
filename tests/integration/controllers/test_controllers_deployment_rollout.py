"""Deployments against the real apiserver, scheduler and hollow nodes: rollout, scale, undo, Recreate."""

from __future__ import annotations

import msgspec

from hw.testbed.hollow import HollowCluster
from master.api import apps, core
from master.api import helpers as api_helpers
from master.client.rest import ApiClient
from master.controllers.deployment import util
from master.scheduler.scheduler import Scheduler
from tests.integration.controllers.conftest import StartManager, deployment, pods_of, wait_for


async def rolled_out(client: ApiClient, name: str, replicas: int) -> apps.Deployment | None:
    d = await client.get(apps.Deployment, name)
    st = d.status
    if (d.metadata.generation <= st.observed_generation and st.updated_replicas == replicas
            and st.replicas == replicas and st.available_replicas == replicas):
        return d
    return None


async def test_rollout_scale_and_undo(
    client: ApiClient, hollow: HollowCluster, scheduler: Scheduler, start_manager: StartManager
) -> None:
    await hollow.add_nodes(3)
    await start_manager(controllers=("replicaset", "deployment"))
    await client.create(deployment("web", 3, image="busybox:1"))
    d = await wait_for(lambda: rolled_out(client, "web", 3))
    assert d.metadata.annotations[util.REVISION_ANNOTATION] == "1"
    conds = {c.type: c for c in d.status.conditions}
    assert conds["Available"].status == "True"
    assert conds["Progressing"].reason == "NewReplicaSetAvailable"
    rs1 = (await client.list(apps.ReplicaSet, namespace="default")).items
    assert len(rs1) == 1 and rs1[0].metadata.name.startswith("web-")
    pod_hash = rs1[0].metadata.labels[util.POD_TEMPLATE_HASH_LABEL]
    assert rs1[0].metadata.name == f"web-{pod_hash}"
    pods = await pods_of(client, "app=web")
    assert len(pods) == 3 and all(p.metadata.labels[util.POD_TEMPLATE_HASH_LABEL] == pod_hash for p in pods)

    # Update the image: a second ReplicaSet, revision 2, old one scaled to 0.
    d = await client.get(apps.Deployment, "web")
    spec = msgspec.structs.replace(d.spec, template=msgspec.structs.replace(
        d.spec.template, spec=msgspec.structs.replace(
            d.spec.template.spec, containers=[msgspec.structs.replace(d.spec.template.spec.containers[0],
                                                                       image="busybox:2")])))
    await client.update(msgspec.structs.replace(d, spec=spec))
    d = await wait_for(lambda: rolled_out(client, "web", 3))
    assert d.metadata.annotations[util.REVISION_ANNOTATION] == "2"

    async def old_scaled_down() -> bool:
        rss = (await client.list(apps.ReplicaSet, namespace="default")).items
        by_rev = {util.revision_of(rs): rs for rs in rss}
        return len(rss) == 2 and by_rev[1].spec.replicas == 0 and by_rev[2].spec.replicas == 3

    await wait_for(old_scaled_down)

    # Scale.
    await client.scale(apps.Deployment, "web", 5)
    await wait_for(lambda: rolled_out(client, "web", 5))

    # Undo the way kubectl does: the older ReplicaSet's template, patched in.
    rss = (await client.list(apps.ReplicaSet, namespace="default")).items
    old = next(rs for rs in rss if util.revision_of(rs) == 1)
    tmpl = msgspec.to_builtins(old.spec.template)
    tmpl["metadata"]["labels"].pop(util.POD_TEMPLATE_HASH_LABEL)
    await client.patch(apps.Deployment, "web", [{"op": "replace", "path": "/spec/template", "value": tmpl}],
                       patch_type="json")
    d = await wait_for(lambda: rolled_out(client, "web", 5))

    async def undone() -> bool:
        rss = (await client.list(apps.ReplicaSet, namespace="default")).items
        by_name = {rs.metadata.name: rs for rs in rss}
        back = by_name[old.metadata.name]
        return (len(rss) == 2 and util.revision_of(back) == 3 and back.spec.replicas == 5
                and back.metadata.annotations.get(util.REVISION_HISTORY_ANNOTATION) == "1")

    await wait_for(undone)
    d = await client.get(apps.Deployment, "web")
    assert d.metadata.annotations[util.REVISION_ANNOTATION] == "3"
    pods = [p for p in await pods_of(client, "app=web") if not p.metadata.deletion_timestamp]
    assert {p.spec.containers[0].image for p in pods} == {"busybox:1"}


async def test_recreate_and_history_limit(
    client: ApiClient, hollow: HollowCluster, scheduler: Scheduler, start_manager: StartManager
) -> None:
    await hollow.add_nodes(2)
    await start_manager(controllers=("replicaset", "deployment"))
    d = deployment("batch", 2, image="img:0", revision_history_limit=1)
    d.spec.strategy = apps.DeploymentStrategy(type="Recreate")
    await client.create(d)
    await wait_for(lambda: rolled_out(client, "batch", 2))
    for i in (1, 2):
        cur = await client.get(apps.Deployment, "batch")
        await client.patch(apps.Deployment, "batch", {"spec": {"template": {"spec": {"containers": [
            {"name": "c", "image": f"img:{i}"}]}}}}, patch_type="strategic")
        assert cur is not None
        await wait_for(lambda: rolled_out(client, "batch", 2))

    async def history_trimmed() -> bool:
        rss = (await client.list(apps.ReplicaSet, namespace="default")).items
        return sorted(util.revision_of(rs) for rs in rss) == [2, 3]

    await wait_for(history_trimmed)
    pods = [p for p in await pods_of(client, "app=batch") if not p.metadata.deletion_timestamp]
    assert {p.spec.containers[0].image for p in pods} == {"img:2"}
    assert all(api_helpers.is_pod_ready(p) for p in pods)
    assert all(p.status.phase == "Running" for p in pods)
    assert isinstance(pods[0], core.Pod)
