"""PodTopologySpread: filter (DoNotSchedule) and score (ScheduleAnyway), table cases."""

from __future__ import annotations

import pytest

from master.api import core, meta
from master.scheduler.framework.registry import PluginArgsError
from master.scheduler.plugins import pod_topology_spread
from master.scheduler.plugins.pod_topology_spread import MISSING_LABEL_REASON, REASON
from tests.unit.master.scheduler.sched_testing import FakeHandle, make_node, make_pod, run_filter, run_score

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"
APP = {"app": "web"}


def spread(key: str, max_skew: int = 1, when: str = "DoNotSchedule", **kw: object) -> core.TopologySpreadConstraint:
    return core.TopologySpreadConstraint(
        max_skew=max_skew, topology_key=key, when_unsatisfiable=when,
        label_selector=meta.LabelSelector(match_labels=APP), **kw,  # type: ignore[arg-type]
    )


def cluster(counts: dict[str, int], zones: dict[str, str], **node_kw: object) -> FakeHandle:
    """Nodes named by ``zones`` (node -> zone; "" for no zone label) with ``counts`` matching pods."""
    nodes = [make_node(n, labels={ZONE: z} if z else {}, **node_kw) for n, z in zones.items()]  # type: ignore[arg-type]
    pods = [make_pod(f"{n}-{i}", node=n, labels=APP) for n, c in counts.items() for i in range(c)]
    return FakeHandle(nodes, pods)


@pytest.mark.parametrize(
    ("counts", "max_skew", "fits"),
    [
        pytest.param({"a1": 2, "c1": 1}, 1, {"b1"}, id="only-emptiest-zone"),
        pytest.param({"a1": 1, "b1": 1, "c1": 1}, 1, {"a1", "b1", "c1"}, id="even"),
        pytest.param({"a1": 2, "c1": 1}, 2, {"b1", "c1"}, id="skew-two"),
        pytest.param({}, 1, {"a1", "b1", "c1"}, id="empty"),
    ],
)
def test_zone_filter(counts: dict[str, int], max_skew: int, fits: set[str]) -> None:
    handle = cluster(counts, {"a1": "a", "b1": "b", "c1": "c", "x": ""})
    plugin = pod_topology_spread.new({}, handle)
    pod = make_pod(labels=APP, topology_spread_constraints=[spread(ZONE, max_skew)])
    got = run_filter(plugin, pod, handle.node_infos())
    assert {n for n, r in got.items() if not r} == fits
    assert got["x"] == MISSING_LABEL_REASON
    assert {r for n, r in got.items() if r and n != "x"} <= {REASON}


def test_pod_not_matching_its_own_selector_does_not_add_itself() -> None:
    handle = cluster({"a1": 1}, {"a1": "a", "b1": "b"})
    plugin = pod_topology_spread.new({}, handle)
    other = make_pod(labels={"app": "other"}, topology_spread_constraints=[spread(ZONE)])
    assert run_filter(plugin, other, handle.node_infos()) == {"a1": "", "b1": ""}


def test_min_domains_counts_missing_domains_as_zero() -> None:
    handle = cluster({"a1": 1, "b1": 1}, {"a1": "a", "b1": "b"})
    plugin = pod_topology_spread.new({}, handle)
    pod = make_pod(labels=APP, topology_spread_constraints=[spread(ZONE, min_domains=3)])
    assert run_filter(plugin, pod, handle.node_infos()) == {"a1": REASON, "b1": REASON}


def test_hostname_and_namespaces_and_terminating() -> None:
    nodes = [make_node("n1"), make_node("n2")]
    pods = [
        make_pod("same", node="n1", labels=APP),
        make_pod("other-ns", node="n2", labels=APP, namespace="other"),
        make_pod("other-ns2", node="n2", labels=APP, namespace="other"),
    ]
    handle = FakeHandle(nodes, pods)
    plugin = pod_topology_spread.new({}, handle)
    pod = make_pod(labels=APP, topology_spread_constraints=[spread(HOST)])
    assert run_filter(plugin, pod, handle.node_infos()) == {"n1": REASON, "n2": ""}


def test_node_affinity_policy() -> None:
    """Nodes the pod cannot go to do not count as domains (Honor), unless Ignore."""
    handle = cluster({"a1": 1, "b1": 1}, {"a1": "a", "b1": "b", "c1": "c"})
    for n in ("a1", "b1"):
        info = handle.cache.node_info(n)
        assert info is not None and info.node is not None
        handle.cache.update_node(core.Node(
            metadata=meta.ObjectMeta(name=n, labels={**info.node.metadata.labels, "pool": "main"}),
            spec=info.node.spec, status=info.node.status,
        ))
    plugin = pod_topology_spread.new({}, handle)
    honor = make_pod(labels=APP, node_selector={"pool": "main"}, topology_spread_constraints=[spread(ZONE)])
    assert run_filter(plugin, honor, handle.node_infos()) == {"a1": "", "b1": "", "c1": ""}
    ignore = make_pod(labels=APP, node_selector={"pool": "main"},
                      topology_spread_constraints=[spread(ZONE, node_affinity_policy="Ignore")])
    assert run_filter(plugin, ignore, handle.node_infos()) == {"a1": REASON, "b1": REASON, "c1": ""}


def test_match_label_keys() -> None:
    v1 = {"app": "web", "rev": "1"}
    handle = FakeHandle([make_node("n1"), make_node("n2")], [make_pod("old", node="n1", labels=v1)])
    plugin = pod_topology_spread.new({}, handle)
    c = spread(HOST, match_label_keys=["rev"])
    assert run_filter(plugin, make_pod(labels={"app": "web", "rev": "2"}, topology_spread_constraints=[c]),
                      handle.node_infos()) == {"n1": "", "n2": ""}
    assert run_filter(plugin, make_pod(labels=v1, topology_spread_constraints=[c]),
                      handle.node_infos()) == {"n1": REASON, "n2": ""}


def test_no_constraints_skip() -> None:
    handle = cluster({}, {"a1": "a"})
    plugin = pod_topology_spread.new({}, handle)
    assert run_filter(plugin, make_pod(), handle.node_infos()) == {"a1": ""}
    assert run_score(plugin, make_pod(), handle.node_infos()) is None


def test_score_prefers_emptier_domains() -> None:
    handle = cluster({"a1": 3, "b1": 1}, {"a1": "a", "b1": "b", "c1": "c", "x": ""})
    plugin = pod_topology_spread.new({}, handle)
    pod = make_pod(labels=APP, topology_spread_constraints=[spread(ZONE, when="ScheduleAnyway")])
    scores = run_score(plugin, pod, handle.node_infos())
    assert scores is not None
    assert scores["c1"] == 100 and scores["c1"] > scores["b1"] > scores["a1"]
    assert scores["x"] == 0, "nodes without the topology key are not scored"


def test_score_hostname_counts_the_node_itself() -> None:
    handle = cluster({"n1": 2, "n2": 1}, {"n1": "", "n2": "", "n3": ""})
    plugin = pod_topology_spread.new({}, handle)
    pod = make_pod(labels=APP, topology_spread_constraints=[spread(HOST, when="ScheduleAnyway")])
    scores = run_score(plugin, pod, handle.node_infos())
    assert scores is not None and scores["n3"] == 100 and scores["n3"] > scores["n2"] > scores["n1"]


def test_args() -> None:
    assert pod_topology_spread.new({"defaultingType": "List", "defaultConstraints": []}, FakeHandle())
    with pytest.raises(PluginArgsError, match="only defaultingType List"):
        pod_topology_spread.new({"defaultingType": "System"}, FakeHandle())
