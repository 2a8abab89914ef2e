"""The audit policy (``--audit-policy-file``): which requests are logged, and how much.

The format is Kubernetes' ``audit.k8s.io/v1`` Policy; the first rule that matches a request
gives its level, no match means ``None``::

    apiVersion: audit.k8s.io/v1
    kind: Policy
    omitStages: [RequestReceived]
    rules:
    - level: None                      # never log kube-proxy-like watch noise
      users: ["system:kube-proxy"]
      verbs: ["watch"]
    - level: Metadata                  # who did what to which object, no bodies
      resources: [{group: "", resources: ["secrets", "configmaps"]}]
    - level: RequestResponse
      namespaces: ["prod"]
    - level: Metadata

Levels: None < Metadata (user, verb, object, code, times) < Request (+ request body) <
RequestResponse (+ response body). A rule's fields narrow it (all given must match): ``users``,
``userGroups``, ``verbs``, ``resources`` (group, resources with ``pods/log`` / ``*`` forms,
resourceNames), ``namespaces`` (``""`` is cluster-scoped) and ``nonResourceURLs`` (``/healthz*``
prefixes). Without a policy file every request is logged at Metadata.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from master.apiserver import configfile
from master.apiserver.authn import UserInfo
from master.apiserver.requestinfo import RequestInfo

__all__ = ["STAGES", "GroupResources", "Level", "Policy", "PolicyRule", "load_policy", "parse_policy"]

STAGES = ("RequestReceived", "ResponseStarted", "ResponseComplete", "Panic")


class Level(enum.IntEnum):
    NONE = 0
    METADATA = 1
    REQUEST = 2
    REQUEST_RESPONSE = 3

    @classmethod
    def parse(cls, text: Any) -> Level:
        names = {"None": cls.NONE, "Metadata": cls.METADATA, "Request": cls.REQUEST,
                 "RequestResponse": cls.REQUEST_RESPONSE}
        if text not in names:
            raise ValueError(f"unknown level {text!r} (want None, Metadata, Request or RequestResponse)")
        return names[text]

    @property
    def title(self) -> str:
        return {0: "None", 1: "Metadata", 2: "Request", 3: "RequestResponse"}[int(self)]


@dataclass(frozen=True, slots=True)
class GroupResources:
    group: str = ""
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()

    def matches(self, info: RequestInfo) -> bool:
        if info.group != self.group:
            return False
        if self.resources:
            full = f"{info.resource}/{info.subresource}" if info.subresource else info.resource
            ok = False
            for r in self.resources:
                if r in ("*", full) or (r == f"{info.resource}/*" and info.subresource) or (
                        r == f"*/{info.subresource}" and info.subresource):
                    ok = True
                    break
            if not ok:
                return False
        return not self.resource_names or info.name in self.resource_names


@dataclass(frozen=True, slots=True)
class PolicyRule:
    level: Level
    users: tuple[str, ...] = ()
    user_groups: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    resources: tuple[GroupResources, ...] = ()
    namespaces: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()
    omit_stages: tuple[str, ...] = ()

    def matches(self, user: UserInfo, info: RequestInfo) -> bool:
        if self.users and user.name not in self.users:
            return False
        if self.user_groups and not set(self.user_groups) & set(user.groups):
            return False
        if self.verbs and info.verb not in self.verbs:
            return False
        if self.resources or self.namespaces:
            if not info.is_resource:
                return False
            if self.resources and not any(gr.matches(info) for gr in self.resources):
                return False
            if self.namespaces and info.namespace not in self.namespaces:
                return False
        if self.non_resource_urls:
            if info.is_resource:
                return False
            return any(u == info.path or (u.endswith("*") and info.path.startswith(u[:-1]))
                       for u in self.non_resource_urls)
        return True


@dataclass(frozen=True, slots=True)
class Policy:
    rules: tuple[PolicyRule, ...]
    omit_stages: tuple[str, ...] = ()

    @classmethod
    def everything(cls, level: Level = Level.METADATA) -> Policy:
        return cls((PolicyRule(level),))

    def decide(self, user: UserInfo, info: RequestInfo) -> tuple[Level, frozenset[str]]:
        """(level, stages to leave out) for a request."""
        for rule in self.rules:
            if rule.matches(user, info):
                return rule.level, frozenset((*self.omit_stages, *rule.omit_stages))
        return Level.NONE, frozenset(self.omit_stages)


def _strs(d: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    v = d.get(key)
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ValueError(f"{where}.{key}: want a list of strings")
    return tuple(v)


def _stages(d: dict[str, Any], where: str) -> tuple[str, ...]:
    stages = _strs(d, "omitStages", where)
    for s in stages:
        if s not in STAGES:
            raise ValueError(f"{where}.omitStages: unknown stage {s!r} (known: {', '.join(STAGES)})")
    return stages


def parse_policy(doc: Any) -> Policy:
    if not isinstance(doc, dict):
        raise ValueError("want an audit.k8s.io/v1 Policy object")
    if doc.get("kind") != "Policy" or doc.get("apiVersion") not in ("audit.k8s.io/v1", "audit.k8s.io/v1beta1"):
        raise ValueError("want apiVersion audit.k8s.io/v1 and kind Policy")
    raw_rules = doc.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise ValueError("rules: want at least one rule")
    rules: list[PolicyRule] = []
    for i, r in enumerate(raw_rules):
        where = f"rules[{i}]"
        if not isinstance(r, dict):
            raise ValueError(f"{where}: want an object")
        try:
            level = Level.parse(r.get("level"))
        except ValueError as exc:
            raise ValueError(f"{where}.level: {exc}") from None
        groups: list[GroupResources] = []
        raw_res = r.get("resources") or []
        if not isinstance(raw_res, list):
            raise ValueError(f"{where}.resources: want a list")
        for j, gr in enumerate(raw_res):
            if not isinstance(gr, dict) or not isinstance(gr.get("group", ""), str):
                raise ValueError(f"{where}.resources[{j}]: want {{group, resources, resourceNames}}")
            groups.append(GroupResources(gr.get("group", "") or "", _strs(gr, "resources", f"{where}.resources[{j}]"),
                                         _strs(gr, "resourceNames", f"{where}.resources[{j}]")))
        urls = _strs(r, "nonResourceURLs", where)
        if urls and (groups or r.get("namespaces")):
            raise ValueError(f"{where}: nonResourceURLs cannot be combined with resources or namespaces")
        rules.append(PolicyRule(level, _strs(r, "users", where), _strs(r, "userGroups", where),
                                _strs(r, "verbs", where), tuple(groups), _strs(r, "namespaces", where), urls,
                                _stages(r, where)))
    return Policy(tuple(rules), _stages(doc, "Policy"))


def load_policy(path: Path) -> Policy:
    """ValueError naming the file for anything unreadable or malformed."""
    return configfile.load(path, "--audit-policy-file", parse_policy)
