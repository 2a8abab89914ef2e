"""ServiceAccount: a pod runs as a service account, and gets its token mounted.

A pod without a service account runs as ``default`` of its namespace. Unless the pod or its
ServiceAccount says ``automountServiceAccountToken: false`` (the pod's word wins), the pod gets
the projected volume Kubernetes gives it, mounted read-only at
/var/run/secrets/kubernetes.io/serviceaccount in every container::

    kube-api-access-<5 letters>:
      serviceAccountToken {path: token, expirationSeconds: 3607}   a token bound to the pod
      configMap kube-root-ca.crt {ca.crt}                          the cluster CA
      downwardAPI {namespace: metadata.namespace}

The agent asks for the token (TokenRequest) and renews it; the root-ca-cert-publisher
controller keeps kube-root-ca.crt in every namespace. Mirror pods (static pods an agent
reports) are left alone: they may not use service accounts. The ``default`` ServiceAccount is
made by the apiserver when a namespace is created, so pods whose account is still being made
are not refused.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from master.apiserver.admission import Attributes

if TYPE_CHECKING:
    from master.apiserver.server import ApiServer

__all__ = ["MOUNT_PATH", "ServiceAccount"]

MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
VOLUME_PREFIX = "kube-api-access-"
TOKEN_SECONDS = 3607
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
MIRROR = "kubernetes.io/config.mirror"


def _volume() -> dict[str, Any]:
    name = VOLUME_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(5))
    return {"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": TOKEN_SECONDS, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                        "fieldPath": "metadata.namespace"}}]}},
    ]}}


class ServiceAccount:
    name = "ServiceAccount"

    async def admit(self, server: ApiServer, attrs: Attributes) -> dict[str, Any] | None:
        if attrs.served.plural != "pods" or attrs.operation != "CREATE" or attrs.obj is None:
            return None
        meta = attrs.obj.get("metadata") or {}
        if isinstance(meta, dict) and MIRROR in (meta.get("annotations") or {}):
            return None
        spec = attrs.obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return None
        name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        spec["serviceAccountName"] = name
        spec["serviceAccount"] = name
        if await self._automount(server, attrs.namespace, str(name), spec):
            self._mount(spec)
        return attrs.obj

    @staticmethod
    async def _automount(server: ApiServer, namespace: str, account: str, spec: dict[str, Any]) -> bool:
        if spec.get("automountServiceAccountToken") is not None:
            return bool(spec["automountServiceAccountToken"])
        from master.apiserver.security import ObjectLookup

        sa = await ObjectLookup(server)("serviceaccounts", namespace, account)
        return not (sa is not None and sa.get("automountServiceAccountToken") is False)

    @staticmethod
    def _mount(spec: dict[str, Any]) -> None:
        volumes = spec.get("volumes") or []
        if not isinstance(volumes, list):
            return
        containers = [c for key in ("initContainers", "containers") for c in (spec.get(key) or [])
                      if isinstance(c, dict)]
        if any(isinstance(m, dict) and m.get("mountPath") == MOUNT_PATH
               for c in containers for m in c.get("volumeMounts") or []):
            return  # the pod mounts something of its own there
        volume = _volume()
        volumes.append(volume)
        spec["volumes"] = volumes
        for c in containers:
            mounts = c.get("volumeMounts") or []
            if isinstance(mounts, list):
                mounts.append({"name": volume["name"], "readOnly": True, "mountPath": MOUNT_PATH})
                c["volumeMounts"] = mounts
