"""Score plugins, table cases: raw arithmetic and normalized scores."""

from __future__ import annotations

from typing import Any

import pytest

from master.api import core
from master.scheduler.framework.registry import PluginArgsError
from master.scheduler.framework.types import normalized_image_name
from master.scheduler.plugins import image_locality, node_affinity, taint_toleration
from master.scheduler.plugins.helpers import default_normalize
from master.scheduler.plugins.noderesources import balanced_allocation, fit
from master.scheduler.plugins.noderesources.allocation import balanced_score, least_requested, most_requested
from tests.unit.master.scheduler.sched_testing import FakeHandle, make_node, make_pod, node_info, run_score

MB = 1024 * 1024


@pytest.mark.parametrize(
    ("requested", "capacity", "least", "most"),
    [
        pytest.param(0, 4000, 100, 0, id="empty"),
        pytest.param(1500, 4000, 62, 37, id="partial"),
        pytest.param(4000, 4000, 0, 100, id="full"),
        pytest.param(5000, 4000, 0, 100, id="over"),
        pytest.param(100, 0, 0, 0, id="no-capacity"),
    ],
)
def test_allocation_arithmetic(requested: int, capacity: int, least: int, most: int) -> None:
    assert least_requested(requested, capacity) == least
    assert most_requested(requested, capacity) == most


@pytest.mark.parametrize(
    ("requested", "allocatable", "score"),
    [
        pytest.param([2, 4], [4, 8], 100, id="balanced"),
        pytest.param([8, 2], [10, 10], 70, id="skewed"),
        pytest.param([20, 0], [10, 10], 50, id="capped-at-one"),
        pytest.param([1, 2, 3], [10, 10, 10], 91, id="three-resources"),
        pytest.param([5, 9], [10, 0], 100, id="missing-resource-ignored"),
    ],
)
def test_balanced_arithmetic(requested: list[int], allocatable: list[int], score: int) -> None:
    assert balanced_score(requested, allocatable) == score


@pytest.mark.parametrize(
    ("scores", "reverse", "want"),
    [
        pytest.param([0, 2, 4], False, [0, 50, 100], id="scale"),
        pytest.param([0, 2, 4], True, [100, 50, 0], id="reverse"),
        pytest.param([0, 0], False, [0, 0], id="all-zero"),
        pytest.param([0, 0], True, [100, 100], id="all-zero-reverse"),
    ],
)
def test_default_normalize(scores: list[int], reverse: bool, want: list[int]) -> None:
    default_normalize(scores, reverse=reverse)
    assert scores == want


def test_least_allocated_prefers_emptier_nodes() -> None:
    nodes = [
        node_info(make_node("busy", cpu="4", memory="8Gi"), make_pod("x", cpu="3", memory="6Gi", node="busy")),
        node_info(make_node("idle", cpu="4", memory="8Gi")),
    ]
    scores = run_score(fit.new({}, None), make_pod(cpu="1", memory="2Gi"), nodes)  # type: ignore[arg-type]
    # busy: cpu (4000-4000)/4000 -> 0, memory 0 -> 0; idle: cpu 75, memory 75 -> 75
    assert scores == {"busy": 0, "idle": 75}


def test_most_allocated_and_weights() -> None:
    nodes = [
        node_info(make_node("busy", cpu="4", memory="8Gi"), make_pod("x", cpu="2", node="busy")),
        node_info(make_node("idle", cpu="4", memory="8Gi")),
    ]
    args = {"scoringStrategy": {"type": "MostAllocated", "resources": [{"name": "cpu", "weight": 3},
                                                                       {"name": "memory", "weight": 1}]}}
    scores = run_score(fit.new(args, None), make_pod(cpu="1", memory="2Gi"), nodes)  # type: ignore[arg-type]
    # busy: cpu 75*3, memory (200Mi default of x + 2Gi)/8Gi = 27 -> (225+27)//4 = 63; idle: (25*3 + 25)//4 = 25
    assert scores == {"busy": 63, "idle": 25}


def test_best_effort_pods_count_as_non_zero_requests() -> None:
    nodes = [
        node_info(make_node("a", cpu="1", memory="1Gi"), *(make_pod(f"x{i}", node="a") for i in range(5))),
        node_info(make_node("b", cpu="1", memory="1Gi")),
    ]
    scores = run_score(fit.new({}, None), make_pod(), nodes)  # type: ignore[arg-type]
    assert scores is not None and scores["b"] > scores["a"]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param({"scoringStrategy": {"type": "RequestedToCapacityRatio"}}, id="strategy"),
        pytest.param({"scoringStrategy": {"resources": []}}, id="no-resources"),
        pytest.param({"scoringStrategy": {"resources": [{"name": "cpu", "weight": 0}]}}, id="weight"),
        pytest.param({"ignoredResources": "x"}, id="type"),
        pytest.param({"unknown": 1}, id="unknown-field"),
    ],
)
def test_fit_bad_args(args: dict[str, Any]) -> None:
    with pytest.raises(PluginArgsError, match="NodeResourcesFit args"):
        fit.new(args, None)  # type: ignore[arg-type]


def test_balanced_allocation() -> None:
    nodes = [
        node_info(make_node("a", cpu="4", memory="4Gi"), make_pod("x", cpu="2", node="a")),
        node_info(make_node("b", cpu="4", memory="4Gi"), make_pod("y", cpu="1", memory="1Gi", node="b")),
    ]
    plugin = balanced_allocation.new({}, None)  # type: ignore[arg-type]
    scores = run_score(plugin, make_pod(cpu="1", memory="1Gi"), nodes)
    # a: cpu 3/4, mem 1/4 -> 1 - 0.25 = 75; b: 2/4 and 2/4 -> 100
    assert scores == {"a": 75, "b": 100}
    assert run_score(plugin, make_pod(), nodes) is None, "best-effort pods are skipped"


def test_taint_toleration_score() -> None:
    spot = core.Taint(key="spot", value="true", effect="PreferNoSchedule")
    old = core.Taint(key="old", effect="PreferNoSchedule")
    nodes = [node_info(make_node("clean")), node_info(make_node("spot", taints=[spot])),
             node_info(make_node("both", taints=[spot, old]))]
    plugin = taint_toleration.new({}, None)  # type: ignore[arg-type]
    assert run_score(plugin, make_pod(), nodes) == {"clean": 100, "spot": 50, "both": 0}
    tolerant = make_pod(tolerations=[core.Toleration(key="spot", operator="Exists", effect="PreferNoSchedule")])
    assert run_score(plugin, tolerant, nodes) == {"clean": 100, "spot": 100, "both": 0}
    assert run_score(plugin, make_pod(), nodes[:1]) is None


def test_node_affinity_score() -> None:
    def term(weight: int, key: str, value: str) -> core.PreferredSchedulingTerm:
        return core.PreferredSchedulingTerm(weight=weight, preference=core.NodeSelectorTerm(
            match_expressions=[core.NodeSelectorRequirement(key=key, operator="In", values=[value])]))

    affinity = core.Affinity(node_affinity=core.NodeAffinity(
        preferred_during_scheduling_ignored_during_execution=[term(20, "disk", "ssd"), term(80, "zone", "z1")]))
    nodes = [node_info(make_node("a", labels={"disk": "ssd", "zone": "z1"})),
             node_info(make_node("b", labels={"zone": "z1"})),
             node_info(make_node("c", labels={"disk": "ssd"})), node_info(make_node("d"))]
    plugin = node_affinity.new({}, None)  # type: ignore[arg-type]
    assert run_score(plugin, make_pod(affinity=affinity), nodes) == {"a": 100, "b": 80, "c": 20, "d": 0}
    assert run_score(plugin, make_pod(), nodes) is None


def test_image_locality() -> None:
    big, small = 500 * MB, 10 * MB
    nodes = [
        make_node("has-big", images=[("registry/app:1", big)]),
        make_node("has-big-too", images=[("registry/app:1", big)]),
        make_node("has-small", images=[("docker.io/library/busybox:latest", small)]),
        make_node("none"),
    ]
    handle = FakeHandle(nodes)
    plugin = image_locality.new({}, handle)
    infos = handle.node_infos()
    scores = run_score(plugin, make_pod(image="registry/app:1"), infos)
    # 500MB * 2/4 nodes = 250MB; (250 - 23) * 100 // (1000 - 23) = 23
    assert scores == {"has-big": 23, "has-big-too": 23, "has-small": 0, "none": 0}
    # "busybox" is docker.io/library/busybox:latest; 10MB * 1/4 is below the 23MB threshold.
    assert run_score(plugin, make_pod(image="busybox"), infos) == {n: 0 for n in scores}
    assert run_score(plugin, make_pod(image="unknown:1"), infos) is None


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("busybox", "docker.io/library/busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36"),
        ("me/app", "docker.io/me/app:latest"),
        ("registry.local:5000/app", "registry.local:5000/app:latest"),
        ("localhost/app:2", "localhost/app:2"),
        ("app@sha256:abc", "docker.io/library/app@sha256:abc"),
    ],
)
def test_normalized_image_name(name: str, normalized: str) -> None:
    assert normalized_image_name(name) == normalized


def _mixed_nodes() -> list[Any]:
    """Nodes across the cases the inline arithmetic must match: empty, partly used, full,
    over-committed, skewed, no cpu or memory at all."""
    return [
        node_info(make_node("empty", cpu="4", memory="8Gi")),
        node_info(make_node("half", cpu="4", memory="8Gi"), make_pod("a", cpu="2", memory="1Gi", node="half")),
        node_info(make_node("full", cpu="2", memory="2Gi"), make_pod("b", cpu="2", memory="2Gi", node="full")),
        node_info(make_node("over", cpu="1", memory="1Gi"), make_pod("c", cpu="3", memory="5Gi", node="over")),
        node_info(make_node("besteffort", cpu="8", memory="32Gi"), make_pod("d", node="besteffort")),
        node_info(make_node("no-cpu", cpu="0", memory="8Gi")),
        node_info(make_node("no-memory", cpu="4", memory="0")),
    ]


@pytest.mark.parametrize(
    ("plugin", "pod"),
    [
        pytest.param(fit.new({}, None), make_pod(cpu="500m", memory="1Gi"), id="fit-least"),  # type: ignore[arg-type]
        pytest.param(fit.new({}, None), make_pod(), id="fit-least-besteffort"),  # type: ignore[arg-type]
        pytest.param(fit.new({"scoringStrategy": {"type": "MostAllocated"}}, None),  # type: ignore[arg-type]
                     make_pod(cpu="1", memory="1Gi"), id="fit-most"),
        pytest.param(fit.new({"scoringStrategy": {"resources": [{"name": "cpu", "weight": 2}]}}, None),  # type: ignore[arg-type]
                     make_pod(cpu="1"), id="fit-cpu-only"),
        pytest.param(balanced_allocation.new({}, None), make_pod(cpu="500m", memory="3Gi"),  # type: ignore[arg-type]
                     id="balanced"),
        pytest.param(balanced_allocation.new({"resources": [{"name": "memory"}, {"name": "cpu"}]}, None),  # type: ignore[arg-type]
                     make_pod(cpu="1", memory="1Gi"), id="balanced-other-order"),
    ],
)
def test_score_nodes_matches_score(plugin: Any, pod: core.Pod) -> None:
    from master.scheduler.framework.interface import CycleState
    from master.scheduler.framework.types import PodInfo

    nodes = _mixed_nodes()
    state, info = CycleState(), PodInfo(pod)
    assert plugin.pre_score(state, info, nodes) is None
    assert plugin.score_nodes(state, info, nodes) == [plugin.score(state, info, n) for n in nodes]
