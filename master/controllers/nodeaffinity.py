"""Does a pod's node selector and required node affinity admit a node? (what a DaemonSet checks
before it places a pod; the scheduler has its own copy of these rules in its plugins).

Required terms are ORed, the requirements of one term ANDed; a term without requirements
matches nothing. ``matchExpressions`` look at labels (In, NotIn, Exists, DoesNotExist, Gt,
Lt), ``matchFields`` only at ``metadata.name``.
"""

from __future__ import annotations

from collections.abc import Mapping

from master.api import core

__all__ = ["matches_node"]


def _requirement(req: core.NodeSelectorRequirement, value: str | None) -> bool:
    op = req.operator
    if op == "In":
        return value is not None and value in req.values
    if op == "NotIn":
        return value is None or value not in req.values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt") and value is not None and len(req.values) == 1:
        try:
            have, want = int(value), int(req.values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def _term(term: core.NodeSelectorTerm, labels: Mapping[str, str], name: str) -> bool:
    if not term.match_expressions and not term.match_fields:
        return False
    return all(_requirement(r, labels.get(r.key)) for r in term.match_expressions) and all(
        r.key == "metadata.name" and _requirement(r, name) for r in term.match_fields
    )


def matches_node(spec: core.PodSpec, node: core.Node) -> bool:
    labels = node.metadata.labels
    for k, v in spec.node_selector.items():
        if labels.get(k) != v:
            return False
    affinity = spec.affinity.node_affinity if spec.affinity is not None else None
    required = affinity.required_during_scheduling_ignored_during_execution if affinity is not None else None
    if required is None:
        return True
    return any(_term(t, labels, node.metadata.name) for t in required.node_selector_terms)
