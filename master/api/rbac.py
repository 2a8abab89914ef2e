"""rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding, ClusterRoleBinding.

A rule grants ``verbs`` on ``resources`` (``pods``, ``pods/log``, ``*``) of ``apiGroups`` (``""``
is the core group), optionally only on ``resourceNames``; a ClusterRole's rule may instead grant
``nonResourceURLs`` (``/healthz``, ``/api/*``). A binding gives a role's rules to subjects (User,
Group, ServiceAccount) — in its namespace for a RoleBinding, everywhere for a ClusterRoleBinding.
A ClusterRole with an ``aggregationRule`` is the union of the ClusterRoles its selectors match
(the apiserver keeps its ``rules`` filled in).
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from master.api.meta import LabelSelector, Object

__all__ = [
    "GROUP",
    "AggregationRule",
    "ClusterRole",
    "ClusterRoleBinding",
    "PolicyRule",
    "Role",
    "RoleBinding",
    "RoleRef",
    "Subject",
]

GROUP = "rbac.authorization.k8s.io"


class PolicyRule(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    verbs: list[str] = []
    api_groups: list[str] = []
    resources: list[str] = []
    resource_names: list[str] = []
    non_resource_urls: list[str] = msgspec.field(default_factory=list, name="nonResourceURLs")


class Subject(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    kind: str  # User, Group, ServiceAccount
    name: str
    api_group: str = ""
    namespace: str = ""


class RoleRef(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    api_group: str
    kind: str  # Role or ClusterRole
    name: str


class AggregationRule(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    cluster_role_selectors: list[LabelSelector] = []


class Role(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = f"{GROUP}/v1"
    KIND: ClassVar[str] = "Role"

    rules: list[PolicyRule] = []


class ClusterRole(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = f"{GROUP}/v1"
    KIND: ClassVar[str] = "ClusterRole"

    rules: list[PolicyRule] = []
    aggregation_rule: AggregationRule | None = None


class RoleBinding(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = f"{GROUP}/v1"
    KIND: ClassVar[str] = "RoleBinding"

    subjects: list[Subject] = []
    role_ref: RoleRef = msgspec.field(default_factory=lambda: RoleRef(api_group=GROUP, kind="", name=""))


class ClusterRoleBinding(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = f"{GROUP}/v1"
    KIND: ClassVar[str] = "ClusterRoleBinding"

    subjects: list[Subject] = []
    role_ref: RoleRef = msgspec.field(default_factory=lambda: RoleRef(api_group=GROUP, kind="", name=""))
