"""Rollout status messages and revisions, as kubectl computes them."""

from __future__ import annotations

from typing import Any

import pytest

from master.cli.kube import rollout


def _dep(gen: int = 2, observed: int = 2, want: int = 3, **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web", "generation": gen}, "spec": {"replicas": want},
            "status": {"observedGeneration": observed, **status}}


@pytest.mark.parametrize(
    ("obj", "message", "done"),
    [
        pytest.param(_dep(gen=3), "Waiting for deployment spec update to be observed...", False, id="not-observed"),
        pytest.param(_dep(updatedReplicas=1, replicas=3),
                     'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...',
                     False, id="updating"),
        pytest.param(_dep(updatedReplicas=3, replicas=4),
                     'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
                     False, id="old-pending"),
        pytest.param(_dep(updatedReplicas=3, replicas=3, availableReplicas=2),
                     'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...',
                     False, id="availability"),
        pytest.param(_dep(updatedReplicas=3, replicas=3, availableReplicas=3),
                     'deployment "web" successfully rolled out', True, id="done"),
    ],
)
def test_deployment_status(obj: dict[str, Any], message: str, done: bool) -> None:
    assert rollout.status("Deployment", obj) == (message, done)


def test_progress_deadline() -> None:
    obj = _dep(conditions=[{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}])
    with pytest.raises(rollout.RolloutError, match='deployment "web" exceeded its progress deadline'):
        rollout.status("Deployment", obj)


def test_daemonset_status() -> None:
    ds = {"metadata": {"name": "proxy", "generation": 1}, "spec": {},
          "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3,
                     "numberAvailable": 2}}
    assert rollout.status("DaemonSet", ds) == (
        'Waiting for daemon set "proxy" rollout to finish: 2 of 3 updated pods are available...', False)
    ds["status"]["numberAvailable"] = 3
    assert rollout.status("DaemonSet", ds) == ('daemon set "proxy" successfully rolled out', True)
    ds["spec"]["updateStrategy"] = {"type": "OnDelete"}
    with pytest.raises(rollout.RolloutError, match="only available for RollingUpdate"):
        rollout.status("DaemonSet", ds)


def _rs(rev: int, image: str) -> dict[str, Any]:
    return {"metadata": {"name": f"web-{rev}", "annotations": {rollout.REVISION: str(rev), "note": f"r{rev}"}},
            "spec": {"template": {"metadata": {"labels": {"app": "web", rollout.HASH_LABEL: f"h{rev}"}},
                                  "spec": {"containers": [{"name": "c", "image": image}]}}}}


def test_undo_target_and_patch() -> None:
    rss = [_rs(2, "b"), _rs(1, "a"), _rs(3, "c")]
    assert rollout.undo_target("web", rss, 0)[0] == 2
    assert rollout.undo_target("web", rss, 1)[0] == 1
    with pytest.raises(rollout.RolloutError, match="unable to find specified revision 9"):
        rollout.undo_target("web", rss, 9)
    with pytest.raises(rollout.RolloutError, match='no rollout history found for deployment "web"'):
        rollout.undo_target("web", rss[:1], 0)
    dep = {"metadata": {"annotations": {rollout.REVISION: "3", "mine": "x"}}, "spec": {"template": {}}}
    patch = rollout.undo_patch(dep, _rs(1, "a"))
    assert patch[0]["value"]["metadata"]["labels"] == {"app": "web"}  # no pod-template-hash
    assert patch[1]["value"] == {rollout.REVISION: "3", "note": "r1"}
    assert rollout.same_template(_rs(1, "a")["spec"]["template"], patch[0]["value"])
