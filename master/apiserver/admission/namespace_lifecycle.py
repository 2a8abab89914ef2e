"""NamespaceLifecycle: no new objects in a namespace that is missing or being deleted, and the
four system namespaces can never be deleted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from master.apiserver import errors
from master.apiserver.admission import Attributes

if TYPE_CHECKING:
    from master.apiserver.server import ApiServer

__all__ = ["IMMORTAL", "NamespaceLifecycle"]

IMMORTAL = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


class NamespaceLifecycle:
    name = "NamespaceLifecycle"

    async def admit(self, server: ApiServer, attrs: Attributes) -> dict[str, Any] | None:
        if attrs.served.plural == "namespaces":
            if attrs.operation == "DELETE" and attrs.name in IMMORTAL:
                raise errors.forbidden(f'namespaces "{attrs.name}" is forbidden: this namespace may not be deleted')
            return None
        if attrs.operation != "CREATE" or not attrs.served.namespaced:
            return None
        ns = await self._namespace(server, attrs.namespace)
        if ns is None:
            raise errors.not_found("namespaces", attrs.namespace)
        meta = ns.get("metadata") or {}
        if meta.get("deletionTimestamp") or (ns.get("status") or {}).get("phase") == "Terminating":
            q = f"{attrs.served.plural}.{attrs.served.group}" if attrs.served.group else attrs.served.plural
            raise errors.forbidden(
                f'{q} "{attrs.name}" is forbidden: unable to create new content in namespace '
                f"{attrs.namespace} because it is being terminated")
        return None

    @staticmethod
    async def _namespace(server: ApiServer, name: str) -> dict[str, Any] | None:
        served = server.registry.by_plural("namespaces")
        cached = server.cache_for(served).get(server.storage_for(served).key("", name))
        if cached is not None:
            import msgspec

            return msgspec.json.decode(cached.raw, type=dict)
        # The cache may lag a namespace created a moment ago: ask the store before refusing.
        try:
            return await server.storage_for(served).get("", name)
        except errors.ApiError as exc:
            if exc.code == 404:
                return None
            raise
