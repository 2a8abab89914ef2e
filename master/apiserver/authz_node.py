"""The Node authorizer: what an agent (``system:node:<name>`` in ``system:nodes``) may do.

Reads follow the pods bound to the node: a node may ``get`` a Secret, ConfigMap or
ServiceAccount only when a pod on it refers to that object (volumes, projected sources,
env/envFrom, imagePullSecrets, its service account), and create tokens
(``serviceaccounts/token``) only for those service accounts. Everything else a node needs is
one static rule list (``NODE_RULES``, what Kubernetes' ``system:node`` role grants); which
Node, Lease or pod status it may write is NodeRestriction's business (admission). Anything
else gets no opinion here (RBAC may still allow it; by default it does not).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from master.apiserver.authn import UserInfo
from master.apiserver.authz import Attributes, Decision
from master.apiserver.authz_rbac import Rule, rule_allows

__all__ = ["NODES_GROUP", "NODE_PREFIX", "NODE_RULES", "NodeAuthorizer", "node_name", "pod_references"]

NODE_PREFIX = "system:node:"
NODES_GROUP = "system:nodes"

# nodeName -> the pods bound to it (JSON dicts).
PodsOnNode = Callable[[str], Iterable[dict[str, Any]]]


def _r(verbs: str, groups: str, resources: str) -> Rule:
    return Rule(frozenset(verbs.split()), frozenset(groups.split(",")), frozenset(resources.split()))


NODE_RULES: tuple[Rule, ...] = (
    _r("get list watch create update patch delete", "", "nodes"),
    _r("update patch", "", "nodes/status"),
    _r("get list watch create delete", "", "pods"),
    _r("update patch", "", "pods/status"),
    _r("create", "", "pods/eviction"),
    _r("get list watch", "", "services endpoints"),
    _r("get list watch", "discovery.k8s.io", "endpointslices"),
    _r("create update patch", ",events.k8s.io", "events"),
    _r("get create update patch delete", "coordination.k8s.io", "leases"),
    _r("create get list watch", "certificates.k8s.io", "certificatesigningrequests"),
    _r("create", "authentication.k8s.io", "tokenreviews selfsubjectreviews"),
    _r("create", "authorization.k8s.io", "subjectaccessreviews selfsubjectaccessreviews selfsubjectrulesreviews"),
)


def node_name(user: UserInfo) -> str | None:
    """The node of a node identity, else None."""
    if NODES_GROUP not in user.groups or not user.name.startswith(NODE_PREFIX):
        return None
    name = user.name[len(NODE_PREFIX):]
    return name or None


def _names(items: Any, *path: str) -> Iterator[str]:
    for item in items if isinstance(items, list) else []:
        cur = item
        for p in path:
            cur = cur.get(p) if isinstance(cur, dict) else None
        if isinstance(cur, str) and cur:
            yield cur


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def pod_references(pod: dict[str, Any]) -> dict[str, set[str]]:
    """{"secrets": {...}, "configmaps": {...}, "serviceaccounts": {...}} that ``pod`` refers to."""
    spec = pod.get("spec") if isinstance(pod.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    refs: dict[str, set[str]] = {"secrets": set(), "configmaps": set(), "serviceaccounts": set()}
    sa = spec.get("serviceAccountName") or spec.get("serviceAccount")
    if isinstance(sa, str) and sa:
        refs["serviceaccounts"].add(sa)
    refs["secrets"].update(_names(spec.get("imagePullSecrets"), "name"))
    volumes = _list(spec.get("volumes"))
    refs["secrets"].update(_names(volumes, "secret", "secretName"))
    refs["configmaps"].update(_names(volumes, "configMap", "name"))
    for v in volumes:
        sources = ((v.get("projected") or {}).get("sources") if isinstance(v, dict) else None) or []
        refs["secrets"].update(_names(sources, "secret", "name"))
        refs["configmaps"].update(_names(sources, "configMap", "name"))
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for c in _list(spec.get(key)):
            if not isinstance(c, dict):
                continue
            env = _list(c.get("env"))
            refs["secrets"].update(_names(env, "valueFrom", "secretKeyRef", "name"))
            refs["configmaps"].update(_names(env, "valueFrom", "configMapKeyRef", "name"))
            env_from = c.get("envFrom")
            refs["secrets"].update(_names(env_from, "secretRef", "name"))
            refs["configmaps"].update(_names(env_from, "configMapRef", "name"))
    return refs


class NodeAuthorizer:
    def __init__(self, pods_on_node: PodsOnNode) -> None:
        self.pods_on_node = pods_on_node

    def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        node = node_name(attrs.user)
        info = attrs.info
        if node is None or not info.is_resource:
            return Decision.NO_OPINION, ""
        if info.group == "" and info.resource in ("secrets", "configmaps", "serviceaccounts") and (
                not info.subresource):
            if info.verb != "get" or not info.name:
                return Decision.NO_OPINION, f"node {node!r} can only get individual {info.resource}"
            return self._related(node, info.resource, info.namespace, info.name)
        if info.group == "" and info.resource == "serviceaccounts" and info.subresource == "token":
            if info.verb != "create":
                return Decision.NO_OPINION, ""
            return self._related(node, "serviceaccounts", info.namespace, info.name)
        if any(rule_allows(rule, info) for rule in NODE_RULES):
            return Decision.ALLOW, ""
        return Decision.NO_OPINION, ""

    def _related(self, node: str, kind: str, namespace: str, name: str) -> tuple[Decision, str]:
        for pod in self.pods_on_node(node):
            meta = pod.get("metadata") or {}
            if meta.get("namespace") == namespace and name in pod_references(pod)[kind]:
                return Decision.ALLOW, ""
        return Decision.NO_OPINION, (f"no relationship found between node {node!r} and this object")
