"""ReplicaSet controller: sync against the fake API, with table cases."""

from __future__ import annotations

import pytest

from master.api import apps, core, meta, timefmt
from master.api import helpers as api_helpers
from master.client import errors
from master.controllers.replicaset import ReplicaSetController, deletion_rank
from tests.unit.master.controllers.harness import START, Harness, harness, pod


def rs(name: str = "web", replicas: int = 3, min_ready: int = 0) -> apps.ReplicaSet:
    lbls = {"app": name}
    return apps.ReplicaSet(
        metadata=meta.ObjectMeta(name=name, namespace="default"),
        spec=apps.ReplicaSetSpec(
            replicas=replicas, min_ready_seconds=min_ready, selector=meta.LabelSelector(match_labels=lbls),
            template=core.PodTemplateSpec(metadata=meta.ObjectMeta(labels=lbls),
                                          spec=core.PodSpec(containers=[core.Container(name="c", image="img")])),
        ),
    )


def setup(*objs: meta.Object) -> tuple[Harness, ReplicaSetController]:
    h = harness()
    ctl = ReplicaSetController(h.ctx)
    h.load(*objs)
    return h, ctl


def owned(h: Harness, owner: apps.ReplicaSet) -> list[core.Pod]:
    return [p for p in h.api.all(core.Pod) if api_helpers.is_controlled_by(p, owner)]


async def test_creates_missing_pods_from_the_template() -> None:
    h, ctl = setup(rs(replicas=3))
    await ctl.sync("default/web")
    pods = h.api.all(core.Pod)
    assert len(pods) == 3
    p = pods[0]
    assert p.metadata.name.startswith("web-") and p.metadata.labels == {"app": "web"}
    ref = p.metadata.owner_references[0]
    assert (ref.kind, ref.name, ref.controller, ref.block_owner_deletion) == ("ReplicaSet", "web", True, True)
    assert h.recorder.reasons() == ["SuccessfulCreate"] * 3
    status = h.api.get_now(apps.ReplicaSet, "web", "default")
    assert status is not None and status.status.replicas == 0 and status.status.observed_generation == 1


async def test_expectations_prevent_over_creation_until_observed() -> None:
    h, ctl = setup(rs(replicas=2))
    await ctl.sync("default/web")
    assert len(h.api.all(core.Pod)) == 2
    await ctl.sync("default/web")  # the informer has not shown the pods yet
    assert len(h.api.all(core.Pod)) == 2
    for p in h.api.all(core.Pod):
        h.observe(p)
    await ctl.sync("default/web")
    assert len(h.api.all(core.Pod)) == 2


async def test_slow_start_stops_at_the_first_failing_batch() -> None:
    h, ctl = setup(rs(replicas=10))
    for _ in range(3):
        h.api.fail("create", "Pod", errors.Forbidden("exceeded quota", code=403, reason="Forbidden"))
    with pytest.raises(errors.Forbidden):
        await ctl.sync("default/web")
    # batch 1 fails at once: one call, no pods
    assert h.api.all(core.Pod) == []
    status = h.api.get_now(apps.ReplicaSet, "web", "default")
    assert status is not None
    cond = status.status.conditions[0]
    assert (cond.type, cond.status, cond.reason) == ("ReplicaFailure", "True", "FailedCreate")
    assert "FailedCreate" in h.recorder.reasons()
    assert ctl.expectations.satisfied("default/web"), "failed creations are not waited for"


async def test_deletes_surplus_least_valuable_first() -> None:
    owner = rs(replicas=2)
    h = harness()
    ctl = ReplicaSetController(h.ctx)
    (owner,) = h.load(owner)
    h.load(
        pod("running-ready", labels={"app": "web"}, node="n1", phase="Running", ready=True, owner=owner),
        pod("pending", labels={"app": "web"}, node="n1", phase="Pending", owner=owner),
        pod("unscheduled", labels={"app": "web"}, owner=owner),
        pod("running-unready", labels={"app": "web"}, node="n2", phase="Running", ready=False, owner=owner),
    )
    await ctl.sync("default/web")
    left = sorted(p.metadata.name for p in h.api.all(core.Pod))
    assert left == ["running-ready", "running-unready"]
    assert ctl.expectations.satisfied("default/web") is False  # deletions not observed yet


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(pod("x"), pod("y", node="n"), id="unscheduled-first"),
        pytest.param(pod("x", node="n", phase="Pending"), pod("y", node="n", phase="Running"), id="pending-first"),
        pytest.param(pod("x", node="n", phase="Running", ready=False), pod("y", node="n", phase="Running", ready=True),
                     id="unready-first"),
        pytest.param(pod("x", node="n", phase="Running"),
                     pod("y", node="m", phase="Running"), id="crowded-node-first"),
    ],
)
def test_deletion_rank(a: core.Pod, b: core.Pod) -> None:
    siblings = [a, b, pod("z", node="n", phase="Running")]
    assert deletion_rank(a, siblings) < deletion_rank(b, siblings)


def test_deletion_rank_newer_and_restarted_first() -> None:
    old = pod("old", node="n", phase="Running")
    old.metadata.creation_timestamp = timefmt.format_time(START - 100)
    new = pod("new", node="m", phase="Running")
    new.metadata.creation_timestamp = timefmt.format_time(START)
    assert deletion_rank(new, [old, new]) < deletion_rank(old, [old, new])
    restarted = pod("r", node="k", phase="Running")
    restarted.status.container_statuses = [core.ContainerStatus(name="c", ready=True, restart_count=5, image="i",
                                                                image_id="i")]
    restarted.metadata.creation_timestamp = old.metadata.creation_timestamp
    assert deletion_rank(restarted, [old, restarted]) < deletion_rank(old, [old, restarted])


async def test_adopts_matching_orphans_and_releases_mismatches() -> None:
    h = harness()
    ctl = ReplicaSetController(h.ctx)
    (owner,) = h.load(rs(replicas=2))
    h.load(
        pod("orphan", labels={"app": "web"}, node="n", phase="Running", ready=True),
        pod("stray", labels={"app": "other"}, owner=owner),
        pod("foreign", labels={"app": "web"}, owner=rs("other")),
    )
    await ctl.sync("default/web")
    orphan = h.api.get_now(core.Pod, "orphan", "default")
    assert orphan is not None and api_helpers.is_controlled_by(orphan, owner)
    stray = h.api.get_now(core.Pod, "stray", "default")
    assert stray is not None and not stray.metadata.owner_references
    foreign = h.api.get_now(core.Pod, "foreign", "default")
    assert foreign is not None and foreign.metadata.owner_references[0].name == "other"
    # 1 adopted + 1 created; the foreign and released pods are not counted.
    assert len(owned(h, owner)) == 2


async def test_does_not_adopt_for_an_owner_being_deleted() -> None:
    doomed = rs(replicas=1)
    doomed.metadata.deletion_timestamp = timefmt.format_time(START)
    doomed.metadata.finalizers = ["foregroundDeletion"]
    h, ctl = setup(doomed, pod("orphan", labels={"app": "web"}))
    await ctl.sync("default/web")
    assert h.api.verbs("Pod") == []


@pytest.mark.parametrize(
    ("pods", "min_ready", "want", "recheck"),
    [
        pytest.param([("a", True, 3600), ("b", True, 3600), ("c", False, 0)], 0, (3, 3, 2, 2), None, id="mixed"),
        pytest.param([("a", True, 5), ("b", True, 5), ("c", True, 5)], 10, (3, 3, 3, 0), 10.0, id="min-ready-wait"),
        pytest.param([("a", True, 60), ("b", True, 60), ("c", True, 60)], 10, (3, 3, 3, 3), None, id="available"),
    ],
)
async def test_status(pods: list[tuple[str, bool, int]], min_ready: int, want: tuple[int, int, int, int],
                      recheck: float | None) -> None:
    h = harness()
    ctl = ReplicaSetController(h.ctx)
    (owner,) = h.load(rs(replicas=3, min_ready=min_ready))
    for name, ready, ago in pods:
        p = pod(name, labels={"app": "web"}, node="n", phase="Running", ready=ready, owner=owner)
        p.status.conditions[0].last_transition_time = timefmt.format_time(START - ago)
        h.load(p)
    again = await ctl.sync("default/web")
    st = h.api.get_now(apps.ReplicaSet, "web", "default")
    assert st is not None
    s = st.status
    assert (s.replicas, s.fully_labeled_replicas, s.ready_replicas, s.available_replicas) == want
    assert again == recheck


async def test_gone_replicaset_is_done() -> None:
    h, ctl = setup()
    assert await ctl.sync("default/missing") is None
    assert h.api.writes() == []


async def test_terminating_and_finished_pods_are_replaced() -> None:
    h = harness()
    ctl = ReplicaSetController(h.ctx)
    (owner,) = h.load(rs(replicas=2))
    leaving = pod("leaving", labels={"app": "web"}, node="n", phase="Running", owner=owner)
    leaving.metadata.deletion_timestamp = timefmt.format_time(START)
    h.load(leaving, pod("done", labels={"app": "web"}, node="n", phase="Succeeded", owner=owner))
    await ctl.sync("default/web")
    assert h.api.verbs("Pod") == ["create", "create"]
