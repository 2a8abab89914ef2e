"""Admission: plugins that may change (mutate) or refuse (validate) a write after authorization.

A plugin implements ``AdmissionPlugin``: ``admit`` returns the object to continue with (the
same one, or a changed copy) or raises an ``ApiError``. The chain is a plain list run in order,
mutating ones first, as Kubernetes orders its admission plugins. Built in, all on by default
and in this order: NamespaceLifecycle, ServiceAccount, NodeRestriction, DefaultTolerationSeconds,
CertificateApproval, CertificateSigning, CertificateSubjectRestriction
(``--enable-admission-plugins``/``--disable-admission-plugins`` pick, ``select_plugins``).
Status-subresource updates and evictions are admitted too (``subresource`` says which).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from master.apiserver.authn import UserInfo
from master.apiserver.registry import Served

if TYPE_CHECKING:
    from master.apiserver.server import ApiServer

__all__ = ["PLUGINS", "AdmissionPlugin", "Attributes", "admit", "default_plugins", "select_plugins"]


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
    subresource: str = ""


class AdmissionPlugin(Protocol):
    name: str

    async def admit(self, server: ApiServer, attrs: Attributes) -> dict[str, Any] | None: ...


# name -> module (exposing a class of that name), in chain order.
PLUGINS: dict[str, str] = {
    "NamespaceLifecycle": "master.apiserver.admission.namespace_lifecycle",
    "ServiceAccount": "master.apiserver.admission.service_account",
    "NodeRestriction": "master.apiserver.admission.noderestriction",
    "DefaultTolerationSeconds": "master.apiserver.admission.toleration_seconds",
    "CertificateApproval": "master.apiserver.admission.certificates",
    "CertificateSigning": "master.apiserver.admission.certificates",
    "CertificateSubjectRestriction": "master.apiserver.admission.certificates",
}


def select_plugins(enable: tuple[str, ...] = (), disable: tuple[str, ...] = ()) -> list[AdmissionPlugin]:
    """Every plugin on by default, plus ``enable``, minus ``disable``, in chain order; ValueError
    naming an unknown plugin."""
    import importlib

    for name in (*enable, *disable):
        if name not in PLUGINS:
            raise ValueError(f"unknown admission plugin {name!r} (known: {', '.join(PLUGINS)})")
    chosen = [n for n in PLUGINS if n not in disable]
    return [getattr(importlib.import_module(PLUGINS[n]), n)() for n in chosen]


def default_plugins() -> list[AdmissionPlugin]:
    return select_plugins()


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
                      attrs.dry_run, attrs.subresource)
