"""NodeRestriction: an agent writes only its own Node, its own Lease and its own pods.

For a node identity (``system:node:<name>``, see ``authz_node``), on top of what the Node
authorizer lets through::

    nodes          create, update (and status), delete only the Node <name>; never change its
                   taints or labels under node-restriction.kubernetes.io/ (the admin's)
    pods           create only mirror pods (annotation kubernetes.io/config.mirror) bound to
                   itself, owned by nothing but its Node, referring to no secret or configmap;
                   update only the status of pods bound to it; delete (or evict) only those
    leases         only kube-node-lease/<name>

Everything else is left alone; other users are not this plugin's business.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from master.apiserver import errors
from master.apiserver.admission import Attributes
from master.apiserver.authz_node import node_name, pod_references

if TYPE_CHECKING:
    from master.apiserver.server import ApiServer

__all__ = ["NodeRestriction"]

MIRROR = "kubernetes.io/config.mirror"
RESTRICTED_LABEL_PREFIX = "node-restriction.kubernetes.io/"
LEASE_NAMESPACE = "kube-node-lease"


def _refuse(node: str, message: str) -> errors.ApiError:
    return errors.forbidden(f'node "{node}" is not allowed to {message}')


def _meta(obj: dict[str, Any] | None) -> dict[str, Any]:
    meta = (obj or {}).get("metadata")
    return meta if isinstance(meta, dict) else {}


def _spec(obj: dict[str, Any] | None) -> dict[str, Any]:
    spec = (obj or {}).get("spec")
    return spec if isinstance(spec, dict) else {}


def _restricted_labels(obj: dict[str, Any] | None) -> dict[str, Any]:
    labels = _meta(obj).get("labels") or {}
    return {k: v for k, v in labels.items() if isinstance(k, str) and k.startswith(RESTRICTED_LABEL_PREFIX)}


class NodeRestriction:
    name = "NodeRestriction"

    async def admit(self, server: ApiServer, attrs: Attributes) -> dict[str, Any] | None:
        node = node_name(attrs.user)
        if node is None or attrs.served.group not in ("", "coordination.k8s.io"):
            return None
        plural = attrs.served.plural
        if plural == "nodes":
            self._node(node, attrs)
        elif plural == "pods":
            self._pod(node, attrs)
        elif plural == "leases" and (attrs.namespace != LEASE_NAMESPACE or attrs.name != node):
            raise _refuse(node, f"modify lease {attrs.namespace}/{attrs.name}: only its own lease in {LEASE_NAMESPACE}")
        return None

    @staticmethod
    def _node(node: str, attrs: Attributes) -> None:
        if attrs.name != node:
            raise _refuse(node, f'{attrs.operation.lower()} node "{attrs.name}"')
        if attrs.operation == "CREATE" and _restricted_labels(attrs.obj):
            raise _refuse(node, f"set labels under {RESTRICTED_LABEL_PREFIX}")
        if attrs.operation == "UPDATE":
            if _restricted_labels(attrs.obj) != _restricted_labels(attrs.old):
                raise _refuse(node, f"modify labels under {RESTRICTED_LABEL_PREFIX}")
            if _spec(attrs.obj).get("taints") != _spec(attrs.old).get("taints"):
                raise _refuse(node, "modify its taints")

    @staticmethod
    def _pod(node: str, attrs: Attributes) -> None:
        op, where = attrs.operation, f"{attrs.namespace}/{attrs.name}"
        if op == "CREATE":
            pod = attrs.obj or {}
            if MIRROR not in (_meta(pod).get("annotations") or {}):
                raise _refuse(node, "create pods other than mirror pods")
            if _spec(pod).get("nodeName") != node:
                raise _refuse(node, "create pods bound to another node")
            refs = pod_references(pod)
            if refs["secrets"] or refs["configmaps"] or any(
                    isinstance(v, dict) and "persistentVolumeClaim" in v for v in _spec(pod).get("volumes") or []):
                raise _refuse(node, "create mirror pods that reference secrets, configmaps or volume claims")
            for ref in _meta(pod).get("ownerReferences") or []:
                if not isinstance(ref, dict) or ref.get("kind") != "Node" or ref.get("name") != node:
                    raise _refuse(node, "create mirror pods owned by anything but its own Node")
            return
        bound = _spec(attrs.old).get("nodeName")
        if op == "UPDATE":
            if attrs.subresource != "status":
                raise _refuse(node, f"update pod {where}: nodes may only update pod status")
            if bound != node:
                raise _refuse(node, f"update the status of pod {where}, which is not bound to it")
        elif op == "DELETE" and bound != node:
            raise _refuse(node, f"delete pod {where}, which is not bound to it")
