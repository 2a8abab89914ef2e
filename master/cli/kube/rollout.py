"""Rollouts of Deployments and DaemonSets: status messages and revisions, as kubectl computes them.

``status(kind, obj)`` -> (message, done) reads only the object's own fields: a Deployment is
rolled out when the controller has seen its latest spec (``observedGeneration``), every
replica is updated, no old replica is left and every updated replica is available::

    Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...
    Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...
    Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...
    deployment "web" successfully rolled out

A Progressing condition with reason ProgressDeadlineExceeded is ``RolloutError``.

Revisions live on the Deployment's ReplicaSets (annotation ``deployment.kubernetes.io/revision``);
``undo_target`` picks the one to go back to and ``undo_patch`` is the JSON patch that puts its
pod template (without ``pod-template-hash``) and annotations back on the Deployment.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "HASH_LABEL",
    "RESTARTED_AT",
    "REVISION",
    "RolloutError",
    "change_cause",
    "history",
    "owned_by",
    "revision",
    "same_template",
    "status",
    "undo_patch",
    "undo_target",
]

REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
CHANGE_CAUSE = "kubernetes.io/change-cause"
_SKIPPED_ANNOTATIONS = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
})


class RolloutError(ValueError):
    """A rollout that cannot finish or a history that cannot be used (one line)."""


def _n(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def status(kind: str, obj: dict[str, Any]) -> tuple[str, bool]:
    meta, spec, st = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    name = meta.get("name", "")
    observed = _n(meta.get("generation")) <= _n(st.get("observedGeneration"))
    if kind == "Deployment":
        if not observed:
            return "Waiting for deployment spec update to be observed...", False
        for cond in st.get("conditions") or []:
            if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
                raise RolloutError(f'deployment "{name}" exceeded its progress deadline')
        want = _n(spec.get("replicas", 1))
        updated, total, available = _n(st.get("updatedReplicas")), _n(st.get("replicas")), _n(st.get("availableReplicas"))
        if updated < want:
            return (f'Waiting for deployment "{name}" rollout to finish: {updated} out of {want} new replicas '
                    "have been updated..."), False
        if total > updated:
            return (f'Waiting for deployment "{name}" rollout to finish: {total - updated} old replicas are '
                    "pending termination..."), False
        if available < updated:
            return (f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} updated '
                    "replicas are available..."), False
        return f'deployment "{name}" successfully rolled out', True
    if kind == "DaemonSet":
        strategy = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate")
        if strategy != "RollingUpdate":
            raise RolloutError("rollout status is only available for RollingUpdate strategy type")
        if not observed:
            return "Waiting for daemon set spec update to be observed...", False
        desired, updated = _n(st.get("desiredNumberScheduled")), _n(st.get("updatedNumberScheduled"))
        available = _n(st.get("numberAvailable"))
        if updated < desired:
            return (f'Waiting for daemon set "{name}" rollout to finish: {updated} out of {desired} new pods '
                    "have been updated..."), False
        if available < desired:
            return (f'Waiting for daemon set "{name}" rollout to finish: {available} of {desired} updated pods '
                    "are available..."), False
        return f'daemon set "{name}" successfully rolled out', True
    raise RolloutError(f"no status viewer has been implemented for {kind}")


def revision(rs: dict[str, Any]) -> int | None:
    value = ((rs.get("metadata") or {}).get("annotations") or {}).get(REVISION)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def owned_by(items: list[dict[str, Any]], uid: str) -> list[dict[str, Any]]:
    return [o for o in items if any(r.get("uid") == uid and r.get("controller")
                                    for r in (o.get("metadata") or {}).get("ownerReferences") or [])]


def history(replicasets: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(revision, ReplicaSet) pairs, oldest first."""
    found = [(rev, rs) for rs in replicasets if (rev := revision(rs)) is not None]
    return sorted(found, key=lambda p: p[0])


def undo_target(name: str, replicasets: list[dict[str, Any]], to_revision: int) -> tuple[int, dict[str, Any]]:
    """The ReplicaSet to roll back to: ``to_revision``, or the one before the latest (0)."""
    revisions = history(replicasets)
    if to_revision > 0:
        for rev, rs in revisions:
            if rev == to_revision:
                return rev, rs
        raise RolloutError(f"unable to find specified revision {to_revision} in history")
    if len(revisions) < 2:
        raise RolloutError(f'no rollout history found for deployment "{name}"')
    return revisions[-2]


def _without_hash(template: dict[str, Any]) -> dict[str, Any]:
    meta = dict(template.get("metadata") or {})
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != HASH_LABEL}
    if labels:
        meta["labels"] = labels
    else:
        meta.pop("labels", None)
    return {**template, "metadata": meta}


def same_template(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal pod templates, ignoring the pod-template-hash label the controller adds."""
    return _without_hash(a) == _without_hash(b)


def undo_patch(deployment: dict[str, Any], rs: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON patch that restores the ReplicaSet's template and annotations on the Deployment."""
    current = (deployment.get("metadata") or {}).get("annotations") or {}
    annotations = {k: v for k, v in current.items() if k in _SKIPPED_ANNOTATIONS}
    annotations.update({k: v for k, v in ((rs.get("metadata") or {}).get("annotations") or {}).items()
                        if k not in _SKIPPED_ANNOTATIONS})
    template = _without_hash((rs.get("spec") or {}).get("template") or {})
    return [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace" if "annotations" in (deployment.get("metadata") or {}) else "add",
         "path": "/metadata/annotations", "value": annotations},
    ]


def change_cause(rs: dict[str, Any]) -> str:
    return str(((rs.get("metadata") or {}).get("annotations") or {}).get(CHANGE_CAUSE) or "<none>")
