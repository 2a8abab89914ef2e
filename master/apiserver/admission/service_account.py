"""ServiceAccount: a pod without a service account runs as ``default`` of its namespace.

The ``default`` ServiceAccount itself is made by the apiserver when a namespace is created (and
for the system namespaces at start-up), so this plugin does not refuse pods whose account is
still being made; token mounting comes with issue 8.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from master.apiserver.admission import Attributes

if TYPE_CHECKING:
    from master.apiserver.server import ApiServer

__all__ = ["ServiceAccount"]


class ServiceAccount:
    name = "ServiceAccount"

    async def admit(self, server: ApiServer, attrs: Attributes) -> dict[str, Any] | None:
        if attrs.served.plural != "pods" or attrs.operation != "CREATE" or attrs.obj is None:
            return None
        spec = attrs.obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return None
        name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        spec["serviceAccountName"] = name
        spec["serviceAccount"] = name
        return attrs.obj
