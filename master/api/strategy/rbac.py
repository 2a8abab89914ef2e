"""Roles, ClusterRoles and their bindings.

Names are path segments (``system:node`` is a valid role name), as Kubernetes' RBAC names are.
A rule needs verbs and either resources (with apiGroups) or nonResourceURLs (ClusterRoles
only); a binding's ``roleRef`` names a Role (RoleBindings only) or ClusterRole and never
changes once made.
"""

from __future__ import annotations

from typing import ClassVar

from master.api import field
from master.api.field import FieldError
from master.api.rbac import (
    GROUP,
    ClusterRole,
    ClusterRoleBinding,
    PolicyRule,
    Role,
    RoleBinding,
    RoleRef,
    Subject,
)
from master.api.strategy.base import Strategy

__all__ = [
    "ClusterRoleBindingStrategy",
    "ClusterRoleStrategy",
    "RoleBindingStrategy",
    "RoleStrategy",
    "path_segment_name_errors",
]

SUBJECT_KINDS = ("User", "Group", "ServiceAccount")


def path_segment_name_errors(name: str, prefix: bool = False) -> list[str]:
    if not prefix and name in (".", ".."):
        return [f'may not be "{name}"']
    bad = [c for c in ("/", "%") if c in name]
    return [f"may not contain '{c}'" for c in bad]


def _validate_rules(rules: list[PolicyRule], *, cluster: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, rule in enumerate(rules):
        p = field.index("rules", i)
        if not rule.verbs:
            errs.append(field.required(field.child(p, "verbs"), "verbs must contain at least one value"))
        if rule.non_resource_urls:
            if not cluster:
                errs.append(field.invalid(field.child(p, "nonResourceURLs"), rule.non_resource_urls,
                                          "namespaced rules cannot apply to non-resource URLs"))
            if rule.api_groups or rule.resources or rule.resource_names:
                errs.append(field.invalid(field.child(p, "nonResourceURLs"), rule.non_resource_urls,
                                          "rules cannot apply to both regular resources and non-resource URLs"))
            continue
        if not rule.resources:
            errs.append(field.required(field.child(p, "resources"), "resource rules must supply at least one resource"))
        if not rule.api_groups:
            errs.append(field.required(field.child(p, "apiGroups"),
                                       "resource rules must supply at least one api group"))
    return errs


def _validate_role_ref(ref: RoleRef, *, cluster_binding: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    kinds = ("ClusterRole",) if cluster_binding else ("Role", "ClusterRole")
    if ref.api_group != GROUP:
        errs.append(field.not_supported("roleRef.apiGroup", ref.api_group, [GROUP]))
    if ref.kind not in kinds:
        errs.append(field.not_supported("roleRef.kind", ref.kind, kinds))
    if not ref.name:
        errs.append(field.required("roleRef.name"))
    else:
        errs.extend(field.invalid("roleRef.name", ref.name, m) for m in path_segment_name_errors(ref.name))
    return errs


def _validate_subjects(subjects: list[Subject], *, cluster_binding: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, s in enumerate(subjects):
        p = field.index("subjects", i)
        if s.kind not in SUBJECT_KINDS:
            errs.append(field.not_supported(field.child(p, "kind"), s.kind, SUBJECT_KINDS))
            continue
        if not s.name:
            errs.append(field.required(field.child(p, "name")))
        if s.kind == "ServiceAccount":
            if s.api_group:
                errs.append(field.not_supported(field.child(p, "apiGroup"), s.api_group, [""]))
            if cluster_binding and not s.namespace:
                errs.append(field.required(field.child(p, "namespace")))
        elif s.api_group != GROUP:
            errs.append(field.not_supported(field.child(p, "apiGroup"), s.api_group, [GROUP]))
    return errs


class RoleStrategy(Strategy[Role]):
    def name_errors(self, name: str, prefix: bool) -> list[str]:
        return path_segment_name_errors(name, prefix)

    def validate(self, obj: Role) -> list[FieldError]:
        return super().validate(obj) + _validate_rules(obj.rules, cluster=False)


class ClusterRoleStrategy(Strategy[ClusterRole]):
    namespaced: ClassVar[bool] = False

    def name_errors(self, name: str, prefix: bool) -> list[str]:
        return path_segment_name_errors(name, prefix)

    def validate(self, obj: ClusterRole) -> list[FieldError]:
        errs = super().validate(obj)
        if obj.aggregation_rule is None:
            errs.extend(_validate_rules(obj.rules, cluster=True))
        elif not obj.aggregation_rule.cluster_role_selectors:
            errs.append(field.required("aggregationRule.clusterRoleSelectors"))
        return errs


def _role_ref_unchanged(new: RoleRef, old: RoleRef) -> list[FieldError]:
    if new != old:
        return [field.invalid("roleRef", f"{new.kind}/{new.name}", "cannot change roleRef")]
    return []


class RoleBindingStrategy(Strategy[RoleBinding]):
    def name_errors(self, name: str, prefix: bool) -> list[str]:
        return path_segment_name_errors(name, prefix)

    def validate(self, obj: RoleBinding) -> list[FieldError]:
        return (super().validate(obj) + _validate_role_ref(obj.role_ref, cluster_binding=False)
                + _validate_subjects(obj.subjects, cluster_binding=False))

    def validate_update(self, new: RoleBinding, old: RoleBinding) -> list[FieldError]:
        return super().validate_update(new, old) + _role_ref_unchanged(new.role_ref, old.role_ref)


class ClusterRoleBindingStrategy(Strategy[ClusterRoleBinding]):
    namespaced: ClassVar[bool] = False

    def name_errors(self, name: str, prefix: bool) -> list[str]:
        return path_segment_name_errors(name, prefix)

    def validate(self, obj: ClusterRoleBinding) -> list[FieldError]:
        return (super().validate(obj) + _validate_role_ref(obj.role_ref, cluster_binding=True)
                + _validate_subjects(obj.subjects, cluster_binding=True))

    def validate_update(self, new: ClusterRoleBinding, old: ClusterRoleBinding) -> list[FieldError]:
        return super().validate_update(new, old) + _role_ref_unchanged(new.role_ref, old.role_ref)
