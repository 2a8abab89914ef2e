"""PodTopologySpread: keep matching pods evenly spread over topology domains (hostname, zone).

For a constraint ``{maxSkew, topologyKey, whenUnsatisfiable, labelSelector}`` the domains are
the values of ``topologyKey`` on eligible nodes (nodes carrying every topology key of the
pod's constraints, that match the pod's node affinity unless ``nodeAffinityPolicy: Ignore``,
and whose taints the pod tolerates if ``nodeTaintsPolicy: Honor``); a domain's count is the
number of pods in the pod's namespace matching the selector (terminating pods excluded).

DoNotSchedule (Filter): placing the pod in domain D must keep
``count(D) + self - min(count over domains) <= maxSkew`` (``self`` is 1 when the pod matches
its own selector; with fewer than ``minDomains`` domains the minimum counts as 0)::

    zones a: 2, b: 0, c: 1, maxSkew 1      -> only b fits (a: 3-0=3, c: 2-0=2, b: 1-0=1)

Nodes without the topology key fail as unresolvable ("missing required label").

ScheduleAnyway (Score): fewer matching pods in the node's domains is better; each
constraint's count is weighted by log(domains + 2), then scores are normalized so the node
with the fewest gets 100. Nodes missing a topology key score 0.

Args: ``defaultingType: List`` and ``defaultConstraints: []`` only (the default). The
system default constraints, which need the pod's Services and ReplicaSets, are not applied.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from master.api import core, labels
from master.api.scheduling import RequiredNodeAffinity, find_untolerated_taint
from master.scheduler.framework import status
from master.scheduler.framework.interface import MAX_NODE_SCORE, ActionType, ClusterEvent, CycleState, Handle
from master.scheduler.framework.registry import PluginArgsError, parse_args
from master.scheduler.framework.status import Status
from master.scheduler.framework.types import NodeInfo, PodInfo

__all__ = ["MISSING_LABEL_REASON", "NAME", "REASON", "PodTopologySpread", "new"]

NAME = "PodTopologySpread"
REASON = "node(s) didn't match pod topology spread constraints"
MISSING_LABEL_REASON = f"{REASON} (missing required label)"
HOSTNAME_KEY = "kubernetes.io/hostname"
_FILTER_KEY = f"PreFilter{NAME}"
_SCORE_KEY = f"PreScore{NAME}"
_INVALID = -1


class PodTopologySpreadArgs(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    default_constraints: list[core.TopologySpreadConstraint] = []
    defaulting_type: str = "List"


@dataclass(frozen=True, slots=True)
class Constraint:
    max_skew: int
    topology_key: str
    selector: labels.Selector
    min_domains: int
    honor_affinity: bool
    honor_taints: bool


def constraints_of(pod: core.Pod, when: str) -> list[Constraint]:
    out = []
    for c in pod.spec.topology_spread_constraints:
        if c.when_unsatisfiable != when:
            continue
        try:
            selector = labels.from_label_selector(c.label_selector)
        except labels.SelectorError:
            selector = labels.Selector.nothing()
        extra = tuple(
            labels.Requirement(k, "in", (pod.metadata.labels[k],))
            for k in c.match_label_keys
            if k in pod.metadata.labels
        )
        if extra:
            selector = dataclasses.replace(selector, requirements=(*selector.requirements, *extra))
        out.append(Constraint(
            max_skew=c.max_skew,
            topology_key=c.topology_key,
            selector=selector,
            min_domains=c.min_domains or 1,
            honor_affinity=(c.node_affinity_policy or "Honor") == "Honor",
            honor_taints=(c.node_taints_policy or "Ignore") == "Honor",
        ))
    return out


def count_matching(node: NodeInfo, namespace: str, selector: labels.Selector) -> int:
    n = 0
    for info in node.pods.values():
        m = info.pod.metadata
        if m.namespace == namespace and not m.deletion_timestamp and selector.matches(m.labels):
            n += 1
    return n


class _Eligibility:
    """Which nodes count toward a constraint (the node inclusion policies)."""

    def __init__(self, pod: core.Pod) -> None:
        self.affinity = RequiredNodeAffinity(pod.spec)
        self.tolerations = pod.spec.tolerations

    def includes(self, c: Constraint, node: NodeInfo) -> bool:
        if c.honor_affinity and not self.affinity.matches(node.labels, node.name):
            return False
        return not (
            c.honor_taints
            and find_untolerated_taint(node.taints, self.tolerations, ("NoSchedule", "NoExecute")) is not None
        )


@dataclass(slots=True)
class _FilterState:
    constraints: list[Constraint]
    counts: list[dict[str, int]]
    minimum: list[int]
    self_match: list[int]


@dataclass(slots=True)
class _ScoreState:
    constraints: list[Constraint]
    counts: list[dict[str, int]]
    weights: list[float]
    ignored: set[str]


class PodTopologySpread:
    name = NAME

    def __init__(self, handle: Handle) -> None:
        self._handle = handle

    def events_to_register(self) -> Sequence[ClusterEvent]:
        return [
            ClusterEvent("Pod", ActionType.ADD | ActionType.UPDATE_POD_LABEL | ActionType.DELETE),
            ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_LABEL | ActionType.DELETE),
        ]

    # ---- Filter ----------------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        constraints = constraints_of(pod.pod, "DoNotSchedule")
        if not constraints:
            return status.SKIP
        eligible = _Eligibility(pod.pod)
        keys = [c.topology_key for c in constraints]
        counts: list[dict[str, int]] = [{} for _ in constraints]
        ns = pod.namespace
        for node in nodes:
            node_labels = node.labels
            if not all(k in node_labels for k in keys):
                continue
            for i, c in enumerate(constraints):
                if not eligible.includes(c, node):
                    continue
                domain = node_labels[c.topology_key]
                counts[i][domain] = counts[i].get(domain, 0) + count_matching(node, ns, c.selector)
        minimum = []
        for c, domains in zip(constraints, counts, strict=True):
            low = min(domains.values(), default=0)
            minimum.append(0 if len(domains) < c.min_domains else low)
        own = pod.pod.metadata.labels
        self_match = [1 if c.selector.matches(own) else 0 for c in constraints]
        state.write(_FILTER_KEY, _FilterState(constraints, counts, minimum, self_match))
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        s: _FilterState = state.read(_FILTER_KEY)
        node_labels = node.labels
        for i, c in enumerate(s.constraints):
            domain = node_labels.get(c.topology_key)
            if domain is None:
                return status.unresolvable(MISSING_LABEL_REASON)
            skew = s.counts[i].get(domain, 0) + s.self_match[i] - s.minimum[i]
            if skew > c.max_skew:
                return status.unschedulable(REASON)
        return None

    # ---- Score -----------------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        constraints = constraints_of(pod.pod, "ScheduleAnyway")
        if not constraints:
            return status.SKIP
        keys = [c.topology_key for c in constraints]
        ignored = {n.name for n in nodes if not all(k in n.labels for k in keys)}
        counts: list[dict[str, int]] = [{} for _ in constraints]
        sizes = []
        for i, c in enumerate(constraints):
            domains = {n.labels[c.topology_key] for n in nodes if n.name not in ignored}
            sizes.append(len(domains))
            if c.topology_key != HOSTNAME_KEY:
                counts[i] = dict.fromkeys(domains, 0)
        eligible = _Eligibility(pod.pod)
        ns = pod.namespace
        for node in self._handle.node_infos():
            node_labels = node.labels
            if not all(k in node_labels for k in keys):
                continue
            for i, c in enumerate(constraints):
                if c.topology_key == HOSTNAME_KEY or not eligible.includes(c, node):
                    continue
                domain = node_labels[c.topology_key]
                if domain in counts[i]:
                    counts[i][domain] += count_matching(node, ns, c.selector)
        weights = [math.log(size + 2) for size in sizes]
        state.write(_SCORE_KEY, _ScoreState(constraints, counts, weights, ignored))
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        s: _ScoreState = state.read(_SCORE_KEY)
        if node.name in s.ignored:
            return _INVALID
        total = 0.0
        for i, c in enumerate(s.constraints):
            if c.topology_key == HOSTNAME_KEY:
                count = count_matching(node, pod.namespace, c.selector)
            else:
                count = s.counts[i].get(node.labels[c.topology_key], 0)
            total += count * s.weights[i] + (c.max_skew - 1)
        return round(total)

    def normalize_score(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None:
        valid = [s for s in scores if s != _INVALID]
        if not valid:
            scores[:] = [0] * len(scores)
            return
        low, high = min(valid), max(valid)
        for i, s in enumerate(scores):
            if s == _INVALID:
                scores[i] = 0
            elif high == 0:
                scores[i] = MAX_NODE_SCORE
            else:
                scores[i] = MAX_NODE_SCORE * (high + low - s) // high


def new(args: Mapping[str, Any], handle: Handle) -> PodTopologySpread:
    parsed = parse_args(NAME, args, PodTopologySpreadArgs)
    if parsed.defaulting_type != "List" or parsed.default_constraints:
        raise PluginArgsError(
            f"{NAME} args: only defaultingType List with no defaultConstraints is supported "
            "(system default constraints need Service and ReplicaSet listers)"
        )
    return PodTopologySpread(handle)
