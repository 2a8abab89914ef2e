"""Access reviews (authorization.k8s.io/v1): may this user do that?

- ``SelfSubjectAccessReview``: about the requester (``kubectl auth can-i``; every authenticated
  user may ask, system:basic-user).
- ``SubjectAccessReview``: about any user and groups (``pictl auth can-i --as``, webhooks); needs
  create on subjectaccessreviews. ``LocalSubjectAccessReview``: the same, in the URL's namespace.
- ``SelfSubjectRulesReview``: the requester's rules in a namespace (``kubectl auth can-i --list``):
  what RBAC grants, the Node authorizer's static rules for a node, ``*`` for system:masters.

The answer is the review with ``status`` filled in ({allowed, denied, reason}), 201 Created, the
same decision the authorizers would make for the real request.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from master.apiserver import authz, body, errors
from master.apiserver.authn import UserInfo
from master.apiserver.authz_node import NODE_RULES, node_name
from master.apiserver.authz_rbac import RBACAuthorizer, Rule
from master.apiserver.requestinfo import RequestInfo
from master.apiserver.verbs.common import Call

__all__ = ["attributes_info", "review"]


def _invalid(call: Call, field: str, message: str) -> errors.ApiError:
    return errors.invalid(call.served.kind, "", [("FieldValueRequired", field, message)], call.served.group)


def _s(d: dict[str, Any], key: str) -> str:
    v = d.get(key)
    return v if isinstance(v, str) else ""


def attributes_info(call: Call, spec: dict[str, Any]) -> RequestInfo:
    """The request a review's spec describes."""
    res, nonres = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if isinstance(res, dict) == isinstance(nonres, dict):
        raise _invalid(call, "spec.resourceAttributes",
                       "exactly one of nonResourceAttributes or resourceAttributes must be specified")
    if isinstance(res, dict):
        ns = _s(res, "namespace")
        if call.served.plural == "localsubjectaccessreviews":
            if ns and ns != call.namespace:
                raise errors.bad_request(f"spec.resourceAttributes.namespace must match the namespace {call.namespace}")
            ns = call.namespace
        return RequestInfo(True, "", _s(res, "verb"), _s(res, "group"), _s(res, "version"), _s(res, "resource"),
                           _s(res, "subresource"), ns, _s(res, "name"))
    assert isinstance(nonres, dict)
    return RequestInfo(False, _s(nonres, "path"), _s(nonres, "verb"))


def _subject(call: Call, spec: dict[str, Any]) -> UserInfo:
    groups = spec.get("groups") or []
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise errors.bad_request("spec.groups must be a list of strings")
    user = _s(spec, "user")
    if not user and not groups:
        raise _invalid(call, "spec.user", "at least one of user or group must be specified")
    extra_raw = spec.get("extra") or {}
    extra = {k: tuple(v) for k, v in extra_raw.items() if isinstance(k, str) and isinstance(v, list)} \
        if isinstance(extra_raw, dict) else {}
    return UserInfo(user, tuple(groups), _s(spec, "uid"), extra)


def _rules_review(call: Call, namespace: str) -> dict[str, Any]:
    user = call.user
    rules: list[Rule] = []
    incomplete = False
    if authz.SUPERUSER_GROUP in user.groups:
        rules.append(Rule(frozenset({"*"}), frozenset({"*"}), frozenset({"*"})))
        rules.append(Rule(frozenset({"*"}), non_resource_urls=("*",)))
    if node_name(user) is not None:
        rules.extend(NODE_RULES)
        incomplete = True  # reads of the secrets and configmaps of its pods are decided one by one
    for a in call.server.authorizers:
        if isinstance(a, RBACAuthorizer):
            rules.extend(rule for _, rule in a.source().rules_for(user, namespace))
        elif not isinstance(a, authz.Superuser) and type(a).__name__ != "NodeAuthorizer":
            incomplete = True
    resource_rules = [r.to_dict() for r in rules if not r.non_resource_urls]
    non_resource = [{"verbs": sorted(r.verbs), "nonResourceURLs": list(r.non_resource_urls)}
                    for r in rules if r.non_resource_urls]
    return {"resourceRules": resource_rules, "nonResourceRules": non_resource, "incomplete": incomplete}


async def review(call: Call) -> web.StreamResponse:
    obj = await call.read_object()
    call.check_type_meta(obj)
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        raise _invalid(call, "spec", "Required value")
    plural = call.served.plural
    if plural == "selfsubjectrulesreviews":
        ns = _s(spec, "namespace")
        obj["status"] = _rules_review(call, ns)
        return body.json_response(obj, 201)
    info = attributes_info(call, spec)
    user = call.user if plural == "selfsubjectaccessreviews" else _subject(call, spec)
    if plural == "selfsubjectaccessreviews":
        spec.pop("user", None)
    decision, reason = authz.authorize(call.server.authorizers, authz.Attributes(user, info))
    status: dict[str, Any] = {"allowed": decision is authz.Decision.ALLOW}
    if decision is authz.Decision.DENY and reason:
        status["denied"] = True
    if reason:
        status["reason"] = reason
    obj["status"] = status
    return body.json_response(obj, 201)
