"""DefaultTolerationSeconds: pods tolerate not-ready and unreachable nodes for 300 s by default.

Unless a pod already tolerates the taint, it gets::

    {key: node.kubernetes.io/not-ready,   operator: Exists, effect: NoExecute, tolerationSeconds: 300}
    {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 300}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from master.apiserver.admission import Attributes

if TYPE_CHECKING:
    from master.apiserver.server import ApiServer

__all__ = ["DEFAULT_SECONDS", "DefaultTolerationSeconds"]

DEFAULT_SECONDS = 300
TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")


def _tolerates(tolerations: list[dict[str, Any]], key: str) -> bool:
    for t in tolerations:
        if not isinstance(t, dict):
            continue
        effect_ok = t.get("effect") in (None, "", "NoExecute")
        if t.get("operator") == "Exists" and not t.get("key") and effect_ok:
            return True
        if t.get("key") == key and effect_ok:
            return True
    return False


class DefaultTolerationSeconds:
    name = "DefaultTolerationSeconds"

    async def admit(self, server: ApiServer, attrs: Attributes) -> dict[str, Any] | None:
        if attrs.served.plural != "pods" or attrs.operation != "CREATE" or attrs.obj is None:
            return None
        spec = attrs.obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return None
        tolerations = spec.get("tolerations") or []
        if not isinstance(tolerations, list):
            return None
        for key in TAINTS:
            if not _tolerates(tolerations, key):
                tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                                    "tolerationSeconds": DEFAULT_SECONDS})
        spec["tolerations"] = tolerations
        return attrs.obj
