"""Which pods a drain evicts, skips or refuses."""

from __future__ import annotations

from typing import Any

from master.cli.kube import drain


def _pod(name: str, *, owner: str = "ReplicaSet", phase: str = "Running", empty_dir: bool = False,
         mirror: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "default"}
    if owner:
        meta["ownerReferences"] = [{"kind": owner, "name": "x", "uid": "u", "controller": True}]
    if mirror:
        meta["annotations"] = {drain.MIRROR_ANNOTATION: "x"}
    spec = {"volumes": [{"name": "v", "emptyDir": {}}]} if empty_dir else {}
    return {"metadata": meta, "spec": spec, "status": {"phase": phase}}


PODS = [_pod("rs"), _pod("ds", owner="DaemonSet"), _pod("bare", owner=""), _pod("done", owner="", phase="Succeeded"),
        _pod("scratch", empty_dir=True), _pod("static", owner="Node", mirror=True)]


def _names(pods: list[dict[str, Any]]) -> list[str]:
    return [p["metadata"]["name"] for p in pods]


def test_refusals_like_kubectl() -> None:
    plan = drain.classify(PODS, ignore_daemonsets=False, force=False, delete_emptydir_data=False)
    assert plan.errors == [
        "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/ds",
        "cannot delete Pods with local storage (use --delete-emptydir-data to override): default/scratch",
        "cannot delete Pods that declare no controller (use --force to override): default/bare",
    ]


def test_everything_allowed() -> None:
    plan = drain.classify(PODS, ignore_daemonsets=True, force=True, delete_emptydir_data=True)
    assert plan.errors == []
    assert _names(plan.evict) == ["rs", "bare", "done", "scratch"]
    assert plan.warnings == ["ignoring DaemonSet-managed Pods: default/ds",
                             "deleting Pods with local storage: default/scratch",
                             "deleting Pods that declare no controller: default/bare"]
