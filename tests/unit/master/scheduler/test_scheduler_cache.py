"""SchedulerCache: assume/forget/confirm, node accounting, zone order, images."""

from __future__ import annotations

import pytest

from master.scheduler.cache import SchedulerCache
from master.scheduler.framework.types import PodInfo
from tests.unit.master.scheduler.sched_testing import make_node, make_pod

ZONE = "topology.kubernetes.io/zone"


def test_assume_then_confirm() -> None:
    cache = SchedulerCache()
    cache.add_node(make_node("n1", cpu="4"))
    pod = make_pod("p", cpu="1")
    cache.assume(PodInfo(pod), "n1")
    info = cache.node_info("n1")
    assert info is not None and info.requested.milli_cpu == 1000 and cache.is_assumed("default/p")
    with pytest.raises(ValueError, match="already in the scheduler cache"):
        cache.assume(PodInfo(pod), "n1")
    cache.finish_binding("default/p")
    cache.add_pod(make_pod("p", cpu="1", node="n1"))
    assert not cache.is_assumed("default/p") and info.requested.milli_cpu == 1000 and len(info.pods) == 1
    cache.forget("default/p")  # a confirmed pod is not forgotten
    assert info.requested.milli_cpu == 1000


def test_forget_frees_resources() -> None:
    cache = SchedulerCache()
    cache.add_node(make_node("n1"))
    cache.assume(PodInfo(make_pod("p", cpu="1", host_ports=[80])), "n1")
    cache.forget("default/p")
    info = cache.node_info("n1")
    assert info is not None and info.requested.milli_cpu == 0 and not info.pods and not info.used_ports
    assert cache.pod_count() == 0


def test_assumed_pod_confirmed_on_another_node_moves() -> None:
    cache = SchedulerCache()
    cache.add_node(make_node("n1"))
    cache.add_node(make_node("n2"))
    cache.assume(PodInfo(make_pod("p", cpu="1")), "n1")
    cache.add_pod(make_pod("p", cpu="1", node="n2"))
    n1, n2 = cache.node_info("n1"), cache.node_info("n2")
    assert n1 is not None and n2 is not None
    assert n1.requested.milli_cpu == 0 and n2.requested.milli_cpu == 1000


def test_pods_before_nodes_and_node_deletion() -> None:
    cache = SchedulerCache()
    cache.add_pod(make_pod("p", cpu="1", node="late"))
    assert cache.node_infos() == [], "a node known only through pods is no candidate"
    cache.add_node(make_node("late"))
    info = cache.node_info("late")
    assert info is not None and [n.name for n in cache.node_infos()] == ["late"] and info.requested.milli_cpu == 1000
    cache.remove_node("late")
    assert cache.node_infos() == [] and cache.node_info("late") is not None, "kept while pods remain"
    cache.remove_pod(make_pod("p", node="late"))
    assert cache.node_info("late") is None


def test_update_pod_and_remove() -> None:
    cache = SchedulerCache()
    cache.add_node(make_node("n1"))
    old = make_pod("p", cpu="1", node="n1")
    new = make_pod("p", cpu="1", node="n1", labels={"x": "y"})
    cache.add_pod(old)
    cache.update_pod(old, new)
    info = cache.node_info("n1")
    assert info is not None and info.requested.milli_cpu == 1000
    assert info.pods["default/p"].pod is new
    cache.remove_pod(new)
    assert info.requested.milli_cpu == 0 and info.non_zero_cpu == 0


def test_zones_interleaved() -> None:
    cache = SchedulerCache()
    for name, zone in [("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b"), ("c1", "c"), ("c2", "c")]:
        cache.add_node(make_node(name, labels={ZONE: zone}))
    assert [n.name for n in cache.node_infos()] == ["a1", "b1", "c1", "a2", "c2", "a3"]
    cache.update_node(make_node("a3", labels={ZONE: "b"}))
    assert [n.name for n in cache.node_infos()] == ["a1", "a3", "c1", "a2", "b1", "c2"]


def test_image_counts() -> None:
    cache = SchedulerCache()
    cache.add_node(make_node("n1", images=[("busybox", 1)]))
    cache.add_node(make_node("n2", images=[("docker.io/library/busybox:latest", 1)]))
    assert cache.image_node_count("docker.io/library/busybox:latest") == 2
    cache.update_node(make_node("n2"))
    assert cache.image_node_count("docker.io/library/busybox:latest") == 1
    cache.remove_node("n1")
    assert cache.image_node_count("docker.io/library/busybox:latest") == 0


def test_deleting_an_assumed_pod_frees_the_node_and_respects_uids() -> None:
    cache = SchedulerCache()
    cache.add_node(make_node("n1"))
    cache.assume(PodInfo(make_pod("p", cpu="1", uid="u1")), "n1")
    cache.remove_pod(make_pod("p", uid="u2"))  # another pod of that name: not ours
    assert cache.is_assumed("default/p")
    cache.forget("default/p", "u2")
    assert cache.is_assumed("default/p")
    cache.remove_pod(make_pod("p", uid="u1"))
    info = cache.node_info("n1")
    assert info is not None and info.requested.milli_cpu == 0 and cache.pod_count() == 0
    cache.forget("default/p", "u1")  # the binding's failure afterwards is harmless
    assert cache.pod_count() == 0
