"""The framework runtime with out-of-tree test plugins: every extension point in order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from master.scheduler.algorithm import FitError, ScheduleResult, SchedulingError, schedule_pod
from master.scheduler.config import ProfileConfig
from master.scheduler.framework import status
from master.scheduler.framework.interface import CycleState, PostFilterResult
from master.scheduler.framework.runtime import Framework
from master.scheduler.framework.status import Code, Status
from master.scheduler.framework.types import NodeInfo, PodInfo
from master.scheduler.plugins import IN_TREE
from tests.unit.master.scheduler.sched_testing import FakeHandle, make_node, make_pod

calls: list[str] = []


class Gate:
    """PreFilter rejecting pods labelled gate=closed; Filter rejecting node "bad"."""

    name = "Gate"

    def pre_filter(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        calls.append("pre_filter")
        if pod.pod.metadata.labels.get("gate") == "closed":
            return status.unresolvable("gate is closed")
        state.write("gate", True)
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        assert state.read("gate")
        if node.name == "bad":
            return status.unschedulable("node is bad")
        if node.name == "broken":
            return status.error("filter exploded")
        return None


class Rescuer:
    name = "Rescuer"

    async def post_filter(
        self, state: CycleState, pod: PodInfo, statuses: Mapping[str, Status]
    ) -> tuple[PostFilterResult | None, Status | None]:
        calls.append(f"post_filter {sorted(statuses)}")
        return PostFilterResult(nominated_node="bad"), None


class Scorer:
    name = "Scorer"

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        return {"a": 10, "b": 30}.get(node.name, 0)


class Keeper:
    name = "Keeper"

    def reserve(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        calls.append(f"reserve {node_name}")
        return status.unschedulable("full") if node_name == "b" and pod.name == "refused" else None

    def unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        calls.append(f"unreserve {node_name}")


class Skipper:
    name = "Skipper"

    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        calls.append("skipper")
        return status.SKIP


class Recorder:
    name = "Recorder"

    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        calls.append(f"bind {pod.name} {node_name}")
        return None


REGISTRY: dict[str, Any] = {
    **IN_TREE,
    **{cls.name: (lambda c: lambda args, handle: c())(cls) for cls in (Gate, Rescuer, Scorer, Keeper, Skipper, Recorder)},
}


def profile(*extra: tuple[str, int]) -> ProfileConfig:
    return ProfileConfig(multi_point=(("NodeUnschedulable", 0), *extra))


@pytest.fixture(autouse=True)
def _reset() -> None:
    calls.clear()


def framework(handle: FakeHandle) -> Framework:
    return Framework(profile(("Gate", 0), ("Rescuer", 0), ("Scorer", 5), ("Keeper", 0), ("Skipper", 0),
                             ("Recorder", 0)), REGISTRY, handle)


def test_points_are_assigned_by_what_plugins_implement() -> None:
    fwk = framework(FakeHandle())
    assert [p.name for p in fwk.pre_filter_plugins] == ["Gate"]
    assert [p.name for p in fwk.filter_plugins] == ["NodeUnschedulable", "Gate"]
    assert [(p.name, w) for p, w, _ in fwk.score_plugins] == [("Scorer", 5)]
    assert [p.name for p in fwk.bind_plugins] == ["Skipper", "Recorder"]
    assert fwk.events == {"NodeUnschedulable": fwk.plugins["NodeUnschedulable"].events_to_register()}


async def test_cycle_prefers_higher_score_then_reserve_and_bind() -> None:
    handle = FakeHandle([make_node("a"), make_node("b"), make_node("bad")])
    fwk = framework(handle)
    state = CycleState()
    pod = PodInfo(make_pod("ok"))
    result, _ = schedule_pod(fwk, state, pod, handle.node_infos())
    assert result == ScheduleResult("b", 3, 2)
    assert fwk.run_reserve(state, pod, "b") is None
    assert await fwk.run_bind(state, pod, "b") is None
    assert calls == ["pre_filter", "reserve b", "skipper", "bind ok b"]


def test_reserve_failure_reports_the_plugin() -> None:
    fwk = framework(FakeHandle())
    st = fwk.run_reserve(CycleState(), PodInfo(make_pod("refused")), "b")
    assert st is not None and st.plugin == "Keeper" and st.reasons == ("full",)


async def test_prefilter_rejection_and_post_filter() -> None:
    handle = FakeHandle([make_node("a"), make_node("bad")])
    fwk = framework(handle)
    state = CycleState()
    pod = PodInfo(make_pod("gated", labels={"gate": "closed"}))
    result, _ = schedule_pod(fwk, state, pod, handle.node_infos())
    assert isinstance(result, FitError)
    assert result.message() == "0/2 nodes are available: gate is closed."
    assert result.diagnosis.unschedulable_plugins == {"Gate"}
    nominated, st = await fwk.run_post_filter(state, pod, result.diagnosis.node_statuses)
    assert st is None and nominated == PostFilterResult(nominated_node="bad")
    assert calls[-1] == "post_filter ['a', 'bad']"


def test_filter_error_raises() -> None:
    handle = FakeHandle([make_node("broken")])
    with pytest.raises(SchedulingError, match="Gate: filter exploded") as info:
        schedule_pod(framework(handle), CycleState(), PodInfo(make_pod()), handle.node_infos())
    assert info.value.status.code == Code.ERROR


async def test_no_binder_binds() -> None:
    fwk = Framework(profile(("Skipper", 0)), REGISTRY, FakeHandle())
    st = await fwk.run_bind(CycleState(), PodInfo(make_pod("x")), "a")
    assert st is not None and st.code == Code.ERROR and "no bind plugin bound" in st.message
