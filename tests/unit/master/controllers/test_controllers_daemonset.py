"""DaemonSet controller: node eligibility, daemon pod specs, syncs and rolling updates."""

from __future__ import annotations

from typing import Any

import pytest

from master.api import apps, core, meta, timefmt
from master.controllers import taints
from master.controllers.daemonset import HASH_LABEL, DaemonSetController, daemon_pod_spec, should_run
from master.controllers.hashing import compute_hash
from tests.unit.master.controllers.harness import START, Harness, harness, node, pod


def ds(**spec: Any) -> apps.DaemonSet:
    lbls = {"app": "agent"}
    pod_spec = core.PodSpec(containers=[core.Container(name="c", image=spec.pop("image", "agent:1"))],
                            **spec.pop("pod", {}))
    return apps.DaemonSet(
        metadata=meta.ObjectMeta(name="agent", namespace="default", uid="uid-daemonset-agent"),
        spec=apps.DaemonSetSpec(
            selector=meta.LabelSelector(match_labels=lbls),
            template=core.PodTemplateSpec(metadata=meta.ObjectMeta(labels=lbls), spec=pod_spec),
            update_strategy=apps.DaemonSetUpdateStrategy(
                type=spec.pop("strategy", "RollingUpdate"),
                rolling_update=apps.RollingUpdateDaemonSet(max_unavailable=spec.pop("max_unavailable", 1)),
            ),
            **spec,
        ),
    )


def req(key: str, op: str, *values: str) -> core.NodeSelectorRequirement:
    return core.NodeSelectorRequirement(key=key, operator=op, values=list(values))


def affinity(*terms: core.NodeSelectorTerm) -> core.Affinity:
    return core.Affinity(node_affinity=core.NodeAffinity(
        required_during_scheduling_ignored_during_execution=core.NodeSelector(node_selector_terms=list(terms))))


@pytest.mark.parametrize(
    ("pod_spec", "the_node", "want"),
    [
        pytest.param({}, node("n"), (True, True), id="plain"),
        pytest.param({"node_selector": {"disk": "ssd"}}, node("n", labels={"disk": "hdd"}), (False, False),
                     id="selector-mismatch"),
        pytest.param({"affinity": affinity(core.NodeSelectorTerm(match_expressions=[req("zone", "In", "a", "b")]))},
                     node("n", labels={"zone": "b"}), (True, True), id="affinity-in"),
        pytest.param({"affinity": affinity(core.NodeSelectorTerm(match_fields=[req("metadata.name", "In", "m")]))},
                     node("n"), (False, False), id="match-fields-other-node"),
        pytest.param({}, node("n", taints=[core.Taint(key="gpu", effect="NoSchedule")]), (False, True),
                     id="noschedule-untolerated-keeps-existing"),
        pytest.param({}, node("n", taints=[core.Taint(key="gpu", effect="NoExecute")]), (False, False),
                     id="noexecute-untolerated"),
        pytest.param({}, node("n", taints=[core.Taint(key=taints.UNREACHABLE, effect="NoExecute")]), (True, True),
                     id="unreachable-tolerated-automatically"),
        pytest.param({}, node("n", unschedulable=True, taints=[core.Taint(key=taints.UNSCHEDULABLE,
                                                                           effect="NoSchedule")]),
                     (True, True), id="cordoned-node"),
        pytest.param({}, node("n", taints=[core.Taint(key="x", effect="PreferNoSchedule")]), (True, True),
                     id="prefer-no-schedule-ignored"),
        pytest.param({"tolerations": [core.Toleration(key="gpu", operator="Exists")]},
                     node("n", taints=[core.Taint(key="gpu", effect="NoExecute")]), (True, True), id="tolerated"),
    ],
)
def test_should_run(pod_spec: dict[str, Any], the_node: core.Node, want: tuple[bool, bool]) -> None:
    assert should_run(ds(pod=pod_spec), the_node) == want


def test_daemon_pod_spec() -> None:
    template = ds(pod={"host_network": True, "tolerations": [core.Toleration(key=taints.NOT_READY, operator="Exists",
                                                                             effect="NoExecute")]}).spec.template.spec
    spec = daemon_pod_spec(template, "pi-3")
    assert spec.affinity is not None and spec.affinity.node_affinity is not None
    terms = spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    assert terms is not None and terms.node_selector_terms == [
        core.NodeSelectorTerm(match_fields=[req("metadata.name", "In", "pi-3")])]
    keys = [(t.key, t.effect) for t in spec.tolerations]
    assert keys.count((taints.NOT_READY, "NoExecute")) == 1
    assert (taints.NETWORK_UNAVAILABLE, "NoSchedule") in keys and (taints.UNSCHEDULABLE, "NoSchedule") in keys
    assert template.affinity is None, "the template is not changed"


def setup(*objs: meta.Object) -> tuple[Harness, DaemonSetController]:
    h = harness()
    ctl = DaemonSetController(h.ctx)
    h.load(*objs)
    return h, ctl


def daemon_pods(h: Harness) -> dict[str, core.Pod]:
    from master.controllers.daemonset import _node_of

    return {_node_of(p): p for p in h.api.all(core.Pod) if not p.metadata.deletion_timestamp}


async def test_one_pod_per_eligible_node_and_misscheduled_removed() -> None:
    d = ds(pod={"node_selector": {"role": "edge"}})
    h, ctl = setup(d, node("a", labels={"role": "edge"}), node("b", labels={"role": "edge"}), node("c"))
    owner = h.api.get_now(apps.DaemonSet, "agent", "default")
    h.load(pod("stray", labels={"app": "agent"}, node="c", phase="Running", owner=owner))
    await ctl.sync("default/agent")
    pods = daemon_pods(h)
    assert sorted(pods) == ["a", "b"], "created on a and b, the pod on c deleted"
    assert all(p.metadata.labels[HASH_LABEL] == compute_hash(d.spec.template) for p in pods.values())
    st = h.api.get_now(apps.DaemonSet, "agent", "default")
    assert st is not None
    assert (st.status.desired_number_scheduled, st.status.number_misscheduled) == (2, 1)


async def test_duplicates_and_failed_pods() -> None:
    h, ctl = setup(ds(), node("a"), node("b"))
    owner = h.api.get_now(apps.DaemonSet, "agent", "default")
    current = {"app": "agent", HASH_LABEL: compute_hash(ds().spec.template)}
    old = pod("old", labels=current, node="a", phase="Running", ready=True, owner=owner)
    old.metadata.creation_timestamp = timefmt.format_time(START - 100)
    h.load(old, pod("dup", labels=current, node="a", phase="Running", ready=True, owner=owner),
           pod("failed", labels={"app": "agent"}, node="b", phase="Failed", owner=owner))
    await ctl.sync("default/agent")
    names = {p.metadata.name for p in h.api.all(core.Pod)}
    assert names == {"old"}, "the newer duplicate and the failed pod are deleted"
    assert "FailedDaemonPod" in h.recorder.reasons()


async def test_rolling_update_respects_max_unavailable() -> None:
    d = ds(image="agent:2", max_unavailable=1)
    old_template_hash = compute_hash(ds(image="agent:1").spec.template)
    h, ctl = setup(d, node("a"), node("b"), node("c"))
    owner = h.api.get_now(apps.DaemonSet, "agent", "default")
    for n in ("a", "b", "c"):
        p = pod(f"old-{n}", labels={"app": "agent", HASH_LABEL: old_template_hash}, node=n, phase="Running",
                ready=True, owner=owner)
        h.load(p)
    await ctl.sync("default/agent")
    assert h.api.verbs("Pod") == ["delete"], "one old pod at a time"


async def test_on_delete_strategy_leaves_old_pods() -> None:
    d = ds(image="agent:2", strategy="OnDelete")
    h, ctl = setup(d, node("a"))
    owner = h.api.get_now(apps.DaemonSet, "agent", "default")
    h.load(pod("old-a", labels={"app": "agent", HASH_LABEL: "old"}, node="a", phase="Running", ready=True,
               owner=owner))
    await ctl.sync("default/agent")
    assert h.api.verbs("Pod") == []
    st = h.api.get_now(apps.DaemonSet, "agent", "default")
    assert st is not None and (st.status.current_number_scheduled, st.status.updated_number_scheduled) == (1, 0)


async def test_terminating_pod_blocks_its_replacement() -> None:
    h, ctl = setup(ds(), node("a"))
    owner = h.api.get_now(apps.DaemonSet, "agent", "default")
    leaving = pod("leaving", labels={"app": "agent"}, node="a", phase="Running", owner=owner)
    leaving.metadata.deletion_timestamp = timefmt.format_time(START)
    h.load(leaving)
    await ctl.sync("default/agent")
    assert h.api.verbs("Pod") == []
