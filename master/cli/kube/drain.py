"""Cordoning and draining nodes: which pods a drain evicts, skips or refuses, as kubectl decides.

For every pod on the node, in kubectl's order:

- mirror pods (annotation ``kubernetes.io/config.mirror``): skipped silently, the node owns them;
- DaemonSet pods: the DaemonSet would put them straight back, so they are skipped with a
  warning when ``--ignore-daemonsets``, else the drain is refused;
- pods with ``emptyDir`` volumes (still running): their data is lost, so they need
  ``--delete-emptydir-data``;
- pods no controller manages: nothing recreates them elsewhere, so they need ``--force``;
- finished pods (Succeeded, Failed) are always deleted.

``classify`` returns a ``Plan``: the pods to evict, warnings, and refusals (a non-empty list
means the drain stops after cordoning, as kubectl's does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from master.cli.kube.session import Session

__all__ = ["MIRROR_ANNOTATION", "Plan", "classify", "pod_ref", "set_unschedulable"]

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


@dataclass(slots=True)
class Plan:
    evict: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def pod_ref(pod: dict[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def _controller(pod: dict[str, Any]) -> dict[str, Any] | None:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return dict(ref)
    return None


def _terminal(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _has_local_storage(pod: dict[str, Any]) -> bool:
    return any("emptyDir" in v for v in (pod.get("spec") or {}).get("volumes") or [])


def classify(
    pods: list[dict[str, Any]], *, ignore_daemonsets: bool, force: bool, delete_emptydir_data: bool
) -> Plan:
    daemonset_skipped: list[str] = []
    daemonset_refused: list[str] = []
    local_refused: list[str] = []
    local_deleted: list[str] = []
    unmanaged_refused: list[str] = []
    unmanaged_deleted: list[str] = []
    plan = Plan()
    for pod in pods:
        meta = pod.get("metadata") or {}
        if MIRROR_ANNOTATION in (meta.get("annotations") or {}):
            continue
        owner = _controller(pod)
        if owner is not None and owner.get("kind") == "DaemonSet":
            (daemonset_skipped if ignore_daemonsets else daemonset_refused).append(pod_ref(pod))
            continue
        refused = False
        if _has_local_storage(pod) and not _terminal(pod):
            if delete_emptydir_data:
                local_deleted.append(pod_ref(pod))
            else:
                local_refused.append(pod_ref(pod))
                refused = True
        if owner is None and not _terminal(pod):
            if force:
                unmanaged_deleted.append(pod_ref(pod))
            else:
                unmanaged_refused.append(pod_ref(pod))
                refused = True
        if not refused:
            plan.evict.append(pod)
    if daemonset_refused:
        plan.errors.append("cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): "
                           + ", ".join(daemonset_refused))
    if local_refused:
        plan.errors.append("cannot delete Pods with local storage (use --delete-emptydir-data to override): "
                           + ", ".join(local_refused))
    if unmanaged_refused:
        plan.errors.append("cannot delete Pods that declare no controller (use --force to override): "
                           + ", ".join(unmanaged_refused))
    if daemonset_skipped:
        plan.warnings.append("ignoring DaemonSet-managed Pods: " + ", ".join(daemonset_skipped))
    if local_deleted:
        plan.warnings.append("deleting Pods with local storage: " + ", ".join(local_deleted))
    if unmanaged_deleted:
        plan.warnings.append("deleting Pods that declare no controller: " + ", ".join(unmanaged_deleted))
    return plan


async def set_unschedulable(s: Session, name: str, value: bool, *, dry_run: bool = False) -> bool:
    """Cordon (True) or uncordon (False) a node; False when it already was."""
    from master.cli.kube import resources

    nodes = resources.lookup("nodes")
    node = await s.rest.get(nodes, name, "")
    if bool((node.get("spec") or {}).get("unschedulable")) == value:
        return False
    if not dry_run:
        await s.rest.patch(nodes, name, "", {"spec": {"unschedulable": True if value else None}}, "merge")
    return True
