"""One pod's placement: filter nodes, score the feasible ones, pick the best ("1. filter nodes,
2. rank nodes"). Pure and synchronous: it reads the cache and returns a value.

How many nodes are looked at: feasible nodes are searched from a rotating start index and
the search stops once ``num_feasible_nodes_to_find`` are found, as kube-scheduler's
percentageOfNodesToScore does::

    nodes < 100                 -> all of them
    percentage 0 (adaptive)     -> max(50 - nodes/125, 5) percent, at least 100 nodes
        500 nodes: 46% -> 230     5000 nodes: 10% -> 500     100 nodes: 49% -> 100

A pod that fits nowhere yields a ``FitError`` whose ``message()`` is the FailedScheduling
summary, reasons counted over nodes and sorted::

    0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {dedicated: gpu}.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from master.scheduler.framework.interface import CycleState
from master.scheduler.framework.runtime import Framework
from master.scheduler.framework.status import Code, Status
from master.scheduler.framework.types import NodeInfo, PodInfo

__all__ = [
    "NO_NODES_MESSAGE",
    "Diagnosis",
    "FitError",
    "ScheduleResult",
    "SchedulingError",
    "num_feasible_nodes_to_find",
    "schedule_pod",
    "select_host",
]

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE = 5
NO_NODES_MESSAGE = "no nodes available to schedule pods"
_RNG = random.Random()


def num_feasible_nodes_to_find(percentage: int, num_all: int) -> int:
    if num_all < MIN_FEASIBLE_NODES_TO_FIND or percentage >= 100:
        return num_all
    if percentage <= 0:
        percentage = max(50 - num_all // 125, MIN_FEASIBLE_NODES_PERCENTAGE)
    return max(num_all * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)


@dataclass(slots=True)
class Diagnosis:
    node_statuses: dict[str, Status] = field(default_factory=dict)
    unschedulable_plugins: set[str] = field(default_factory=set)
    pre_filter_message: str = ""
    post_filter_message: str = ""


@dataclass(slots=True)
class FitError:
    """No node fits (an expected outcome, not an exception)."""

    pod: PodInfo
    num_all_nodes: int
    diagnosis: Diagnosis

    def message(self) -> str:
        if self.num_all_nodes == 0:
            return NO_NODES_MESSAGE
        msg = f"0/{self.num_all_nodes} nodes are available:"
        d = self.diagnosis
        if d.pre_filter_message:
            msg += f" {d.pre_filter_message}."
        else:
            counts: dict[str, int] = {}
            for st in d.node_statuses.values():
                for reason in st.reasons:
                    counts[reason] = counts.get(reason, 0) + 1
            if counts:
                msg += " " + ", ".join(sorted(f"{n} {reason}" for reason, n in counts.items())) + "."
        if d.post_filter_message:
            msg += f" {d.post_filter_message}"
        return msg


@dataclass(frozen=True, slots=True)
class ScheduleResult:
    node: str
    evaluated: int
    feasible: int


@dataclass(slots=True)
class _Search:
    feasible: list[NodeInfo]
    processed: int


class SchedulingError(Exception):
    """A plugin reported an internal error (Status code ERROR) during the cycle."""

    def __init__(self, status: Status) -> None:
        super().__init__(f"{status.plugin}: {status.message}" if status.plugin else status.message)
        self.status = status


def schedule_pod(
    fwk: Framework,
    state: CycleState,
    pod: PodInfo,
    nodes: Sequence[NodeInfo],
    *,
    start: int = 0,
    percentage: int = 0,
    rng: random.Random | None = None,
) -> tuple[ScheduleResult | FitError, int]:
    """Place ``pod`` on one of ``nodes``; (result, nodes processed) — the caller advances its
    start index by the second value. Raises ``SchedulingError`` for plugin faults."""
    if not nodes:
        return FitError(pod, 0, Diagnosis()), 0
    diagnosis = Diagnosis()
    search = _find_feasible(fwk, state, pod, nodes, start, num_feasible_nodes_to_find(percentage, len(nodes)), diagnosis)
    if not search.feasible:
        return FitError(pod, len(nodes), diagnosis), search.processed
    feasible = search.feasible
    if len(feasible) == 1:
        return ScheduleResult(feasible[0].name, search.processed, 1), search.processed
    st = fwk.run_pre_score(state, pod, feasible)
    if st is not None:
        raise SchedulingError(st)
    scores = fwk.run_score(state, pod, feasible)
    chosen = select_host(feasible, scores, rng or _RNG)
    return ScheduleResult(chosen.name, search.processed, len(feasible)), search.processed


def _find_feasible(
    fwk: Framework,
    state: CycleState,
    pod: PodInfo,
    nodes: Sequence[NodeInfo],
    start: int,
    to_find: int,
    diagnosis: Diagnosis,
) -> _Search:
    st = fwk.run_pre_filter(state, pod, nodes)
    if st is not None:
        if st.code == Code.ERROR:
            raise SchedulingError(st)
        diagnosis.pre_filter_message = st.message
        diagnosis.unschedulable_plugins.add(st.plugin)
        for node in nodes:
            diagnosis.node_statuses[node.name] = st
        return _Search([], 0)
    n = len(nodes)
    start %= n
    filters = fwk.filters_for(state)
    if not filters:
        ordered = [*nodes[start:], *nodes[:start]]
        return _Search(ordered[:to_find], min(to_find, n))
    feasible: list[NodeInfo] = []
    statuses = diagnosis.node_statuses
    plugins = diagnosis.unschedulable_plugins
    processed = 0
    for i in range(n):
        node = nodes[(start + i) % n]
        processed += 1
        for name, fn in filters:
            st = fn(state, pod, node)
            if st is not None:
                if st.code == Code.ERROR:
                    raise SchedulingError(st.with_plugin(name))
                statuses[node.name] = st.with_plugin(name)
                plugins.add(name)
                break
        else:
            feasible.append(node)
            if len(feasible) >= to_find:
                break
    return _Search(feasible, processed)


def select_host(nodes: Sequence[NodeInfo], scores: Sequence[int], rng: random.Random) -> NodeInfo:
    """The node with the highest score; ties broken uniformly at random (one draw among the
    tied: in a cluster of alike nodes most of them tie, and a draw per tie was a third of the
    scoring time)."""
    best = max(scores)
    tied = [i for i, score in enumerate(scores) if score == best]
    return nodes[tied[rng.randrange(len(tied))] if len(tied) > 1 else tied[0]]
