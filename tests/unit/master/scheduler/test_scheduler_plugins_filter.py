"""Filter plugins, table cases: which nodes fit and with which reason."""

from __future__ import annotations

from typing import Any

import pytest

from master.api import core, meta
from master.scheduler.plugins import (
    node_affinity,
    node_name,
    node_ports,
    node_unschedulable,
    taint_toleration,
)
from master.scheduler.plugins.noderesources import fit
from master.scheduler.plugins.noderesources.fit import FitArgs
from tests.unit.master.scheduler.sched_testing import make_node, make_pod, node_info, run_filter

NO_SCHEDULE = core.Taint(key="dedicated", value="gpu", effect="NoSchedule")
NO_EXECUTE = core.Taint(key="node.kubernetes.io/unreachable", effect="NoExecute")
PREFER = core.Taint(key="spot", value="true", effect="PreferNoSchedule")


@pytest.mark.parametrize(
    ("tolerations", "taints", "reason"),
    [
        pytest.param([], [], "", id="no-taints"),
        pytest.param([], [NO_SCHEDULE], "node(s) had untolerated taint {dedicated: gpu}", id="untolerated"),
        pytest.param([], [PREFER], "", id="prefer-no-schedule-does-not-filter"),
        pytest.param([], [NO_EXECUTE], "node(s) had untolerated taint {node.kubernetes.io/unreachable: }",
                     id="no-execute"),
        pytest.param([core.Toleration(key="dedicated", operator="Equal", value="gpu", effect="NoSchedule")],
                     [NO_SCHEDULE], "", id="equal"),
        pytest.param([core.Toleration(key="dedicated", value="gpu")], [NO_SCHEDULE], "", id="default-operator-equal"),
        pytest.param([core.Toleration(key="dedicated", value="cpu")], [NO_SCHEDULE],
                     "node(s) had untolerated taint {dedicated: gpu}", id="wrong-value"),
        pytest.param([core.Toleration(key="dedicated", operator="Exists")], [NO_SCHEDULE], "", id="exists-key"),
        pytest.param([core.Toleration(operator="Exists")], [NO_SCHEDULE, NO_EXECUTE], "", id="exists-all"),
        pytest.param([core.Toleration(key="dedicated", operator="Exists", effect="NoExecute")], [NO_SCHEDULE],
                     "node(s) had untolerated taint {dedicated: gpu}", id="wrong-effect"),
        pytest.param([core.Toleration(key="dedicated", operator="Exists")], [NO_SCHEDULE, NO_EXECUTE],
                     "node(s) had untolerated taint {node.kubernetes.io/unreachable: }", id="second-untolerated"),
    ],
)
def test_taint_toleration_filter(tolerations: list[core.Toleration], taints: list[core.Taint], reason: str) -> None:
    plugin = taint_toleration.new({}, None)  # type: ignore[arg-type]
    node = node_info(make_node("n1", taints=taints))
    assert run_filter(plugin, make_pod(tolerations=tolerations), [node]) == {"n1": reason}


@pytest.mark.parametrize(
    ("unschedulable", "tolerations", "reason"),
    [
        pytest.param(False, [], "", id="schedulable"),
        pytest.param(True, [], "node(s) were unschedulable", id="cordoned"),
        pytest.param(True, [core.Toleration(key="node.kubernetes.io/unschedulable", operator="Exists",
                                            effect="NoSchedule")], "", id="tolerated"),
    ],
)
def test_node_unschedulable(unschedulable: bool, tolerations: list[core.Toleration], reason: str) -> None:
    plugin = node_unschedulable.new({}, None)  # type: ignore[arg-type]
    node = node_info(make_node("n1", unschedulable=unschedulable))
    assert run_filter(plugin, make_pod(tolerations=tolerations), [node]) == {"n1": reason}


def test_node_name() -> None:
    plugin = node_name.new({}, None)  # type: ignore[arg-type]
    nodes = [node_info(make_node("a")), node_info(make_node("b"))]
    assert run_filter(plugin, make_pod(), nodes) == {"a": "", "b": ""}
    assert run_filter(plugin, make_pod(node="b"), nodes) == {
        "a": "node(s) didn't match the requested node name", "b": ""
    }


def req(key: str, op: str, *values: str) -> core.NodeSelectorRequirement:
    return core.NodeSelectorRequirement(key=key, operator=op, values=list(values))


def required(*terms: list[core.NodeSelectorRequirement]) -> core.Affinity:
    return core.Affinity(node_affinity=core.NodeAffinity(
        required_during_scheduling_ignored_during_execution=core.NodeSelector(
            node_selector_terms=[core.NodeSelectorTerm(match_expressions=t) for t in terms]
        )
    ))


NA_REASON = "node(s) didn't match Pod's node affinity/selector"


@pytest.mark.parametrize(
    ("spec", "fits"),
    [
        pytest.param({}, {"a", "b", "c"}, id="none"),
        pytest.param({"node_selector": {"disk": "ssd"}}, {"a"}, id="node-selector"),
        pytest.param({"node_selector": {"disk": "ssd", "zone": "z2"}}, set(), id="node-selector-all-keys"),
        pytest.param({"affinity": required([req("disk", "In", "ssd", "hdd")])}, {"a", "b"}, id="in"),
        pytest.param({"affinity": required([req("disk", "NotIn", "ssd")])}, {"b", "c"}, id="notin-includes-missing"),
        pytest.param({"affinity": required([req("disk", "Exists")])}, {"a", "b"}, id="exists"),
        pytest.param({"affinity": required([req("disk", "DoesNotExist")])}, {"c"}, id="does-not-exist"),
        pytest.param({"affinity": required([req("cores", "Gt", "4")])}, {"b"}, id="gt"),
        pytest.param({"affinity": required([req("cores", "Lt", "4")])}, {"a"}, id="lt"),
        pytest.param({"affinity": required([req("disk", "In", "ssd")], [req("zone", "In", "z3")])}, {"a", "c"},
                     id="terms-ored"),
        pytest.param({"affinity": required([req("disk", "In", "hdd"), req("zone", "In", "z1")])}, set(),
                     id="expressions-anded"),
        pytest.param({"affinity": required([req("disk", "In", "ssd")]), "node_selector": {"zone": "z2"}}, set(),
                     id="selector-and-affinity"),
        pytest.param({"affinity": required([])}, set(), id="empty-term-matches-nothing"),
    ],
)
def test_node_affinity_filter(spec: dict[str, Any], fits: set[str]) -> None:
    plugin = node_affinity.new({}, None)  # type: ignore[arg-type]
    nodes = [
        node_info(make_node("a", labels={"disk": "ssd", "zone": "z1", "cores": "2"})),
        node_info(make_node("b", labels={"disk": "hdd", "zone": "z2", "cores": "8"})),
        node_info(make_node("c", labels={"zone": "z3"})),
    ]
    got = run_filter(plugin, make_pod(**spec), nodes)
    assert {n for n, reason in got.items() if not reason} == fits
    assert {reason for reason in got.values() if reason} <= {NA_REASON}


def test_node_affinity_match_fields_and_added_affinity() -> None:
    nodes = [node_info(make_node("a", labels={"pool": "edge"})), node_info(make_node("b"))]
    by_name = core.Affinity(node_affinity=core.NodeAffinity(
        required_during_scheduling_ignored_during_execution=core.NodeSelector(node_selector_terms=[
            core.NodeSelectorTerm(match_fields=[req("metadata.name", "In", "b")])
        ])
    ))
    plugin = node_affinity.new({}, None)  # type: ignore[arg-type]
    assert run_filter(plugin, make_pod(affinity=by_name), nodes) == {"a": NA_REASON, "b": ""}
    added = {"addedAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "pool", "operator": "In", "values": ["edge"]}]}]
    }}}
    plugin = node_affinity.new(added, None)  # type: ignore[arg-type]
    assert run_filter(plugin, make_pod(), nodes) == {"a": "", "b": NA_REASON}


PORTS_REASON = "node(s) didn't have free ports for the requested pod ports"


@pytest.mark.parametrize(
    ("used", "wanted", "conflict"),
    [
        pytest.param([], [80], False, id="free"),
        pytest.param([80], [80], True, id="same-port"),
        pytest.param([80], [81], False, id="other-port"),
        pytest.param([("", "UDP", 53)], [("", "TCP", 53)], False, id="other-protocol"),
        pytest.param([("10.0.0.1", "TCP", 80)], [("10.0.0.2", "TCP", 80)], False, id="other-ip"),
        pytest.param([("10.0.0.1", "TCP", 80)], [("0.0.0.0", "TCP", 80)], True, id="wanted-wildcard"),
        pytest.param([80], [("10.0.0.2", "TCP", 80)], True, id="used-wildcard"),
        pytest.param([("10.0.0.1", "TCP", 80)], [("10.0.0.1", "TCP", 80)], True, id="same-ip"),
    ],
)
def test_node_ports(used: list[Any], wanted: list[Any], conflict: bool) -> None:
    plugin = node_ports.new({}, None)  # type: ignore[arg-type]
    node = node_info(make_node("n1"), make_pod("old", host_ports=used, node="n1"))
    assert run_filter(plugin, make_pod(host_ports=wanted), [node]) == {"n1": PORTS_REASON if conflict else ""}


def test_node_ports_freed_when_pod_removed() -> None:
    node = node_info(make_node("n1"), make_pod("old", host_ports=[80, 80], node="n1"))
    assert node.port_conflict([("0.0.0.0", "TCP", 80)])
    node.remove_pod("default/old")
    assert not node.port_conflict([("0.0.0.0", "TCP", 80)]) and node.used_ports == {}


@pytest.mark.parametrize(
    ("pod_kw", "existing", "reasons"),
    [
        pytest.param({"cpu": "1"}, [], "", id="fits"),
        pytest.param({"cpu": "3"}, [{"cpu": "1500m"}], "Insufficient cpu", id="cpu"),
        pytest.param({"cpu": "2500m"}, [{"cpu": "1500m"}], "", id="exactly-full"),
        pytest.param({"memory": "5Gi"}, [{"memory": "4Gi"}], "Insufficient memory", id="memory"),
        pytest.param({"cpu": "5", "memory": "9Gi"}, [], "Insufficient cpu, Insufficient memory", id="both"),
        pytest.param({}, [{}, {}], "Too many pods", id="pods"),
        pytest.param({"cpu": "5"}, [{}, {}], "Too many pods, Insufficient cpu", id="pods-and-cpu"),
        pytest.param({"requests": {"example.com/gpu": "1"}}, [], "Insufficient example.com/gpu", id="extended-missing"),
        pytest.param({"requests": {"ephemeral-storage": "20Gi"}}, [], "Insufficient ephemeral-storage",
                     id="ephemeral"),
        pytest.param({}, [{"cpu": "4"}], "", id="best-effort-fits-full-node"),
    ],
)
def test_fit_filter(pod_kw: dict[str, Any], existing: list[dict[str, str]], reasons: str) -> None:
    plugin = fit.new({}, None)  # type: ignore[arg-type]
    pods = [make_pod(f"e{i}", node="n1", **kw) for i, kw in enumerate(existing)]
    node = node_info(make_node("n1", cpu="4", memory="8Gi", pods=2, extra={"ephemeral-storage": "10Gi"}), *pods)
    assert run_filter(plugin, make_pod(**pod_kw), [node]) == {"n1": reasons}


def test_fit_ignored_resources_and_groups() -> None:
    node = node_info(make_node("n1"))
    pod = make_pod(requests={"example.com/gpu": "1", "vendor.io/fpga": "1"})
    assert run_filter(fit.Fit(FitArgs()), pod, [node])["n1"] == "Insufficient example.com/gpu, Insufficient vendor.io/fpga"
    plugin = fit.new({"ignoredResources": ["example.com/gpu"], "ignoredResourceGroups": ["vendor.io"]}, None)  # type: ignore[arg-type]
    assert run_filter(plugin, pod, [node]) == {"n1": ""}


def test_fit_init_containers_and_overhead() -> None:
    """max(sum of containers, each init container) + overhead."""
    node = node_info(make_node("n1", cpu="1"))
    pod = make_pod(cpu="300m", overhead={"cpu": "100m"},
                   init_containers=[core.Container(name="i", resources=core.ResourceRequirements(requests={"cpu": "950m"}))])
    assert run_filter(fit.new({}, None), pod, [node]) == {"n1": "Insufficient cpu"}  # type: ignore[arg-type]
    pod = make_pod(cpu="300m", overhead={"cpu": "100m"},
                   init_containers=[core.Container(name="i", resources=core.ResourceRequirements(requests={"cpu": "600m"}))])
    assert run_filter(fit.new({}, None), pod, [node]) == {"n1": ""}  # type: ignore[arg-type]


def test_terminating_pods_still_count() -> None:
    old = make_pod("old", cpu="4", node="n1")
    old = core.Pod(metadata=meta.ObjectMeta(name="old", namespace="default", deletion_timestamp="2026-01-01T00:00:00Z"),
                   spec=old.spec)
    node = node_info(make_node("n1", cpu="4"), old)
    assert run_filter(fit.new({}, None), make_pod(cpu="1"), [node]) == {"n1": "Insufficient cpu"}  # type: ignore[arg-type]
