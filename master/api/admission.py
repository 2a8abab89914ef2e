"""Pure pieces of the built-in admission plugins the apiserver runs on create.

They take and return objects (new ones; the input is not changed) and need nothing but the
object, so the apiserver's admission chain calls them directly.
"""

from __future__ import annotations

import msgspec

from master.api.core.pod import Pod, Toleration

__all__ = [
    "DEFAULT_TOLERATION_SECONDS",
    "TAINT_NOT_READY",
    "TAINT_UNREACHABLE",
    "default_service_account",
    "default_toleration_seconds",
]

TAINT_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
DEFAULT_TOLERATION_SECONDS = 300


def _tolerates(tolerations: list[Toleration], key: str) -> bool:
    for t in tolerations:
        if t.effect not in ("", "NoExecute"):
            continue
        if t.key == key or (t.key == "" and t.operator == "Exists"):
            return True
    return False


def default_toleration_seconds(pod: Pod, seconds: int = DEFAULT_TOLERATION_SECONDS) -> Pod:
    """DefaultTolerationSeconds: tolerate not-ready and unreachable nodes (NoExecute) for
    ``seconds`` unless the pod already says how it tolerates them."""
    extra = [
        Toleration(key=key, operator="Exists", effect="NoExecute", toleration_seconds=seconds)
        for key in (TAINT_NOT_READY, TAINT_UNREACHABLE)
        if not _tolerates(pod.spec.tolerations, key)
    ]
    if not extra:
        return pod
    spec = msgspec.structs.replace(pod.spec, tolerations=[*pod.spec.tolerations, *extra])
    return msgspec.structs.replace(pod, spec=spec)


def default_service_account(pod: Pod) -> Pod:
    """ServiceAccount admission's defaulting half: serviceAccountName "default" when unset
    (mounting the token volume needs the ServiceAccount and is the apiserver's)."""
    if pod.spec.service_account_name:
        return pod
    spec = msgspec.structs.replace(pod.spec, service_account_name="default", service_account="default")
    return msgspec.structs.replace(pod, spec=spec)
