"""Garbage collector: the ownership graph, and attempt-to-delete / attempt-to-orphan against the fake API."""

from __future__ import annotations

from master.api import apps, core, meta, timefmt
from master.api import helpers as api_helpers
from master.controllers.garbagecollector.collector import GarbageCollector
from master.controllers.garbagecollector.graph import Graph
from tests.unit.master.controllers.harness import START, Harness, harness, pod

NAMESPACED = {("apps/v1", "ReplicaSet"): True, ("v1", "Node"): False}


def cm(name: str, *owners: meta.Object, uid: str = "", block: bool = False) -> core.ConfigMap:
    refs = [meta.OwnerReference(api_version=o.api_version, kind=o.kind, name=o.metadata.name, uid=o.metadata.uid,
                                block_owner_deletion=block or None) for o in owners]
    return core.ConfigMap(metadata=meta.ObjectMeta(name=name, namespace="default", uid=uid or f"uid-configmap-{name}",
                                                   owner_references=refs))


def test_graph_virtual_owner_then_observed_then_removed() -> None:
    g = Graph()
    owner = cm("owner")
    dep = cm("dep", owner)
    work = g.upsert(dep, {})
    assert work.delete == {"uid-configmap-owner"}, "verify the virtual owner first"
    assert g.get("uid-configmap-owner").virtual  # type: ignore[union-attr]
    work = g.upsert(owner, {})
    assert not g.get("uid-configmap-owner").virtual  # type: ignore[union-attr]
    assert g.get("uid-configmap-owner").dependents == {"uid-configmap-dep"}  # type: ignore[union-attr]
    work = g.remove("uid-configmap-owner")
    assert work.delete == {"uid-configmap-dep"}
    assert "uid-configmap-owner" in g.absent


def test_graph_foreground_and_orphan_flags() -> None:
    g = Graph()
    owner = cm("owner")
    g.upsert(owner, {})
    g.upsert(cm("dep", owner, block=True), {})
    deleting = cm("owner")
    deleting.metadata.deletion_timestamp = timefmt.format_time(START)
    deleting.metadata.finalizers = ["foregroundDeletion"]
    work = g.upsert(deleting, {})
    assert work.delete == {"uid-configmap-owner", "uid-configmap-dep"}
    assert [d.identity.name for d in g.blocking_dependents("uid-configmap-owner")] == ["dep"]
    deleting.metadata.finalizers = ["orphan"]
    assert g.upsert(deleting, {}).orphan == {"uid-configmap-owner"}


def test_graph_owner_references_change() -> None:
    g = Graph()
    a, b = cm("a"), cm("b")
    g.upsert(a, {})
    g.upsert(b, {})
    g.upsert(cm("dep", a), {})
    g.upsert(cm("dep", b), {})
    assert g.get("uid-configmap-a").dependents == set()  # type: ignore[union-attr]
    assert g.get("uid-configmap-b").dependents == {"uid-configmap-dep"}  # type: ignore[union-attr]


def test_graph_cluster_scoped_owner_has_no_namespace() -> None:
    g = Graph()
    node = core.Node(metadata=meta.ObjectMeta(name="pi-1", uid="uid-node"))
    lease = cm("lease", node)
    g.upsert(lease, NAMESPACED)
    assert g.get("uid-node").identity.namespace == ""  # type: ignore[union-attr]


def setup(*objs: meta.Object) -> tuple[Harness, GarbageCollector]:
    h = harness()
    gc = GarbageCollector(h.ctx)
    h.load(*objs)
    return h, gc


async def drain(h: Harness, gc: GarbageCollector, rounds: int = 5) -> None:
    """Run the queued keys of both loops (as workers would), a few rounds."""
    for _ in range(rounds):
        h.sync_caches()
        for loop, fn in ((gc.delete_loop, gc.sync_delete), (gc.orphan_loop, gc.sync_orphan)):
            while len(loop.queue):
                key = await loop.queue.get()
                assert key is not None
                try:
                    await fn(key)
                finally:
                    loop.queue.done(key)


async def test_dependents_of_a_gone_owner_are_deleted_in_the_background() -> None:
    owner = cm("owner")
    h, gc = setup(owner, cm("dep", owner), cm("grandchild", cm("dep")))
    await drain(h, gc)
    assert h.api.get_now(core.ConfigMap, "dep", "default") is not None
    await h.api.delete(core.ConfigMap, "owner", namespace="default")
    await drain(h, gc)
    assert h.api.all(core.ConfigMap) == []
    deletes = [a for a in h.api.actions if a.verb == "delete" and a.key != "default/owner"]
    assert {a.detail["policy"] for a in deletes} == {"Background"}


async def test_a_solid_owner_keeps_the_dependent_and_dangling_refs_go() -> None:
    alive = cm("alive")
    ghost = cm("ghost", uid="uid-ghost")
    h, gc = setup(alive, cm("dep", alive, ghost))
    await drain(h, gc)
    dep = h.api.get_now(core.ConfigMap, "dep", "default")
    assert dep is not None and [r.name for r in dep.metadata.owner_references] == ["alive"]


async def test_namesake_with_another_uid_is_not_the_owner() -> None:
    impostor = cm("owner", uid="uid-new")
    h, gc = setup(impostor, cm("dep", cm("owner", uid="uid-old")))
    await drain(h, gc)
    assert h.api.get_now(core.ConfigMap, "dep", "default") is None


async def test_foreground_deletion() -> None:
    rs = apps.ReplicaSet(metadata=meta.ObjectMeta(name="rs", namespace="default", uid="uid-rs"),
                         spec=apps.ReplicaSetSpec(replicas=1))
    h, gc = setup(rs)
    p = pod("p", owner=rs)
    h.load(p)
    await drain(h, gc)
    await h.api.delete(apps.ReplicaSet, "rs", namespace="default", propagation_policy="Foreground")
    owner = h.api.get_now(apps.ReplicaSet, "rs", "default")
    assert owner is not None and owner.metadata.finalizers == ["foregroundDeletion"]
    await drain(h, gc, rounds=1)
    assert h.api.get_now(core.Pod, "p", "default") is None, "the blocking dependent is deleted"
    await drain(h, gc)
    assert h.api.get_now(apps.ReplicaSet, "rs", "default") is None, "then the finalizer goes, and the owner"


async def test_orphan_deletion() -> None:
    rs = apps.ReplicaSet(metadata=meta.ObjectMeta(name="rs", namespace="default", uid="uid-rs"),
                         spec=apps.ReplicaSetSpec(replicas=1))
    h, gc = setup(rs)
    h.load(pod("p", owner=rs))
    await drain(h, gc)
    await h.api.delete(apps.ReplicaSet, "rs", namespace="default", propagation_policy="Orphan")
    await drain(h, gc)
    assert h.api.get_now(apps.ReplicaSet, "rs", "default") is None
    left = h.api.get_now(core.Pod, "p", "default")
    assert left is not None and api_helpers.controller_ref(left) is None


async def test_unknown_owner_kind_keeps_the_dependent() -> None:
    odd = meta.OwnerReference(api_version="example.com/v1", kind="Widget", name="w", uid="uid-w")
    dep = core.ConfigMap(metadata=meta.ObjectMeta(name="dep", namespace="default", owner_references=[odd]))
    h, gc = setup(dep)
    await drain(h, gc)
    assert h.api.get_now(core.ConfigMap, "dep", "default") is not None
