"""Admission: plugins that may change (mutate) or refuse (validate) a write after authorization.

A plugin implements ``AdmissionPlugin``: ``admit`` returns the object to continue with (the
same one, or a changed copy) or raises an ``ApiError``. The chain is a plain list run in order,
mutating ones first, as Kubernetes orders its admission plugins; issue 8 appends
NodeRestriction. Built in: NamespaceLifecycle, ServiceAccount, DefaultTolerationSeconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from master.apiserver.authn import UserInfo
from master.apiserver.registry import Served

if TYPE_CHECKING:
    from master.apiserver.server import ApiServer

__all__ = ["AdmissionPlugin", "Attributes", "admit", "default_plugins"]


@dataclass(frozen=True)
class Attributes:
    operation: str  # CREATE, UPDATE, DELETE
    served: Served
    namespace: str
    name: str
    obj: dict[str, Any] | None
    old: dict[str, Any] | None
    user: UserInfo
    dry_run: bool = False


class AdmissionPlugin(Protocol):
    name: str

    async def admit(self, server: ApiServer, attrs: Attributes) -> dict[str, Any] | None: ...


def default_plugins() -> list[AdmissionPlugin]:
    from master.apiserver.admission.namespace_lifecycle import NamespaceLifecycle
    from master.apiserver.admission.service_account import ServiceAccount
    from master.apiserver.admission.toleration_seconds import DefaultTolerationSeconds

    return [NamespaceLifecycle(), ServiceAccount(), DefaultTolerationSeconds()]


async def admit(server: ApiServer, attrs: Attributes) -> dict[str, Any]:
    obj = attrs.obj
    for plugin in server.admission:
        result = await plugin.admit(server, attrs if obj is attrs.obj else _with(attrs, obj))
        if result is not None:
            obj = result
    assert obj is not None
    return obj


def _with(attrs: Attributes, obj: dict[str, Any] | None) -> Attributes:
    return Attributes(attrs.operation, attrs.served, attrs.namespace, attrs.name, obj, attrs.old, attrs.user,
                      attrs.dry_run)
