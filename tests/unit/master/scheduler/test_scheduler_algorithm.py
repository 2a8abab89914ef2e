"""The placement algorithm: how many nodes are searched, round robin, tie breaks, FitError text."""

from __future__ import annotations

import random

import pytest

from master.api import core
from master.scheduler.algorithm import (
    FitError,
    ScheduleResult,
    num_feasible_nodes_to_find,
    schedule_pod,
    select_host,
)
from master.scheduler.config import ProfileConfig
from master.scheduler.framework.interface import CycleState
from master.scheduler.framework.runtime import Framework
from master.scheduler.framework.types import PodInfo
from master.scheduler.plugins import IN_TREE
from tests.unit.master.scheduler.sched_testing import FakeHandle, make_node, make_pod, node_info


@pytest.mark.parametrize(
    ("percentage", "nodes", "want"),
    [
        pytest.param(0, 50, 50, id="small-all"),
        pytest.param(0, 100, 100, id="100"),
        pytest.param(0, 500, 230, id="500-adaptive-46pct"),
        pytest.param(0, 5000, 500, id="5000-adaptive-10pct"),
        pytest.param(0, 10000, 500, id="10000-min-5pct"),
        pytest.param(0, 150, 100, id="min-100-nodes"),
        pytest.param(30, 1000, 300, id="fixed"),
        pytest.param(100, 1000, 1000, id="all"),
    ],
)
def test_num_feasible_nodes_to_find(percentage: int, nodes: int, want: int) -> None:
    assert num_feasible_nodes_to_find(percentage, nodes) == want


def fwk_for(handle: FakeHandle) -> Framework:
    return Framework(ProfileConfig(), IN_TREE, handle)


def test_fit_error_summary() -> None:
    gpu = core.Taint(key="dedicated", value="gpu", effect="NoSchedule")
    handle = FakeHandle([
        make_node("small", cpu="1"),
        make_node("gpu-1", taints=[gpu]),
        make_node("gpu-2", taints=[gpu]),
    ])
    pod = PodInfo(make_pod(cpu="2"))
    result, processed = schedule_pod(fwk_for(handle), CycleState(), pod, handle.node_infos())
    assert isinstance(result, FitError) and processed == 3
    assert result.message() == ("0/3 nodes are available: 1 Insufficient cpu, "
                                "2 node(s) had untolerated taint {dedicated: gpu}.")
    assert result.diagnosis.unschedulable_plugins == {"NodeResourcesFit", "TaintToleration"}


def test_fit_error_without_nodes_and_prefilter_rejection() -> None:
    handle = FakeHandle()
    result, _ = schedule_pod(fwk_for(handle), CycleState(), PodInfo(make_pod()), [])
    assert isinstance(result, FitError) and result.message() == "no nodes available to schedule pods"


def test_picks_least_allocated_and_rotates_start() -> None:
    handle = FakeHandle([make_node("a"), make_node("b")], [make_pod("x", cpu="3", node="a")])
    result, processed = schedule_pod(fwk_for(handle), CycleState(), PodInfo(make_pod(cpu="100m")), handle.node_infos())
    assert result == ScheduleResult("b", 2, 2) and processed == 2


def test_search_stops_after_enough_feasible_nodes() -> None:
    handle = FakeHandle([make_node(f"n{i:03d}") for i in range(300)])
    nodes = handle.node_infos()
    result, processed = schedule_pod(fwk_for(handle), CycleState(), PodInfo(make_pod()), nodes, start=250)
    assert isinstance(result, ScheduleResult)
    # 300 nodes: 50 - 300/125 = 48% -> 144 nodes searched, starting at n250 and wrapping around.
    assert processed == 144 and result.feasible == 144


def test_select_host_breaks_ties_uniformly() -> None:
    nodes = [node_info(make_node(n)) for n in "abc"]
    rng = random.Random(7)
    picks = {select_host(nodes, [5, 9, 9], rng).name for _ in range(200)}
    assert picks == {"b", "c"}
    assert select_host(nodes, [1, 2, 3], rng).name == "c"
