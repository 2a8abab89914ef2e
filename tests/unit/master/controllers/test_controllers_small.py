"""Namespace, nodeipam, serviceaccount and podgc controllers against the fake API."""

from __future__ import annotations

import ipaddress

import pytest

from master.api import core, meta, timefmt
from master.controllers.namespace import NamespaceController
from master.controllers.nodeipam import CidrSet, NodeIpamController
from master.controllers.podgc import OUT_OF_SERVICE_TAINT, PodGCController
from master.controllers.serviceaccount import ServiceAccountController
from tests.unit.master.controllers.harness import START, harness, node, pod


def namespace(name: str, *, deleting: bool = False) -> core.Namespace:
    ns = core.Namespace(metadata=meta.ObjectMeta(name=name), spec=core.NamespaceSpec(finalizers=["kubernetes"]),
                        status=core.NamespaceStatus(phase="Terminating" if deleting else "Active"))
    if deleting:
        ns.metadata.deletion_timestamp = timefmt.format_time(START)
    return ns


async def test_namespace_contents_then_finalize() -> None:
    h = harness(namespace_recheck_period=2.0)
    ctl = NamespaceController(h.ctx)
    held = core.ConfigMap(metadata=meta.ObjectMeta(name="held", namespace="gone", finalizers=["example.com/hold"]))
    h.load(namespace("gone", deleting=True), pod("p", namespace="gone"),
           core.ConfigMap(metadata=meta.ObjectMeta(name="c", namespace="gone")), held,
           core.ConfigMap(metadata=meta.ObjectMeta(name="other", namespace="kept")))
    assert await ctl.sync("gone") == 2.0, "a finalizer holds a ConfigMap"
    ns = h.api.get_now(core.Namespace, "gone")
    assert ns is not None and ns.status.conditions[0].type == "NamespaceContentRemaining"
    assert "configmaps has 1 resource instances" in ns.status.conditions[0].message
    assert h.api.get_now(core.Pod, "p", "gone") is None
    await h.api.patch(core.ConfigMap, "held", {"metadata": {"finalizers": None}}, namespace="gone")
    h.sync_caches()
    assert await ctl.sync("gone") is None
    assert h.api.get_now(core.Namespace, "gone") is None, "finalized and removed"
    assert h.api.get_now(core.ConfigMap, "other", "kept") is not None


async def test_active_namespace_is_left_alone() -> None:
    h = harness()
    ctl = NamespaceController(h.ctx)
    h.load(namespace("live"))
    assert await ctl.sync("live") is None
    assert h.api.writes() == []


@pytest.mark.parametrize(
    ("cluster", "mask", "count"),
    [pytest.param("10.244.0.0/16", 24, 256, id="default"), pytest.param("10.0.0.0/30", 32, 4, id="tiny")],
)
def test_cidr_set(cluster: str, mask: int, count: int) -> None:
    s = CidrSet(ipaddress.IPv4Network(cluster), mask)
    got = [s.allocate() for _ in range(count)]
    assert len(set(got)) == count and s.allocate() is None
    s.release(got[1])
    assert s.allocate() == got[1]
    assert not s.occupy("192.168.0.0/24")


def test_cidr_set_round_robin_and_occupy() -> None:
    s = CidrSet(ipaddress.IPv4Network("10.244.0.0/16"), 24)
    assert s.occupy("10.244.0.0/24")
    assert s.allocate() == "10.244.1.0/24"
    s.release("10.244.1.0/24")
    assert s.allocate() == "10.244.2.0/24", "a just-released block is not handed out next"


async def test_nodeipam_allocates_keeps_and_releases() -> None:
    h = harness(cluster_cidr="10.244.0.0/23")
    ctl = NodeIpamController(h.ctx)
    h.load(node("old", pod_cidr="10.244.0.0/24"), node("new"))
    for n in ctl.nodes.cache.list():  # what run() does before the workers start
        ctl._occupy(n)
    await ctl.sync("new")
    new = h.api.get_now(core.Node, "new")
    assert new is not None and (new.spec.pod_cidr, new.spec.pod_cidrs) == ("10.244.1.0/24", ["10.244.1.0/24"])
    h.load(node("third"))
    assert await ctl.sync("third") == 30.0
    assert h.recorder.reasons() == ["CIDRNotAvailable"]
    await h.api.delete(core.Node, "old")
    h.sync_caches()
    await ctl.sync("old")
    assert await ctl.sync("third") is None
    third = h.api.get_now(core.Node, "third")
    assert third is not None and third.spec.pod_cidr == "10.244.0.0/24"


async def test_serviceaccount_default_in_active_namespaces() -> None:
    h = harness()
    ctl = ServiceAccountController(h.ctx)
    h.load(namespace("a"), namespace("b", deleting=True),
           core.ServiceAccount(metadata=meta.ObjectMeta(name="default", namespace="c")), namespace("c"))
    for ns in ("a", "b", "c", "missing"):
        await ctl.sync(ns)
    assert h.api.writes() == ["create ServiceAccount a/default"]


async def test_podgc() -> None:
    h = harness(terminated_pod_gc_threshold=2, orphaned_pod_quarantine=40.0)
    ctl = PodGCController(h.ctx)
    done = []
    for i in range(4):
        p = pod(f"done-{i}", node="n", phase="Failed" if i % 2 else "Succeeded")
        p.metadata.creation_timestamp = timefmt.format_time(START - 100 + i)
        done.append(p)
    unscheduled = pod("leaving")
    unscheduled.metadata.deletion_timestamp = timefmt.format_time(START)
    stuck = pod("stuck", node="dead", phase="Running")
    stuck.metadata.deletion_timestamp = timefmt.format_time(START)
    h.load(node("n"), node("dead", ready="False", taints=[core.Taint(key=OUT_OF_SERVICE_TAINT, effect="NoExecute")]),
           *done, unscheduled, stuck, pod("orphan", node="vanished", phase="Running"))
    assert await ctl.sync("pass") == 20.0
    names = {p.metadata.name for p in h.api.all(core.Pod)}
    assert names == {"done-2", "done-3", "orphan"}, "oldest terminated, unscheduled and out-of-service ones go"
    await h.clock.advance(41)
    await ctl.sync("pass")
    assert {p.metadata.name for p in h.api.all(core.Pod)} == {"done-2", "done-3"}
    deletes = [a for a in h.api.actions if a.verb == "delete"]
    assert all(a.detail["grace"] == 0 for a in deletes)
