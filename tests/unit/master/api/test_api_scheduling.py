"""Toleration, node selector and required node affinity matching (master.api.scheduling)."""

from __future__ import annotations

import pytest

from master.api import core, meta, scheduling

UNREACHABLE = core.Taint(key="node.kubernetes.io/unreachable", effect="NoExecute")
DEDICATED = core.Taint(key="dedicated", value="gpu", effect="NoSchedule")
SOFT = core.Taint(key="soft", effect="PreferNoSchedule")


def req(key: str, op: str, *values: str) -> core.NodeSelectorRequirement:
    return core.NodeSelectorRequirement(key=key, operator=op, values=list(values))


def spec(*terms: core.NodeSelectorTerm, selector: dict[str, str] | None = None) -> core.PodSpec:
    affinity = core.Affinity(node_affinity=core.NodeAffinity(
        required_during_scheduling_ignored_during_execution=core.NodeSelector(node_selector_terms=list(terms))
    )) if terms else None
    return core.PodSpec(containers=[], node_selector=selector or {}, affinity=affinity)


def node(name: str, **labels: str) -> core.Node:
    return core.Node(metadata=meta.ObjectMeta(name=name, labels=labels))


@pytest.mark.parametrize(
    ("toleration", "taint", "want"),
    [
        pytest.param(core.Toleration(key=UNREACHABLE.key, operator="Exists"), UNREACHABLE, True, id="exists-any-effect"),
        pytest.param(core.Toleration(operator="Exists"), DEDICATED, True, id="exists-empty-key-matches-all"),
        pytest.param(core.Toleration(key="other", operator="Exists"), DEDICATED, False, id="exists-other-key"),
        pytest.param(core.Toleration(key="dedicated", value="gpu", effect="NoSchedule"), DEDICATED, True, id="equal"),
        pytest.param(core.Toleration(key="dedicated", operator="Equal", value="gpu"), DEDICATED, True,
                     id="equal-explicit-any-effect"),
        pytest.param(core.Toleration(key="dedicated", value="cpu"), DEDICATED, False, id="equal-other-value"),
        pytest.param(core.Toleration(key="other", value="gpu"), DEDICATED, False, id="equal-other-key"),
        pytest.param(core.Toleration(value="gpu"), DEDICATED, False, id="equal-without-key"),
        pytest.param(core.Toleration(key="dedicated", operator="Exists", effect="NoExecute"), DEDICATED, False,
                     id="other-effect"),
        pytest.param(core.Toleration(key="x", operator="Gt"), DEDICATED, False, id="unknown-operator"),
    ],
)
def test_tolerates(toleration: core.Toleration, taint: core.Taint, want: bool) -> None:
    assert scheduling.tolerates(toleration, taint) is want


@pytest.mark.parametrize(
    ("tolerations", "effects", "want"),
    [
        pytest.param([], ("NoSchedule", "NoExecute"), DEDICATED, id="none-tolerated"),
        pytest.param([], ("NoExecute",), UNREACHABLE, id="only-wanted-effects"),
        pytest.param([], ("PreferNoSchedule",), SOFT, id="prefer"),
        pytest.param([core.Toleration(key="dedicated", value="gpu")], ("NoSchedule", "NoExecute"), UNREACHABLE,
                     id="first-untolerated"),
        pytest.param([core.Toleration(operator="Exists")], ("NoSchedule", "NoExecute"), None, id="all-tolerated"),
    ],
)
def test_find_untolerated_taint(tolerations: list[core.Toleration], effects: tuple[str, ...],
                                want: core.Taint | None) -> None:
    taints = [SOFT, DEDICATED, UNREACHABLE]
    assert scheduling.find_untolerated_taint(taints, tolerations, effects) == want


@pytest.mark.parametrize(
    ("requirement", "value", "want"),
    [
        pytest.param(req("k", "In", "a", "b"), "b", True, id="in"),
        pytest.param(req("k", "In", "a"), None, False, id="in-missing"),
        pytest.param(req("k", "NotIn", "a"), "b", True, id="notin"),
        pytest.param(req("k", "NotIn", "a"), "a", False, id="notin-listed"),
        pytest.param(req("k", "NotIn", "a"), None, True, id="notin-missing"),
        pytest.param(req("k", "Exists"), "", True, id="exists"),
        pytest.param(req("k", "Exists"), None, False, id="exists-missing"),
        pytest.param(req("k", "DoesNotExist"), None, True, id="does-not-exist"),
        pytest.param(req("k", "DoesNotExist"), "x", False, id="does-not-exist-present"),
        pytest.param(req("cores", "Gt", "4"), "8", True, id="gt"),
        pytest.param(req("cores", "Gt", "4"), "4", False, id="gt-equal"),
        pytest.param(req("cores", "Lt", "4"), "2", True, id="lt"),
        pytest.param(req("cores", "Lt", "4"), "x", False, id="lt-not-a-number"),
        pytest.param(req("cores", "Lt", "4"), None, False, id="lt-missing"),
        pytest.param(req("cores", "Gt", "1", "2"), "8", False, id="gt-two-values"),
        pytest.param(req("k", "Near", "a"), "a", False, id="unknown-operator"),
    ],
)
def test_requirement_matches(requirement: core.NodeSelectorRequirement, value: str | None, want: bool) -> None:
    assert scheduling.requirement_matches(requirement, value) is want


@pytest.mark.parametrize(
    ("term", "want"),
    [
        pytest.param(core.NodeSelectorTerm(), False, id="empty-term-matches-nothing"),
        pytest.param(core.NodeSelectorTerm(match_expressions=[req("disk", "In", "ssd"), req("zone", "Exists")]),
                     True, id="expressions-anded"),
        pytest.param(core.NodeSelectorTerm(match_expressions=[req("disk", "In", "ssd"), req("gpu", "Exists")]),
                     False, id="one-expression-fails"),
        pytest.param(core.NodeSelectorTerm(match_fields=[req("metadata.name", "In", "pi-1")]), True, id="field-name"),
        pytest.param(core.NodeSelectorTerm(match_fields=[req("metadata.name", "NotIn", "pi-1")]), False,
                     id="field-name-notin"),
        pytest.param(core.NodeSelectorTerm(match_fields=[req("metadata.uid", "Exists")]), False,
                     id="field-other-than-name"),
        pytest.param(core.NodeSelectorTerm(match_expressions=[req("disk", "In", "ssd")],
                                           match_fields=[req("metadata.name", "In", "pi-2")]), False,
                     id="fields-anded-with-expressions"),
    ],
)
def test_match_node_selector_term(term: core.NodeSelectorTerm, want: bool) -> None:
    assert scheduling.match_node_selector_term(term, {"disk": "ssd", "zone": "a"}, "pi-1") is want


@pytest.mark.parametrize(
    ("pod_spec", "want"),
    [
        pytest.param(spec(), True, id="no-constraints"),
        pytest.param(spec(selector={"zone": "a"}), True, id="selector"),
        pytest.param(spec(selector={"zone": "b"}), False, id="selector-other-value"),
        pytest.param(spec(selector={"gpu": "yes"}), False, id="selector-missing-label"),
        pytest.param(spec(core.NodeSelectorTerm(match_expressions=[req("disk", "In", "hdd")]),
                          core.NodeSelectorTerm(match_fields=[req("metadata.name", "In", "pi-1")])),
                     True, id="terms-ored"),
        pytest.param(spec(core.NodeSelectorTerm(match_expressions=[req("disk", "In", "hdd")])), False,
                     id="no-term-matches"),
        pytest.param(spec(core.NodeSelectorTerm(match_expressions=[req("disk", "In", "ssd")]),
                          selector={"zone": "b"}), False, id="selector-anded-with-terms"),
        pytest.param(spec(core.NodeSelectorTerm()), False, id="only-empty-term"),
    ],
)
def test_matches_node(pod_spec: core.PodSpec, want: bool) -> None:
    the_node = node("pi-1", zone="a", disk="ssd")
    assert scheduling.matches_node(pod_spec, the_node) is want
    required = scheduling.RequiredNodeAffinity(pod_spec)
    assert required.matches(the_node.metadata.labels, "pi-1") is want


def test_required_node_affinity_empty() -> None:
    assert scheduling.RequiredNodeAffinity(spec()).empty()
    assert not scheduling.RequiredNodeAffinity(spec(selector={"zone": "a"})).empty()
    assert not scheduling.RequiredNodeAffinity(spec(core.NodeSelectorTerm())).empty()
    no_required = core.PodSpec(containers=[], affinity=core.Affinity(node_affinity=core.NodeAffinity()))
    assert scheduling.RequiredNodeAffinity(no_required).empty()
