"""What exists in every cluster from the first start: the system namespaces, their ``default``
ServiceAccounts, and the ``kubernetes`` Service (first address of the Service range, port 443 ->
the secure port) with Endpoints and an EndpointSlice pointing at this master.

Idempotent: run at every start; it creates what is missing and corrects the endpoints when the
master's address or port changed.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from master.apiserver import body, errors
from master.apiserver.admission.namespace_lifecycle import IMMORTAL
from master.apiserver.hooks import ensure_default_service_account
from master.apiserver.verbs.common import now_rfc3339

if TYPE_CHECKING:
    from master.apiserver.server import ApiServer

__all__ = ["bootstrap"]

log = logging.getLogger(__name__)


def _meta(name: str, namespace: str = "", labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": str(uuid.uuid4()), "creationTimestamp": now_rfc3339()}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = labels
    return meta


async def _create(server: ApiServer, plural: str, obj: dict[str, Any]) -> bool:
    storage = server.storages[plural]
    ns = obj["metadata"].get("namespace", "")
    try:
        await storage.create(ns, obj["metadata"]["name"], obj)
    except errors.ApiError as exc:
        if exc.reason == "AlreadyExists":
            return False
        raise
    return True


async def _put(server: ApiServer, plural: str, obj: dict[str, Any]) -> None:
    """Create ``obj``, or replace the stored one's content when it differs."""
    storage = server.storages[plural]
    ns, name = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
    if await _create(server, plural, obj):
        return

    async def replace(current: dict[str, Any]) -> dict[str, Any] | None:
        new = body.clone(current)
        for k, v in obj.items():
            if k not in ("metadata", "kind", "apiVersion"):
                new[k] = v
        return None if new == current else new

    await storage.guaranteed_update(ns, name, replace)


async def bootstrap(server: ApiServer, *, advertise_address: str, port: int) -> None:
    for ns in sorted(IMMORTAL):
        if await _create(server, "namespaces", {
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": _meta(ns, labels={"kubernetes.io/metadata.name": ns}),
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"},
        }):
            log.info("apiserver: created namespace %s", ns)
        await ensure_default_service_account(server.storages, ns)

    storage = server.storages["services"]
    try:
        await storage.get("default", "kubernetes")
    except errors.ApiError as exc:
        if exc.code != 404:
            raise
        svc: dict[str, Any] = {
            "apiVersion": "v1", "kind": "Service",
            "metadata": _meta("kubernetes", "default", {"component": "apiserver", "provider": "kubernetes"}),
            "spec": {"type": "ClusterIP", "sessionAffinity": "None", "ipFamilies": ["IPv4"],
                     "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster",
                     "ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": port}]},
            "status": {"loadBalancer": {}},
        }
        ip, plan = await server.allocators.allocate_ip("default/kubernetes", reserved_ok=True)
        svc["spec"]["clusterIP"] = ip
        svc["spec"]["clusterIPs"] = [ip]
        await storage.create("default", "kubernetes", svc, extra_compare=plan.compare, extra_ops=plan.ops)
        log.info("apiserver: created service default/kubernetes at %s:443", ip)

    await _put(server, "endpoints", {
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": _meta("kubernetes", "default", {"endpointslice.kubernetes.io/skip-mirror": "true"}),
        "subsets": [{"addresses": [{"ip": advertise_address}],
                     "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}],
    })
    await _put(server, "endpointslices", {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": _meta("kubernetes", "default", {"kubernetes.io/service-name": "kubernetes",
                                                    "endpointslice.kubernetes.io/managed-by": "picluster-apiserver"}),
        "addressType": "IPv4",
        "endpoints": [{"addresses": [advertise_address], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    })
