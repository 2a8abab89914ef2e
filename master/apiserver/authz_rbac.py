"""The RBAC authorizer: Roles, ClusterRoles, RoleBindings and ClusterRoleBindings.

A request is allowed when some binding that names the user (as a User, one of its Groups, or
its ServiceAccount) points at a role with a rule covering it; there are no deny rules. The
rules a binding grants::

    ClusterRoleBinding -> ClusterRole        everywhere (cluster-scoped and every namespace)
    RoleBinding (ns)   -> Role or ClusterRole  only in ns

A rule covers a resource request when its verbs, apiGroups, resources and resourceNames all
match (``*`` matches anything; ``pods/log`` names a subresource, ``pods/*`` every subresource of
pods and ``*/scale`` the scale subresource of anything; resourceNames limit it to those
names), and a non-resource request (``/healthz``) when a verb (``get``, ``post`` ...) and a
``nonResourceURLs`` entry match (``/apis/*`` is a prefix). A ClusterRole with an
``aggregationRule`` also has the rules of every ClusterRole its selectors match.

``RuleIndex`` is built from the four resources' current objects; the server rebuilds it when
one of them changed (``RBACAuthorizer`` asks its ``source`` each time; building is cheap for
the few hundred objects a cluster has).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from master.apiserver.authn import UserInfo
from master.apiserver.authn_serviceaccount import parse_username
from master.apiserver.authz import Attributes, Decision
from master.apiserver.requestinfo import RequestInfo

__all__ = ["RBACAuthorizer", "Rule", "RuleIndex", "covers", "rule_allows"]

# The HTTP verb of a non-resource request, from RequestInfo's resource-style verb.
_HTTP_VERBS = {"create": "post", "update": "put", "patch": "patch", "get": "get", "list": "get",
               "delete": "delete", "deletecollection": "delete", "watch": "get"}


@dataclass(frozen=True, slots=True)
class Rule:
    verbs: frozenset[str]
    api_groups: frozenset[str] = frozenset()
    resources: frozenset[str] = frozenset()
    resource_names: frozenset[str] = frozenset()
    non_resource_urls: tuple[str, ...] = ()

    @classmethod
    def of(cls, d: Any) -> Rule | None:
        if not isinstance(d, dict):
            return None

        def strs(key: str) -> list[str]:
            v = d.get(key) or []
            return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []

        return cls(frozenset(strs("verbs")), frozenset(strs("apiGroups")), frozenset(strs("resources")),
                   frozenset(strs("resourceNames")), tuple(strs("nonResourceURLs")))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verbs": sorted(self.verbs)}
        if self.non_resource_urls:
            out["nonResourceURLs"] = list(self.non_resource_urls)
            return out
        out["apiGroups"] = sorted(self.api_groups)
        out["resources"] = sorted(self.resources)
        if self.resource_names:
            out["resourceNames"] = sorted(self.resource_names)
        return out


def _resource_matches(rule: Rule, resource: str, subresource: str) -> bool:
    if "*" in rule.resources:
        return True
    if not subresource:
        return resource in rule.resources
    combined = f"{resource}/{subresource}"
    return combined in rule.resources or f"{resource}/*" in rule.resources or f"*/{subresource}" in rule.resources


def _url_matches(rule: Rule, path: str) -> bool:
    for url in rule.non_resource_urls:
        if url == "*" or url == path:
            return True
        if url.endswith("*") and path.startswith(url[:-1]):
            return True
    return False


def rule_allows(rule: Rule, info: RequestInfo) -> bool:
    if info.is_resource:
        if rule.non_resource_urls:
            return False
        if "*" not in rule.verbs and info.verb not in rule.verbs:
            return False
        if "*" not in rule.api_groups and info.group not in rule.api_groups:
            return False
        if not _resource_matches(rule, info.resource, info.subresource):
            return False
        return not rule.resource_names or (bool(info.name) and info.name in rule.resource_names)
    if not rule.non_resource_urls:
        return False
    verb = _HTTP_VERBS.get(info.verb, info.verb)
    if "*" not in rule.verbs and verb not in rule.verbs:
        return False
    return _url_matches(rule, info.path)


@dataclass(frozen=True, slots=True)
class _Binding:
    name: str
    namespace: str  # "" for a ClusterRoleBinding
    subjects: tuple[tuple[str, str, str], ...]  # (kind, name, namespace)
    role_kind: str
    role_name: str

    def names(self, user: UserInfo) -> bool:
        sa = parse_username(user.name)
        for kind, name, ns in self.subjects:
            if kind == "User" and name == user.name:
                return True
            if kind == "Group" and name in user.groups:
                return True
            if kind == "ServiceAccount" and sa is not None and sa == (ns or self.namespace, name):
                return True
        return False


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _binding(obj: dict[str, Any]) -> _Binding | None:
    ref = obj.get("roleRef")
    if not isinstance(ref, dict):
        return None
    subjects = []
    for s in obj.get("subjects") or []:
        if isinstance(s, dict):
            subjects.append((str(s.get("kind", "")), str(s.get("name", "")), str(s.get("namespace", "") or "")))
    meta = _meta(obj)
    return _Binding(str(meta.get("name", "")), str(meta.get("namespace", "") or ""), tuple(subjects),
                    str(ref.get("kind", "")), str(ref.get("name", "")))


def _rules(obj: dict[str, Any]) -> list[Rule]:
    out = []
    for r in obj.get("rules") or []:
        rule = Rule.of(r)
        if rule is not None:
            out.append(rule)
    return out


def _selects(selector: Any, labels: dict[str, str]) -> bool:
    from master.api import codec
    from master.api import labels as api_labels
    from master.api.meta import LabelSelector

    try:
        ls = codec.convert(selector, LabelSelector)
        return api_labels.from_label_selector(ls).matches(labels)
    except (codec.DecodeError, api_labels.SelectorError, TypeError, ValueError):
        return False


@dataclass
class RuleIndex:
    """Rules by role, and the bindings, of one moment."""

    cluster_roles: dict[str, list[Rule]] = field(default_factory=dict)
    roles: dict[tuple[str, str], list[Rule]] = field(default_factory=dict)
    cluster_bindings: list[_Binding] = field(default_factory=list)
    bindings: dict[str, list[_Binding]] = field(default_factory=dict)

    @classmethod
    def build(cls, *, roles: Iterable[dict[str, Any]], cluster_roles: Iterable[dict[str, Any]],
              role_bindings: Iterable[dict[str, Any]], cluster_role_bindings: Iterable[dict[str, Any]]) -> RuleIndex:
        idx = cls()
        crs = [cr for cr in cluster_roles if isinstance(cr, dict)]
        for cr in crs:
            idx.cluster_roles[str(_meta(cr).get("name", ""))] = _rules(cr)
        for cr in crs:
            agg = cr.get("aggregationRule")
            if not isinstance(agg, dict):
                continue
            selectors = agg.get("clusterRoleSelectors") or []
            name = str(_meta(cr).get("name", ""))
            for other in crs:
                other_name = str(_meta(other).get("name", ""))
                lbls = _meta(other).get("labels") or {}
                if other_name != name and isinstance(lbls, dict) and any(_selects(s, lbls) for s in selectors):
                    idx.cluster_roles[name] = idx.cluster_roles[name] + _rules(other)
        for r in roles:
            meta = _meta(r)
            idx.roles[(str(meta.get("namespace", "")), str(meta.get("name", "")))] = _rules(r)
        for b in cluster_role_bindings:
            cb = _binding(b)
            if cb is not None and cb.role_kind == "ClusterRole":
                idx.cluster_bindings.append(_Binding(cb.name, "", cb.subjects, cb.role_kind, cb.role_name))
        for b in role_bindings:
            rb = _binding(b)
            if rb is not None and rb.namespace:
                idx.bindings.setdefault(rb.namespace, []).append(rb)
        return idx

    def _role_rules(self, b: _Binding) -> list[Rule]:
        if b.role_kind == "ClusterRole":
            return self.cluster_roles.get(b.role_name, [])
        if b.role_kind == "Role":
            return self.roles.get((b.namespace, b.role_name), [])
        return []

    def rules_for(self, user: UserInfo, namespace: str) -> list[tuple[str, Rule]]:
        """(where it comes from, rule) for every rule ``user`` has in ``namespace`` ("" = cluster)."""
        out: list[tuple[str, Rule]] = []
        for b in self.cluster_bindings:
            if b.names(user):
                out.extend((f'ClusterRoleBinding "{b.name}" of ClusterRole "{b.role_name}"', r)
                           for r in self._role_rules(b))
        if namespace:
            for b in self.bindings.get(namespace, []):
                if b.names(user):
                    out.extend((f'RoleBinding "{b.name}/{namespace}" of {b.role_kind} "{b.role_name}"', r)
                               for r in self._role_rules(b))
        return out


class RBACAuthorizer:
    def __init__(self, source: Callable[[], RuleIndex]) -> None:
        self.source = source

    def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        info = attrs.info
        ns = info.namespace if info.is_resource else ""
        for origin, rule in self.source().rules_for(attrs.user, ns):
            if rule_allows(rule, info):
                return Decision.ALLOW, f"RBAC: allowed by {origin}"
        return Decision.NO_OPINION, ""


def _word_covered(have: frozenset[str], want: str) -> bool:
    return "*" in have or want in have


def _resource_covered(have: frozenset[str], want: str) -> bool:
    if "*" in have or want in have:
        return True
    base, sep, sub = want.partition("/")
    return bool(sep) and sub != "*" and base != "*" and (f"{base}/*" in have or f"*/{sub}" in have)


def _url_covered(have: tuple[str, ...], want: str) -> bool:
    for url in have:
        if url == "*" or url == want:
            return True
        if url.endswith("*") and want.startswith(url[:-1]):
            return True
    return False


def covers(owned: list[Rule], rule: Rule) -> bool:
    """Whether ``owned`` grants everything ``rule`` does (RBAC's escalation check): every verb x
    group x resource x name of ``rule`` is granted by some owned rule, a wildcard only by a
    wildcard."""
    if rule.non_resource_urls:
        return all(any(o.non_resource_urls and _word_covered(o.verbs, v) and _url_covered(o.non_resource_urls, u)
                       for o in owned)
                   for v in rule.verbs for u in rule.non_resource_urls)
    names: list[str | None] = list(rule.resource_names) or [None]
    for verb in rule.verbs:
        for group in rule.api_groups:
            for resource in rule.resources:
                for name in names:
                    if not any(not o.non_resource_urls and _word_covered(o.verbs, verb)
                               and _word_covered(o.api_groups, group) and _resource_covered(o.resources, resource)
                               and (not o.resource_names or (name is not None and name in o.resource_names))
                               for o in owned):
                        return False
    return True
