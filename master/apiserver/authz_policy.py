"""The bootstrap RBAC policy: default roles and bindings, made and reconciled at every start.

Every object carries ``rbac.authorization.kubernetes.io/autoupdate: "true"``; while it does, a
start puts its rules (or subjects) back as written here. Set the annotation to ``"false"`` to
keep an edited copy. What exists:

    cluster-admin                        everything; bound to group system:masters
    admin, edit, view                    namespaced user roles (bind them with RoleBindings);
                                         each also aggregates ClusterRoles labelled
                                         rbac.authorization.k8s.io/aggregate-to-<name>: "true"
    system:basic-user                    self reviews (can-i, whoami); all authenticated users
    system:discovery                     /api, /apis, /openapi, /version ...; all authenticated users
    system:public-info-viewer            /healthz, /livez, /readyz, /version; everyone, anonymous too
    system:node                          what agents need (the Node authorizer grants it; unbound)
    system:node-bootstrapper             create and read CSRs; group system:bootstrappers
    system:certificates.k8s.io:certificatesigningrequests:nodeclient
                                         auto-approval of a new node's client CSR; system:bootstrappers
    system:certificates.k8s.io:certificatesigningrequests:selfnodeclient
                                         auto-approval of a node's renewal CSR; group system:nodes
    system:kube-scheduler                the scheduler's identity (user system:kube-scheduler)
    system:kube-controller-manager       the controller-manager's (user system:kube-controller-manager)
    kube-public Role/RoleBinding system:cluster-info-viewer
                                         anonymous get of kube-public/configmaps/cluster-info (the CA
                                         and server URL a joining agent pins, as kubeadm publishes them)

The controller-manager runs every controller under one identity (Kubernetes can give each
controller its own service account; here one role covers them): read, watch, update, patch and
delete anything (the garbage collector and the namespace controller act on every resource),
create only what controllers make, approve and sign node certificates. It cannot escalate,
bind or impersonate. The scheduler reads pods and nodes, binds pods, writes pod status, events
and its leader Lease.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from master.apiserver import body, errors
from master.apiserver.authz_node import NODE_RULES
from master.apiserver.verbs.common import now_rfc3339

if TYPE_CHECKING:
    from master.apiserver.server import ApiServer

__all__ = ["AUTOUPDATE", "cluster_role_bindings", "cluster_roles", "ensure_policy", "namespaced_policy"]

log = logging.getLogger(__name__)

AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
RBAC = "rbac.authorization.k8s.io"
RBAC_V1 = f"{RBAC}/v1"
SCHEDULER_USER = "system:kube-scheduler"
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]


def _rule(verbs: list[str], groups: list[str], resources: list[str], names: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"verbs": verbs, "apiGroups": groups, "resources": resources}
    if names:
        out["resourceNames"] = names
    return out


def _urls(verbs: list[str], urls: list[str]) -> dict[str, Any]:
    return {"verbs": verbs, "nonResourceURLs": urls}


def _meta(name: str, namespace: str = "", labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "annotations": {AUTOUPDATE: "true"},
                            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults", **(labels or {})}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def _cluster_role(name: str, rules: list[dict[str, Any]], *, aggregate_from: str = "",
                  labels: dict[str, str] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": RBAC_V1, "kind": "ClusterRole", "metadata": _meta(name, labels=labels),
                           "rules": rules}
    if aggregate_from:
        obj["aggregationRule"] = {"clusterRoleSelectors": [
            {"matchLabels": {f"{RBAC}/aggregate-to-{aggregate_from}": "true"}}]}
    return obj


def _subject(kind: str, name: str) -> dict[str, Any]:
    return {"kind": kind, "apiGroup": RBAC, "name": name}


def _binding(name: str, role: str, subjects: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": RBAC_V1, "kind": "ClusterRoleBinding", "metadata": _meta(name),
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role}, "subjects": subjects}


# Namespaced resources users work with, by group.
_VIEWABLE = [
    _rule(READ, [""], ["pods", "pods/log", "pods/status", "services", "services/status", "endpoints", "configmaps",
                      "serviceaccounts", "events", "persistentvolumeclaims", "replicationcontrollers",
                      "resourcequotas", "limitranges", "namespaces/status"]),
    _rule(READ, [""], ["namespaces"]),
    _rule(READ, ["apps"], ["deployments", "deployments/status", "deployments/scale", "replicasets",
                           "replicasets/status", "replicasets/scale", "daemonsets", "daemonsets/status",
                           "statefulsets", "controllerrevisions"]),
    _rule(READ, ["discovery.k8s.io"], ["endpointslices"]),
    _rule(READ, ["events.k8s.io"], ["events"]),
    _rule(READ, ["batch"], ["jobs", "cronjobs"]),
    _rule(READ, ["policy"], ["poddisruptionbudgets"]),
    _rule(READ, ["autoscaling"], ["horizontalpodautoscalers"]),
]
_EDITABLE = [
    _rule([*WRITE, *READ], [""], ["pods", "pods/eviction", "pods/attach", "pods/exec", "pods/portforward",
                                  "services", "endpoints", "configmaps", "secrets", "serviceaccounts",
                                  "persistentvolumeclaims", "replicationcontrollers"]),
    _rule(["create"], [""], ["serviceaccounts/token"]),
    _rule(["impersonate"], [""], ["serviceaccounts"]),
    _rule([*WRITE, *READ], ["apps"], ["deployments", "deployments/scale", "deployments/rollback", "replicasets",
                                      "replicasets/scale", "daemonsets", "statefulsets", "statefulsets/scale"]),
    _rule([*WRITE, *READ], ["discovery.k8s.io"], ["endpointslices"]),
    _rule([*WRITE, *READ], ["batch"], ["jobs", "cronjobs"]),
    _rule([*WRITE, *READ], ["policy"], ["poddisruptionbudgets"]),
    _rule([*WRITE, *READ], ["autoscaling"], ["horizontalpodautoscalers"]),
]
_ADMIN_ONLY = [
    _rule([*WRITE, *READ], [RBAC], ["roles", "rolebindings"]),
    _rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
]


def cluster_roles() -> list[dict[str, Any]]:
    return [
        _cluster_role("cluster-admin", [_rule(["*"], ["*"], ["*"]), _urls(["*"], ["*"])]),
        _cluster_role("admin", [*_VIEWABLE, *_EDITABLE, *_ADMIN_ONLY], aggregate_from="admin"),
        _cluster_role("edit", [*_VIEWABLE, *_EDITABLE], aggregate_from="edit",
                      labels={f"{RBAC}/aggregate-to-admin": "true"}),
        _cluster_role("view", list(_VIEWABLE), aggregate_from="view",
                      labels={f"{RBAC}/aggregate-to-admin": "true", f"{RBAC}/aggregate-to-edit": "true"}),
        _cluster_role("system:basic-user", [
            _rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            _rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
        ]),
        _cluster_role("system:discovery", [_urls(["get"], [
            "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/readyz", "/openapi", "/openapi/*",
            "/version", "/version/"])]),
        _cluster_role("system:public-info-viewer", [_urls(["get"], [
            "/healthz", "/livez", "/readyz", "/version", "/version/"])]),
        _cluster_role("system:node", [r.to_dict() for r in NODE_RULES] + [
            _rule(["get"], [""], ["secrets", "configmaps", "serviceaccounts"]),
            _rule(["create"], [""], ["serviceaccounts/token"]),
        ]),
        _cluster_role("system:node-bootstrapper", [
            _rule(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
        ]),
        _cluster_role("system:certificates.k8s.io:certificatesigningrequests:nodeclient", [
            _rule(["create"], ["certificates.k8s.io"], ["certificatesigningrequests/nodeclient"]),
        ]),
        _cluster_role("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", [
            _rule(["create"], ["certificates.k8s.io"], ["certificatesigningrequests/selfnodeclient"]),
        ]),
        _cluster_role("system:kube-scheduler", [
            _rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
            _rule(["create"], ["coordination.k8s.io"], ["leases"]),
            _rule(["get", "update", "patch"], ["coordination.k8s.io"], ["leases"], ["kube-scheduler"]),
            _rule(READ, [""], ["nodes", "namespaces", "services", "replicationcontrollers", "persistentvolumeclaims",
                               "persistentvolumes"]),
            _rule([*READ, "delete"], [""], ["pods"]),
            _rule(["create"], [""], ["bindings", "pods/binding"]),
            _rule(["patch", "update"], [""], ["pods/status"]),
            _rule(READ, ["apps"], ["replicasets", "statefulsets"]),
            _rule(READ, ["policy"], ["poddisruptionbudgets"]),
            _rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            _rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
        ]),
        _cluster_role("system:kube-controller-manager", [
            _rule([*READ, "patch", "update", "delete", "deletecollection"], ["*"], ["*"]),
            _rule(["create"], [""], ["pods", "pods/eviction", "pods/binding", "endpoints", "events", "serviceaccounts",
                                     "serviceaccounts/token", "configmaps", "secrets", "namespaces/finalize"]),
            _rule(["create"], ["apps"], ["deployments", "replicasets", "daemonsets", "controllerrevisions"]),
            _rule(["create"], ["discovery.k8s.io"], ["endpointslices"]),
            _rule(["create"], ["", "events.k8s.io"], ["events"]),
            _rule(["create"], ["coordination.k8s.io"], ["leases"]),
            _rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            _rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
            _rule(["approve"], ["certificates.k8s.io"], ["signers"],
                  ["kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving"]),
            _rule(["sign"], ["certificates.k8s.io"], ["signers"],
                  ["kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving",
                   "kubernetes.io/kube-apiserver-client"]),
        ]),
    ]


def cluster_role_bindings() -> list[dict[str, Any]]:
    nodeclient = "system:certificates.k8s.io:certificatesigningrequests:nodeclient"
    selfnodeclient = "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"
    return [
        _binding("cluster-admin", "cluster-admin", [_subject("Group", "system:masters")]),
        _binding("system:basic-user", "system:basic-user", [_subject("Group", "system:authenticated")]),
        _binding("system:discovery", "system:discovery", [_subject("Group", "system:authenticated")]),
        _binding("system:public-info-viewer", "system:public-info-viewer",
                 [_subject("Group", "system:authenticated"), _subject("Group", "system:unauthenticated")]),
        _binding("system:node-bootstrapper", "system:node-bootstrapper", [_subject("Group", "system:bootstrappers")]),
        _binding(nodeclient, nodeclient, [_subject("Group", "system:bootstrappers")]),
        _binding(selfnodeclient, selfnodeclient, [_subject("Group", "system:nodes")]),
        _binding("system:kube-scheduler", "system:kube-scheduler", [_subject("User", SCHEDULER_USER)]),
        _binding("system:kube-controller-manager", "system:kube-controller-manager",
                 [_subject("User", CONTROLLER_MANAGER_USER)]),
    ]


def namespaced_policy() -> list[tuple[str, dict[str, Any]]]:
    """(plural, object) for the Roles and RoleBindings in system namespaces."""
    name = "system:cluster-info-viewer"
    role = {"apiVersion": RBAC_V1, "kind": "Role", "metadata": _meta(name, "kube-public"),
            "rules": [_rule(["get"], [""], ["configmaps"], ["cluster-info"])]}
    binding = {"apiVersion": RBAC_V1, "kind": "RoleBinding", "metadata": _meta(name, "kube-public"),
               "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": name},
               "subjects": [_subject("User", "system:anonymous")]}
    return [("roles", role), ("rolebindings", binding)]


_CONTENT = ("rules", "aggregationRule", "subjects", "roleRef")


async def _reconcile(server: ApiServer, plural: str, obj: dict[str, Any]) -> str:
    """created, updated or unchanged."""
    storage = server.storages[plural]
    meta = obj["metadata"]
    ns, name = meta.get("namespace", ""), meta["name"]
    fresh = {**body.clone(obj), "metadata": {**body.clone(meta), "uid": str(uuid.uuid4()),
                                             "creationTimestamp": now_rfc3339()}}
    try:
        await storage.create(ns, name, fresh)
        return "created"
    except errors.ApiError as exc:
        if exc.reason != "AlreadyExists":
            raise
    changed = False

    async def put_back(current: dict[str, Any]) -> dict[str, Any] | None:
        nonlocal changed
        if ((current.get("metadata") or {}).get("annotations") or {}).get(AUTOUPDATE) == "false":
            return None
        new = body.clone(current)
        for k in _CONTENT:
            if k in obj:
                new[k] = body.clone(obj[k])
            else:
                new.pop(k, None)
        if new == current:
            return None
        changed = True
        return new

    await storage.guaranteed_update(ns, name, put_back)
    return "updated" if changed else "unchanged"


async def ensure_policy(server: ApiServer) -> dict[str, int]:
    """Create missing default roles and bindings, put back edited auto-updated ones; counts by outcome."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    items = [("clusterroles", o) for o in cluster_roles()] + [("clusterrolebindings", o) for o in cluster_role_bindings()]
    for plural, obj in [*items, *namespaced_policy()]:
        counts[await _reconcile(server, plural, obj)] += 1
    if counts["created"] or counts["updated"]:
        log.info("apiserver: RBAC bootstrap policy: %d created, %d updated", counts["created"], counts["updated"])
    return counts
