"""Deployment controller: rolling arithmetic, proportional scaling, revisions, conditions, and syncs."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from master.api import apps, core, meta, timefmt
from master.api import helpers as api_helpers
from master.client import errors
from master.controllers.deployment import proportional, util
from master.controllers.deployment.controller import DeploymentController
from master.controllers.deployment.progress import paused_conditions, requeue_after, rollout_status
from master.controllers.deployment.rolling import new_rs_new_replicas
from master.controllers.deployment.rollout import Rollout
from tests.unit.master.controllers.harness import START, Harness, harness, pod


def deploy(replicas: int = 4, *, image: str = "img:1", surge: int | str = "25%", unavailable: int | str = "25%",
           strategy: str = "RollingUpdate", **spec: Any) -> apps.Deployment:
    lbls = {"app": "web"}
    ru = apps.RollingUpdateDeployment(max_surge=surge, max_unavailable=unavailable) if strategy == "RollingUpdate" else None
    return apps.Deployment(
        metadata=meta.ObjectMeta(name="web", namespace="default", uid="uid-deployment-web"),
        spec=apps.DeploymentSpec(
            replicas=replicas, selector=meta.LabelSelector(match_labels=lbls),
            template=core.PodTemplateSpec(metadata=meta.ObjectMeta(labels=lbls),
                                          spec=core.PodSpec(containers=[core.Container(name="c", image=image)])),
            strategy=apps.DeploymentStrategy(type=strategy, rolling_update=ru),
            revision_history_limit=spec.pop("revision_history_limit", 10),
            progress_deadline_seconds=spec.pop("progress_deadline_seconds", 600),
            **spec,
        ),
    )


def rs_for(d: apps.Deployment, replicas: int, *, available: int | None = None, revision: int = 1,
           created: float = START - 1000, image: str | None = None, name: str = "") -> apps.ReplicaSet:
    template = d.spec.template
    if image is not None:
        c = template.spec.containers[0]
        template = msgspec.structs.replace(template, spec=msgspec.structs.replace(
            template.spec, containers=[msgspec.structs.replace(c, image=image)]))
    h = util.compute_hash(template)
    labels = {**template.metadata.labels, util.POD_TEMPLATE_HASH_LABEL: h}
    tmpl = msgspec.structs.replace(template, metadata=msgspec.structs.replace(template.metadata, labels=labels))
    avail = replicas if available is None else available
    return apps.ReplicaSet(
        metadata=meta.ObjectMeta(
            name=name or f"web-{h}", namespace="default", labels=labels,
            annotations={util.REVISION_ANNOTATION: str(revision), util.DESIRED_REPLICAS_ANNOTATION: str(d.spec.replicas),
                         util.MAX_REPLICAS_ANNOTATION: str((d.spec.replicas or 0) + util.max_surge(d))},
            owner_references=[api_helpers.new_controller_ref(d)], creation_timestamp=timefmt.format_time(created),
        ),
        spec=apps.ReplicaSetSpec(replicas=replicas, selector=meta.LabelSelector(match_labels=labels), template=tmpl),
        status=apps.ReplicaSetStatus(replicas=replicas, ready_replicas=avail, available_replicas=avail,
                                     observed_generation=1),
    )


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "want"),
    [
        pytest.param(4, "25%", "25%", (1, 1), id="defaults-of-4"),
        pytest.param(10, "25%", "25%", (3, 2), id="surge-rounds-up-unavailable-down"),
        pytest.param(3, 0, 0, (0, 1), id="never-both-zero"),
        pytest.param(2, 1, 5, (1, 5), id="ints"),
    ],
)
def test_fenceposts(replicas: int, surge: int | str, unavailable: int | str, want: tuple[int, int]) -> None:
    d = deploy(replicas, surge=surge, unavailable=unavailable)
    assert util.resolve_fenceposts(d) == want
    assert util.max_unavailable(d) == min(want[1], replicas)


@pytest.mark.parametrize(
    ("replicas", "surge", "sizes", "new_size", "want"),
    [
        pytest.param(4, 1, [4], 0, 1, id="first-surge-step"),
        pytest.param(4, 1, [3], 1, 2, id="room-after-scale-down"),
        pytest.param(4, 1, [4], 1, 1, id="at-max-total"),
        pytest.param(4, 1, [], 0, 4, id="fresh-deployment"),
        pytest.param(4, 2, [1], 3, 4, id="never-above-desired"),
    ],
)
def test_new_rs_new_replicas(replicas: int, surge: int, sizes: list[int], new_size: int, want: int) -> None:
    d = deploy(replicas, surge=surge, unavailable=0)
    old = [rs_for(d, n, image=f"old{i}") for i, n in enumerate(sizes)]
    new = rs_for(d, new_size)
    assert new_rs_new_replicas(d, [*old, new], new) == want


def test_recreate_new_replicas_is_the_desired_count() -> None:
    d = deploy(5, strategy="Recreate")
    assert new_rs_new_replicas(d, [], rs_for(d, 0)) == 5


def test_proportional_plan_worked_example() -> None:
    d = deploy(15, surge=3, unavailable=0)
    old_d = deploy(10, surge=3, unavailable=0)
    new = rs_for(old_d, 8, created=START - 10)
    old = rs_for(old_d, 5, image="old", created=START - 100)
    plan = {rs.metadata.name: n for rs, n in proportional.plan(d, [old, new])}
    assert plan == {new.metadata.name: 11, old.metadata.name: 7}


def test_proportional_scale_down_to_zero() -> None:
    d = deploy(0, surge=1, unavailable=0)
    old_d = deploy(4, surge=1, unavailable=0)
    a = rs_for(old_d, 3, created=START - 10)
    b = rs_for(old_d, 2, image="old", created=START - 100)
    assert sorted(n for _, n in proportional.plan(d, [a, b])) == [0, 0]


def test_find_active_or_latest_and_saturation() -> None:
    d = deploy(3)
    new = rs_for(d, 3)
    old = rs_for(d, 0, image="old")
    assert proportional.find_active_or_latest(new, [old]) is new
    assert proportional.find_active_or_latest(None, [old]) is old
    assert proportional.find_active_or_latest(new, [rs_for(d, 1, image="x")]) is None
    assert proportional.is_saturated(d, new)
    assert not proportional.is_saturated(d, rs_for(d, 3, available=2))


@pytest.mark.parametrize(
    ("annotations", "revision", "exists", "want_rev", "want_history"),
    [
        pytest.param({}, 1, False, "1", None, id="new"),
        pytest.param({util.REVISION_ANNOTATION: "2"}, 4, True, "4", "2", id="rollback-moves-to-history"),
        pytest.param({util.REVISION_ANNOTATION: "2", util.REVISION_HISTORY_ANNOTATION: "1"}, 3, True, "3", "1,2",
                     id="history-appends"),
        pytest.param({util.REVISION_ANNOTATION: "5"}, 3, True, "5", None, id="never-goes-down"),
    ],
)
def test_new_rs_annotations(annotations: dict[str, str], revision: int, exists: bool, want_rev: str,
                            want_history: str | None) -> None:
    d = deploy(3)
    d.metadata.annotations = {"kubernetes.io/change-cause": "v2", util.REVISION_ANNOTATION: "9",
                              "kubectl.kubernetes.io/last-applied-configuration": "{}"}
    out = util.new_rs_annotations(d, annotations, revision, exists=exists)
    assert out[util.REVISION_ANNOTATION] == want_rev
    assert out.get(util.REVISION_HISTORY_ANNOTATION) == want_history
    assert out["kubernetes.io/change-cause"] == "v2"
    assert "kubectl.kubernetes.io/last-applied-configuration" not in out
    assert out[util.DESIRED_REPLICAS_ANNOTATION] == "3" and out[util.MAX_REPLICAS_ANNOTATION] == "4"


def test_equal_ignore_hash() -> None:
    d = deploy()
    rs = rs_for(d, 1)
    assert util.equal_ignore_hash(rs.spec.template, d.spec.template)
    assert not util.equal_ignore_hash(rs_for(d, 1, image="other").spec.template, d.spec.template)


def _rollout(d: apps.Deployment, new: apps.ReplicaSet | None, old: list[apps.ReplicaSet]) -> Rollout:
    return Rollout(d, new, old)


def conds(status: apps.DeploymentStatus) -> dict[str, tuple[str, str]]:
    return {c.type: (c.status, c.reason) for c in status.conditions}


def test_rollout_status_complete_progressing_and_timed_out() -> None:
    d = deploy(3)
    d.metadata.generation = 2
    new = rs_for(d, 3)
    st = rollout_status(_rollout(d, new, []), START)
    assert (st.replicas, st.updated_replicas, st.available_replicas, st.observed_generation) == (3, 3, 3, 2)
    assert conds(st) == {"Available": ("True", "MinimumReplicasAvailable"),
                         "Progressing": ("True", "NewReplicaSetAvailable")}

    # Halfway: more available than recorded -> progressing.
    mid = rs_for(d, 3, available=1)
    old = rs_for(d, 2, image="old")
    st = rollout_status(_rollout(d, mid, [old]), START)
    assert conds(st)["Progressing"] == ("True", "ReplicaSetUpdated")
    assert conds(st)["Available"] == ("True", "MinimumReplicasAvailable")  # 3 available >= 3 - 0
    assert requeue_after(d, st, START) == 600.0

    # Nothing moved for longer than the deadline -> timed out (and no more requeues).
    stale = msgspec.structs.replace(d, status=msgspec.structs.replace(st, conditions=[
        c if c.type != "Progressing" else msgspec.structs.replace(c, last_update_time=timefmt.format_time(START - 700))
        for c in st.conditions]))
    st2 = rollout_status(_rollout(stale, mid, [old]), START)
    assert conds(st2)["Progressing"] == ("False", "ProgressDeadlineExceeded")
    assert requeue_after(stale, st2, START) is None


def test_unavailable_and_paused_conditions() -> None:
    d = deploy(4, surge=1, unavailable=1)
    st = rollout_status(_rollout(d, rs_for(d, 4, available=2), []), START)
    assert conds(st)["Available"] == ("False", "MinimumReplicasUnavailable")
    assert st.unavailable_replicas == 2
    paused = deploy(2, paused=True)
    got = paused_conditions(paused, START)
    assert got is not None and (got[0].status, got[0].reason) == ("Unknown", "DeploymentPaused")
    resumed = msgspec.structs.replace(deploy(2), status=apps.DeploymentStatus(conditions=got))
    again = paused_conditions(resumed, START)
    assert again is not None and again[0].reason == "DeploymentResumed"
    assert paused_conditions(deploy(2), START) is None


# ---- syncs against the fake API ----------------------------------------------------------------


def setup(*objs: meta.Object) -> tuple[Harness, DeploymentController, list[Any]]:
    h = harness()
    ctl = DeploymentController(h.ctx)
    loaded = h.load(*objs)
    return h, ctl, loaded


async def test_new_deployment_creates_its_replicaset() -> None:
    h, ctl, (d,) = setup(deploy(4))
    await ctl.sync("default/web")
    (rs,) = h.api.all(apps.ReplicaSet)
    pod_hash = util.compute_hash(d.spec.template)
    assert rs.metadata.name == f"web-{pod_hash}"
    assert rs.spec.replicas == 4
    assert rs.spec.selector.match_labels == {"app": "web", util.POD_TEMPLATE_HASH_LABEL: pod_hash}
    assert rs.spec.template.metadata.labels[util.POD_TEMPLATE_HASH_LABEL] == pod_hash
    assert rs.metadata.annotations[util.REVISION_ANNOTATION] == "1"
    assert api_helpers.is_controlled_by(rs, d)
    dep = h.api.get_now(apps.Deployment, "web", "default")
    assert dep is not None and dep.metadata.annotations[util.REVISION_ANNOTATION] == "1"
    assert conds(dep.status)["Progressing"] == ("True", "NewReplicaSetCreated")
    assert dep.status.observed_generation == 1
    assert "ScalingReplicaSet" in h.recorder.reasons()


async def test_rolling_update_steps() -> None:
    old_d = deploy(4, image="img:1", surge=1, unavailable=0)
    d = deploy(4, image="img:2", surge=1, unavailable=0)
    h, ctl, _ = setup(d, rs_for(old_d, 4, revision=1))
    await ctl.sync("default/web")
    by_rev = {util.revision_of(r): r for r in h.api.all(apps.ReplicaSet)}
    assert by_rev[2].spec.replicas == 1 and by_rev[1].spec.replicas == 4, "surge first, nothing unavailable"
    # The new pod becomes available: the old RS may give one up.
    h.sync_caches()
    new = by_rev[2]
    h.api.objects[("ReplicaSet", "default", new.metadata.name)] = msgspec.structs.replace(
        new, status=apps.ReplicaSetStatus(replicas=1, ready_replicas=1, available_replicas=1, observed_generation=1))
    h.sync_caches()
    await ctl.sync("default/web")
    by_rev = {util.revision_of(r): r for r in h.api.all(apps.ReplicaSet)}
    assert (by_rev[1].spec.replicas, by_rev[2].spec.replicas) == (3, 1)


async def test_recreate_waits_for_old_pods() -> None:
    old_d = deploy(2, image="img:1", strategy="Recreate")
    d = deploy(2, image="img:2", strategy="Recreate")
    h = harness()
    ctl = DeploymentController(h.ctx)
    h.load(d, rs_for(old_d, 2))
    await ctl.sync("default/web")
    assert [r.spec.replicas for r in h.api.all(apps.ReplicaSet)] == [0], "old scaled down, nothing new yet"
    h.sync_caches()
    old_now = h.api.all(apps.ReplicaSet)[0]
    h.load(pod("old-pod", labels={"app": "web"}, node="n", phase="Running", owner=old_now))
    h.api.objects[("ReplicaSet", "default", old_now.metadata.name)] = msgspec.structs.replace(
        old_now, status=apps.ReplicaSetStatus(replicas=0, observed_generation=2))
    h.sync_caches()
    await ctl.sync("default/web")
    assert len(h.api.all(apps.ReplicaSet)) == 1, "an old pod still runs"
    await h.api.delete(core.Pod, "old-pod", namespace="default")
    h.sync_caches()
    await ctl.sync("default/web")
    rss = h.api.all(apps.ReplicaSet)
    assert sorted(r.spec.replicas or 0 for r in rss) == [0, 2]


async def test_paused_deployment_scales_but_does_not_roll() -> None:
    d = deploy(5, image="img:2", paused=True)
    old_d = deploy(3, image="img:1")
    h, ctl, _ = setup(d, rs_for(old_d, 3))
    await ctl.sync("default/web")
    (rs,) = h.api.all(apps.ReplicaSet)
    assert rs.spec.replicas == 5, "scaled, no new ReplicaSet while paused"
    dep = h.api.get_now(apps.Deployment, "web", "default")
    assert dep is not None and conds(dep.status)["Progressing"] == ("Unknown", "DeploymentPaused")


async def test_rollback_reuses_the_old_replicaset_with_a_new_revision() -> None:
    d1 = deploy(2, image="img:1")
    d = deploy(2, image="img:1")
    d.metadata.annotations = {util.REVISION_ANNOTATION: "2"}
    h, ctl, _ = setup(d, rs_for(d1, 0, revision=1, created=START - 200),
                      rs_for(d1, 2, revision=2, image="img:2", created=START - 100))
    await ctl.sync("default/web")
    by_image = {r.spec.template.spec.containers[0].image: r for r in h.api.all(apps.ReplicaSet)}
    back = by_image["img:1"]
    assert back.metadata.annotations[util.REVISION_ANNOTATION] == "3"
    assert back.metadata.annotations[util.REVISION_HISTORY_ANNOTATION] == "1"
    dep = h.api.get_now(apps.Deployment, "web", "default")
    assert dep is not None and dep.metadata.annotations[util.REVISION_ANNOTATION] == "3"


async def test_history_limit_cleans_up_old_empty_replicasets() -> None:
    d = deploy(1, image="img:9", revision_history_limit=1)
    olds = [rs_for(d, 0, image=f"img:{i}", revision=i, created=START - 100 + i) for i in range(1, 4)]
    current = rs_for(d, 1, revision=4)
    h, ctl, _ = setup(d, *olds, current)
    dep = h.api.get_now(apps.Deployment, "web", "default")
    assert dep is not None
    h.api.objects[("Deployment", "default", "web")] = msgspec.structs.replace(dep, status=apps.DeploymentStatus(
        observed_generation=1, replicas=1, updated_replicas=1, available_replicas=1, ready_replicas=1))
    h.sync_caches()
    await ctl.sync("default/web")
    assert sorted(util.revision_of(r) for r in h.api.all(apps.ReplicaSet)) == [3, 4]


async def test_adopts_orphan_replicasets_and_ignores_others() -> None:
    d = deploy(2)
    h = harness()
    ctl = DeploymentController(h.ctx)
    (d,) = h.load(d)
    orphan = rs_for(d, 2)
    orphan.metadata.owner_references = []
    h.load(orphan)
    await ctl.sync("default/web")
    (rs,) = h.api.all(apps.ReplicaSet)
    assert api_helpers.is_controlled_by(rs, d), "the matching orphan became the new ReplicaSet"


async def test_scaling_over_a_concurrent_status_write_retries_once() -> None:
    old_d = deploy(4, image="img:1", surge=1, unavailable=0)
    h, ctl, (_, old) = setup(deploy(4, image="img:1", surge=1, unavailable=0), rs_for(old_d, 2))
    # The ReplicaSet controller writes status after our cache copy was taken.
    await h.api.update_status(msgspec.structs.replace(old, status=apps.ReplicaSetStatus(replicas=2)))
    await ctl.sync("default/web")
    (rs,) = h.api.all(apps.ReplicaSet)
    assert rs.spec.replicas == 4 and rs.status.replicas == 2
    assert h.api.verbs("ReplicaSet") == ["status", "update"]
    # A spec change by someone else is a real conflict: the sync fails and is retried later.
    h2, ctl2, (_, old2) = setup(deploy(5, image="img:1", surge=1, unavailable=0), rs_for(old_d, 2))
    await h2.api.update(msgspec.structs.replace(old2, spec=msgspec.structs.replace(old2.spec, replicas=3)))
    with pytest.raises(errors.Conflict):
        await ctl2.sync("default/web")
