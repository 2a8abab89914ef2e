"""Cascading deletion (background, foreground, orphan) and namespace deletion, against the real apiserver."""

from __future__ import annotations

from hw.testbed.hollow import HollowCluster
from master.api import apps, core, meta
from master.client import errors
from master.client.rest import ApiClient
from master.scheduler.scheduler import Scheduler
from tests.integration.controllers.conftest import StartManager, deployment, pods_of, wait_for

WORKLOADS = ("replicaset", "deployment", "garbagecollector")


async def ready_pods(client: ApiClient, selector: str, n: int, namespace: str = "default") -> bool:
    pods = [p for p in await pods_of(client, selector, namespace) if p.status.phase == "Running"]
    return len(pods) == n


async def gone(client: ApiClient, cls: type, name: str, namespace: str = "default") -> bool:
    try:
        await client.get(cls, name, namespace=namespace)
        return False
    except errors.NotFound:
        return True


async def count(client: ApiClient, cls: type, selector: str, namespace: str = "default") -> int:
    return len((await client.list(cls, namespace=namespace, label_selector=selector)).items)


async def test_background_foreground_and_orphan(
    client: ApiClient, hollow: HollowCluster, scheduler: Scheduler, start_manager: StartManager
) -> None:
    await hollow.add_nodes(2)
    await start_manager(controllers=WORKLOADS)
    for name in ("bg", "fg", "orph"):
        await client.create(deployment(name, 2))
    for name in ("bg", "fg", "orph"):
        await wait_for(lambda name=name: ready_pods(client, f"app={name}", 2))

    # Background (kubectl's default): the Deployment goes at once, then its ReplicaSet and pods.
    await client.delete(apps.Deployment, "bg", propagation_policy="Background")
    assert await gone(client, apps.Deployment, "bg")

    async def bg_done() -> bool:
        return await count(client, apps.ReplicaSet, "app=bg") == 0 and await count(client, core.Pod, "app=bg") == 0

    await wait_for(bg_done)

    # Foreground: the Deployment stays (foregroundDeletion) until its dependents are gone.
    d = await client.delete(apps.Deployment, "fg", propagation_policy="Foreground")
    assert d is not None and "foregroundDeletion" in d.metadata.finalizers and d.metadata.deletion_timestamp

    async def fg_done() -> bool:
        if not await gone(client, apps.Deployment, "fg"):
            # While it exists, it must not outlive its ReplicaSet by a foreground guarantee.
            return False
        return await count(client, apps.ReplicaSet, "app=fg") == 0 and await count(client, core.Pod, "app=fg") == 0

    await wait_for(fg_done)

    # Orphan: the Deployment goes, its ReplicaSet and pods stay, without the ownerReference.
    await client.delete(apps.Deployment, "orph", propagation_policy="Orphan")
    await wait_for(lambda: gone(client, apps.Deployment, "orph"))
    rss = (await client.list(apps.ReplicaSet, namespace="default", label_selector="app=orph")).items
    assert len(rss) == 1 and not rss[0].metadata.owner_references
    assert await count(client, core.Pod, "app=orph") == 2


async def test_dangling_owner_reference_is_collected(client: ApiClient, start_manager: StartManager) -> None:
    await start_manager(controllers=("garbagecollector",))
    owner = await client.create(core.ConfigMap(metadata=meta.ObjectMeta(name="owner", namespace="default")))
    ref = meta.OwnerReference(api_version="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid)
    await client.create(core.ConfigMap(metadata=meta.ObjectMeta(name="dep", namespace="default",
                                                                owner_references=[ref])))
    ghost = meta.OwnerReference(api_version="v1", kind="ConfigMap", name="ghost", uid="00000000-0000-0000-0000-000000000000")
    await client.create(core.ConfigMap(metadata=meta.ObjectMeta(name="dep-of-ghost", namespace="default",
                                                                owner_references=[ghost])))
    await wait_for(lambda: gone(client, core.ConfigMap, "dep-of-ghost"))
    assert not await gone(client, core.ConfigMap, "dep")
    await client.delete(core.ConfigMap, "owner")
    await wait_for(lambda: gone(client, core.ConfigMap, "dep"))


async def test_namespace_deletion(
    client: ApiClient, hollow: HollowCluster, scheduler: Scheduler, start_manager: StartManager
) -> None:
    await hollow.add_nodes(2)
    await start_manager(controllers=(*WORKLOADS, "namespace", "serviceaccount"))
    await client.create(core.Namespace(metadata=meta.ObjectMeta(name="doomed")))
    await client.create(deployment("app", 2, namespace="doomed"))
    await client.create(core.ConfigMap(metadata=meta.ObjectMeta(name="cfg", namespace="doomed")))
    await wait_for(lambda: ready_pods(client, "app=app", 2, "doomed"))

    ns = await client.delete(core.Namespace, "doomed")
    assert ns is not None and ns.status.phase == "Terminating"
    await wait_for(lambda: gone(client, core.Namespace, "doomed"), within=60)
    for cls in (apps.Deployment, apps.ReplicaSet, core.Pod, core.ConfigMap, core.ServiceAccount):
        assert (await client.list(cls, namespace="doomed")).items == []
