"""The resource registry: every kind the API serves, as plain ``Resource`` entries.

A ``Resource`` says where a kind lives (group, version, plural), how the CLI may name it
(singular, short names, categories), which verbs and subresources it has, its Struct type and
its ``Strategy``. ``Registry`` indexes entries for the apiserver (by group/version/plural), for
decoding (by apiVersion and kind) and for the CLI (``lookup("po")``, ``lookup("deploy.apps")``).

Adding a resource is one types module plus one entry in ``_DEFAULT_RESOURCES`` (and a
``Strategy`` subclass if the generic rules are not enough)::

    Resource(group="rbac.authorization.k8s.io", version="v1", kind="Role", plural="roles",
             singular="role", namespaced=True, type=rbac.Role, strategy=RoleStrategy())
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from master.api import (
    apps,
    authentication,
    autoscaling,
    certificates,
    coordination,
    core,
    discovery,
    policy,
    rbac,
)
from master.api.meta import (
    APIGroup,
    APIGroupList,
    APIResource,
    APIResourceList,
    GroupVersionForDiscovery,
    Object,
)
from master.api.strategy import apps as apps_strategy
from master.api.strategy import certificates as certificates_strategy
from master.api.strategy import config as config_strategy
from master.api.strategy import endpoints as endpoints_strategy
from master.api.strategy import event as event_strategy
from master.api.strategy import lease as lease_strategy
from master.api.strategy import namespace as namespace_strategy
from master.api.strategy import node as node_strategy
from master.api.strategy import pod as pod_strategy
from master.api.strategy import rbac as rbac_strategy
from master.api.strategy import service as service_strategy
from master.api.strategy.base import Strategy

__all__ = ["ALL_VERBS", "DEFAULT", "Registry", "Resource", "Subresource", "default_registry"]

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_STATUS_VERBS = ("get", "patch", "update")


@dataclass(frozen=True, slots=True)
class Subresource:
    """``pods/status``, ``deployments/scale``, ``pods/binding`` ...

    ``type`` is the body's Struct (None for text, e.g. ``pods/log``). For ``scale``,
    ``to_body(obj)`` makes the Scale of an object and ``apply_body(obj, scale)`` writes a Scale
    back (returning the changed object).
    """

    name: str
    kind: str
    type: type[Any] | None
    verbs: tuple[str, ...]
    group: str = ""
    version: str = "v1"
    to_body: Callable[[Any], Any] | None = None
    apply_body: Callable[[Any, Any], Any] | None = None

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass(frozen=True, slots=True)
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    type: type[Object]
    strategy: Strategy[Any]
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[Subresource, ...] = ()
    list_kind: str = ""

    def __post_init__(self) -> None:
        if not self.list_kind:
            object.__setattr__(self, "list_kind", self.kind + "List")

    @property
    def api_version(self) -> str:
        """"v1" or "apps/v1"."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """"pods" or "deployments.apps", as error messages name resources."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """"Pod" or "Deployment.apps", as 422 Invalid messages name kinds."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    def subresource(self, name: str) -> Subresource | None:
        for sub in self.subresources:
            if sub.name == name:
                return sub
        return None

    def api_resources(self) -> list[APIResource]:
        """The discovery entries: the resource, then each subresource."""
        out = [
            APIResource(
                name=self.plural,
                singular_name=self.singular,
                namespaced=self.namespaced,
                kind=self.kind,
                verbs=list(self.verbs),
                short_names=list(self.short_names),
                categories=list(self.categories),
            )
        ]
        for sub in self.subresources:
            out.append(
                APIResource(
                    name=f"{self.plural}/{sub.name}",
                    singular_name="",
                    namespaced=self.namespaced,
                    group=sub.group if sub.group != self.group else "",
                    version=sub.version if sub.group != self.group else "",
                    kind=sub.kind,
                    verbs=list(sub.verbs),
                )
            )
        return out


@dataclass(slots=True)
class Registry:
    """Dict indexes over ``Resource`` entries. Lookups return None when nothing matches."""

    _by_gvr: dict[tuple[str, str, str], Resource] = field(default_factory=dict)
    _by_gvk: dict[tuple[str, str], Resource] = field(default_factory=dict)
    _by_name: dict[str, list[Resource]] = field(default_factory=dict)
    _order: list[Resource] = field(default_factory=list)

    @classmethod
    def of(cls, resources: Iterable[Resource]) -> Registry:
        reg = cls()
        for r in resources:
            reg.add(r)
        return reg

    def add(self, r: Resource) -> None:
        key = (r.group, r.version, r.plural)
        if key in self._by_gvr:
            raise ValueError(f"resource {r.plural}.{r.group or 'core'}/{r.version} registered twice")
        self._by_gvr[key] = r
        self._by_gvk[(r.api_version, r.kind)] = r
        self._order.append(r)
        for name in {r.plural, r.singular, r.kind.lower(), *r.short_names}:
            self._by_name.setdefault(name, []).append(r)

    def get(self, group: str, version: str, plural: str) -> Resource | None:
        return self._by_gvr.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> Resource | None:
        """The resource of objects with this apiVersion ("apps/v1") and kind ("Deployment")."""
        return self._by_gvk.get((api_version, kind))

    def lookup(self, name: str) -> Resource | None:
        """What the CLI means by ``name``: a plural, singular, kind or short name, optionally
        qualified by group ("deploy", "deployments.apps", "Pod"). Core resources win ties, as
        in kubectl."""
        text = name.strip()
        base, _, group = text.partition(".")
        candidates = self._by_name.get(base.lower(), [])
        if group:
            candidates = [r for r in candidates if r.group == group or r.group.startswith(group + ".")]
        if not candidates:
            return None
        return min(candidates, key=lambda r: (r.group != "", r.group))

    def by_category(self, category: str) -> list[Resource]:
        return [r for r in self._order if category in r.categories]

    def all(self) -> list[Resource]:
        return list(self._order)

    def group_versions(self) -> list[tuple[str, str]]:
        """(group, version) pairs in registration order, core ("", "v1") first."""
        seen: dict[tuple[str, str], None] = {}
        for r in self._order:
            seen[(r.group, r.version)] = None
        return sorted(seen, key=lambda gv: (gv[0] != "", list(seen).index(gv)))

    def api_resource_list(self, group: str, version: str) -> APIResourceList | None:
        """``GET /api/v1`` or ``/apis/<group>/<version>``; None when the group/version is unknown."""
        rs = [r for r in self._order if r.group == group and r.version == version]
        if not rs:
            return None
        gv = f"{group}/{version}" if group else version
        return APIResourceList(group_version=gv, resources=[a for r in rs for a in r.api_resources()])

    def api_group_list(self) -> APIGroupList:
        """``GET /apis``: the named groups (the core group is served at ``/api``)."""
        groups: dict[str, list[str]] = {}
        for g, v in self.group_versions():
            if g:
                groups.setdefault(g, []).append(v)
        return APIGroupList(groups=[g for g in map(self.api_group, groups) if g is not None])

    def api_group(self, group: str) -> APIGroup | None:
        """``GET /apis/<group>``."""
        versions = [v for g, v in self.group_versions() if g == group]
        if not group or not versions:
            return None
        entries = [GroupVersionForDiscovery(group_version=f"{group}/{v}", version=v) for v in versions]
        return APIGroup(name=group, versions=entries, preferred_version=entries[0])


def _scale_sub() -> Subresource:
    return Subresource(
        name="scale",
        kind="Scale",
        type=autoscaling.Scale,
        verbs=_STATUS_VERBS,
        group="autoscaling",
        version="v1",
        to_body=apps_strategy.to_scale,
        apply_body=apps_strategy.apply_scale,
    )


def _status_sub(kind: str, t: type[Object]) -> Subresource:
    return Subresource(name="status", kind=kind, type=t, verbs=_STATUS_VERBS)


def _apps_status_sub(kind: str, t: type[Object]) -> Subresource:
    return Subresource(name="status", kind=kind, type=t, verbs=_STATUS_VERBS, group="apps")


def _default_resources() -> list[Resource]:
    return [
        Resource(
            group="", version="v1", kind="Namespace", plural="namespaces", singular="namespace",
            namespaced=False, type=core.Namespace, strategy=namespace_strategy.NamespaceStrategy(),
            short_names=("ns",),
            verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
            subresources=(
                _status_sub("Namespace", core.Namespace),
                Subresource(name="finalize", kind="Namespace", type=core.Namespace, verbs=("update",)),
            ),
        ),
        Resource(
            group="", version="v1", kind="Node", plural="nodes", singular="node", namespaced=False,
            type=core.Node, strategy=node_strategy.NodeStrategy(), short_names=("no",),
            subresources=(
                _status_sub("Node", core.Node),
                # GET passed through to the node's agent (pictl top reads /metrics/resource).
                Subresource(name="proxy", kind="NodeProxyOptions", type=None, verbs=("get",)),
            ),
        ),
        Resource(
            group="", version="v1", kind="Pod", plural="pods", singular="pod", namespaced=True,
            type=core.Pod, strategy=pod_strategy.PodStrategy(), short_names=("po",), categories=("all",),
            subresources=(
                _status_sub("Pod", core.Pod),
                Subresource(name="binding", kind="Binding", type=core.Binding, verbs=("create",)),
                Subresource(name="eviction", kind="Eviction", type=policy.Eviction, verbs=("create",),
                            group="policy", version="v1"),
                Subresource(name="log", kind="Pod", type=None, verbs=("get",)),
            ),
        ),
        Resource(
            group="", version="v1", kind="Service", plural="services", singular="service", namespaced=True,
            type=core.Service, strategy=service_strategy.ServiceStrategy(), short_names=("svc",),
            categories=("all",),
            subresources=(_status_sub("Service", core.Service),),
        ),
        Resource(
            group="", version="v1", kind="Endpoints", plural="endpoints", singular="endpoints",
            namespaced=True, type=core.Endpoints, strategy=endpoints_strategy.EndpointsStrategy(),
            short_names=("ep",),
        ),
        Resource(
            group="", version="v1", kind="ConfigMap", plural="configmaps", singular="configmap",
            namespaced=True, type=core.ConfigMap, strategy=config_strategy.ConfigMapStrategy(),
            short_names=("cm",),
        ),
        Resource(
            group="", version="v1", kind="Secret", plural="secrets", singular="secret", namespaced=True,
            type=core.Secret, strategy=config_strategy.SecretStrategy(),
        ),
        Resource(
            group="", version="v1", kind="ServiceAccount", plural="serviceaccounts", singular="serviceaccount",
            namespaced=True, type=core.ServiceAccount, strategy=config_strategy.ServiceAccountStrategy(),
            short_names=("sa",),
            subresources=(
                Subresource(name="token", kind="TokenRequest", type=authentication.TokenRequest, verbs=("create",),
                            group=authentication.GROUP, version="v1"),
            ),
        ),
        Resource(
            group="", version="v1", kind="Event", plural="events", singular="event", namespaced=True,
            type=core.Event, strategy=event_strategy.EventStrategy(), short_names=("ev",),
        ),
        Resource(
            group="apps", version="v1", kind="Deployment", plural="deployments", singular="deployment",
            namespaced=True, type=apps.Deployment, strategy=apps_strategy.DeploymentStrategy(),
            short_names=("deploy",), categories=("all",),
            subresources=(_apps_status_sub("Deployment", apps.Deployment), _scale_sub()),
        ),
        Resource(
            group="apps", version="v1", kind="ReplicaSet", plural="replicasets", singular="replicaset",
            namespaced=True, type=apps.ReplicaSet, strategy=apps_strategy.ReplicaSetStrategy(),
            short_names=("rs",), categories=("all",),
            subresources=(_apps_status_sub("ReplicaSet", apps.ReplicaSet), _scale_sub()),
        ),
        Resource(
            group="apps", version="v1", kind="DaemonSet", plural="daemonsets", singular="daemonset",
            namespaced=True, type=apps.DaemonSet, strategy=apps_strategy.DaemonSetStrategy(),
            short_names=("ds",), categories=("all",),
            subresources=(_apps_status_sub("DaemonSet", apps.DaemonSet),),
        ),
        Resource(
            group="coordination.k8s.io", version="v1", kind="Lease", plural="leases", singular="lease",
            namespaced=True, type=coordination.Lease, strategy=lease_strategy.LeaseStrategy(),
        ),
        Resource(
            group="discovery.k8s.io", version="v1", kind="EndpointSlice", plural="endpointslices",
            singular="endpointslice", namespaced=True, type=discovery.EndpointSlice,
            strategy=endpoints_strategy.EndpointSliceStrategy(),
        ),
        *_security_resources(),
    ]


def _security_resources() -> list[Resource]:
    """RBAC and certificate signing requests (issue 8)."""
    g = rbac.GROUP
    return [
        Resource(group=g, version="v1", kind="Role", plural="roles", singular="role", namespaced=True,
                 type=rbac.Role, strategy=rbac_strategy.RoleStrategy()),
        Resource(group=g, version="v1", kind="ClusterRole", plural="clusterroles", singular="clusterrole",
                 namespaced=False, type=rbac.ClusterRole, strategy=rbac_strategy.ClusterRoleStrategy()),
        Resource(group=g, version="v1", kind="RoleBinding", plural="rolebindings", singular="rolebinding",
                 namespaced=True, type=rbac.RoleBinding, strategy=rbac_strategy.RoleBindingStrategy()),
        Resource(group=g, version="v1", kind="ClusterRoleBinding", plural="clusterrolebindings",
                 singular="clusterrolebinding", namespaced=False, type=rbac.ClusterRoleBinding,
                 strategy=rbac_strategy.ClusterRoleBindingStrategy()),
        Resource(
            group=certificates.GROUP, version="v1", kind="CertificateSigningRequest",
            plural="certificatesigningrequests", singular="certificatesigningrequest", namespaced=False,
            type=certificates.CertificateSigningRequest,
            strategy=certificates_strategy.CertificateSigningRequestStrategy(), short_names=("csr",),
            subresources=(
                Subresource(name="status", kind="CertificateSigningRequest",
                            type=certificates.CertificateSigningRequest, verbs=_STATUS_VERBS,
                            group=certificates.GROUP),
                Subresource(name="approval", kind="CertificateSigningRequest",
                            type=certificates.CertificateSigningRequest, verbs=_STATUS_VERBS,
                            group=certificates.GROUP),
            ),
        ),
    ]


def default_registry() -> Registry:
    """A fresh registry of every built-in resource (tests may add to their own copy)."""
    return Registry.of(_default_resources())


DEFAULT = default_registry()
