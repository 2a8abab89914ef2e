"""Where a pod may run: tolerations against taints, and node selectors and required node
affinity against nodes. One copy of these rules for the scheduler's plugins, the DaemonSet
controller and the node lifecycle controller's taint eviction.

Tolerations (core/v1 semantics)::

    {key: k, operator: Exists}              tolerates every taint with key k (any value)
    {key: k, operator: Equal, value: v}     tolerates k=v ("" operator means Equal)
    {operator: Exists}                      tolerates everything
    effect "" matches every effect; otherwise it must equal the taint's

An Equal toleration without a key tolerates nothing (validation refuses it anyway).

Node selector terms: ``matchExpressions`` (labels) and ``matchFields`` (only
``metadata.name``) are ANDed within a term; terms are ORed; an empty term matches nothing.
Operators: In, NotIn, Exists, DoesNotExist, Gt, Lt (integers)::

    spec.nodeSelector {zone: a}  AND  terms [{disk In (ssd)}, {metadata.name In (pi-1)}]
    node pi-2 {zone: a, disk: ssd}  -> True        node pi-1 {zone: b}  -> False
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from master.api import core

__all__ = [
    "RequiredNodeAffinity",
    "find_untolerated_taint",
    "match_node_selector_term",
    "matches_node",
    "requirement_matches",
    "tolerates",
]


def tolerates(toleration: core.Toleration, taint: core.Taint) -> bool:
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    op = toleration.operator or "Equal"
    if op == "Exists":
        return True
    if op == "Equal":
        return bool(toleration.key) and toleration.value == taint.value
    return False


def find_untolerated_taint(
    taints: Iterable[core.Taint], tolerations: Sequence[core.Toleration], effects: Iterable[str]
) -> core.Taint | None:
    """The first taint with one of ``effects`` that no toleration tolerates."""
    wanted = frozenset(effects)
    for taint in taints:
        if taint.effect not in wanted:
            continue
        if not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None


def requirement_matches(req: core.NodeSelectorRequirement, value: str | None) -> bool:
    """One requirement against the value of its key (None: the node has no such label)."""
    op = req.operator
    if op == "In":
        return value is not None and value in req.values
    if op == "NotIn":
        return value is None or value not in req.values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt"):
        if value is None or len(req.values) != 1:
            return False
        try:
            have, want = int(value), int(req.values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def match_node_selector_term(term: core.NodeSelectorTerm, labels: Mapping[str, str], name: str) -> bool:
    if not term.match_expressions and not term.match_fields:
        return False
    for req in term.match_expressions:
        if not requirement_matches(req, labels.get(req.key)):
            return False
    for req in term.match_fields:
        if req.key != "metadata.name" or not requirement_matches(req, name):
            return False
    return True


class RequiredNodeAffinity:
    """A pod's hard node constraints: ``spec.nodeSelector`` AND the required node affinity
    terms, read once from the spec so that many nodes can be checked against them."""

    __slots__ = ("selector", "terms")

    def __init__(self, spec: core.PodSpec) -> None:
        self.selector = spec.node_selector
        affinity = spec.affinity
        required = affinity.node_affinity.required_during_scheduling_ignored_during_execution if (
            affinity is not None and affinity.node_affinity is not None
        ) else None
        self.terms: list[core.NodeSelectorTerm] | None = (
            required.node_selector_terms if required is not None else None
        )

    def empty(self) -> bool:
        return not self.selector and self.terms is None

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        for k, v in self.selector.items():
            if labels.get(k) != v:
                return False
        if self.terms is None:
            return True
        return any(match_node_selector_term(t, labels, name) for t in self.terms)


def matches_node(spec: core.PodSpec, node: core.Node) -> bool:
    """Does ``spec``'s node selector and required node affinity admit ``node``?"""
    return RequiredNodeAffinity(spec).matches(node.metadata.labels, node.metadata.name)
