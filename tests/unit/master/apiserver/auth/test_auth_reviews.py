"""Impersonation, access reviews (SSAR, SAR, LocalSAR, SSRR), SelfSubjectReview, and the rule matcher."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from master.apiserver.authz_rbac import Rule, rule_allows
from master.apiserver.requestinfo import RequestInfo, parse_request_info
from tests.fixtures.apiserver import Api
from tests.unit.master.apiserver.auth.auth_helpers import Identity, Requester, binding, cert_identity

RBAC = "/apis/rbac.authorization.k8s.io/v1"
AUTHZ = "/apis/authorization.k8s.io/v1"


def _rule(verbs: str, groups: str, resources: str, names: str = "") -> Rule:
    return Rule(frozenset(verbs.split()), frozenset(groups.split(",")), frozenset(resources.split()),
                frozenset(names.split()))


@pytest.mark.parametrize(
    ("rule", "method", "path", "allowed"),
    [
        pytest.param(_rule("get", "", "pods"), "GET", "/api/v1/namespaces/a/pods/x", True, id="exact"),
        pytest.param(_rule("get", "", "pods"), "GET", "/api/v1/namespaces/a/pods", False, id="get-is-not-list"),
        pytest.param(_rule("*", "", "pods"), "DELETE", "/api/v1/namespaces/a/pods", True, id="verb-star"),
        pytest.param(_rule("get", "apps", "pods"), "GET", "/api/v1/namespaces/a/pods/x", False, id="wrong-group"),
        pytest.param(_rule("get", "*", "*"), "GET", "/apis/apps/v1/namespaces/a/deployments/d", True, id="stars"),
        pytest.param(_rule("get", "", "pods"), "GET", "/api/v1/namespaces/a/pods/x/log", False,
                     id="subresource-needs-naming"),
        pytest.param(_rule("get", "", "pods/log"), "GET", "/api/v1/namespaces/a/pods/x/log", True, id="subresource"),
        pytest.param(_rule("get", "", "pods/*"), "GET", "/api/v1/namespaces/a/pods/x/log", True,
                     id="all-subresources"),
        pytest.param(_rule("update", "apps", "*/scale"), "PUT", "/apis/apps/v1/namespaces/a/deployments/d/scale",
                     True, id="any-scale"),
        pytest.param(_rule("get", "", "secrets", "a b"), "GET", "/api/v1/namespaces/n/secrets/a", True,
                     id="resource-name"),
        pytest.param(_rule("get", "", "secrets", "a b"), "GET", "/api/v1/namespaces/n/secrets/c", False,
                     id="other-resource-name"),
        pytest.param(_rule("list", "", "secrets", "a"), "GET", "/api/v1/namespaces/n/secrets", False,
                     id="resource-names-never-list"),
        pytest.param(Rule(frozenset({"get"}), non_resource_urls=("/healthz",)), "GET", "/healthz", True,
                     id="url"),
        pytest.param(Rule(frozenset({"get"}), non_resource_urls=("/apis/*",)), "GET", "/apis/apps", True,
                     id="url-prefix"),
        pytest.param(Rule(frozenset({"get"}), non_resource_urls=("/healthz",)), "POST", "/healthz", False,
                     id="url-verb"),
        pytest.param(Rule(frozenset({"get"}), non_resource_urls=("*",)), "GET", "/api/v1/pods", False,
                     id="url-rules-never-resources"),
    ],
)
def test_rule_allows(rule: Rule, method: str, path: str, allowed: bool) -> None:
    assert rule_allows(rule, parse_request_info(method, path)) is allowed


async def _review(api: Api, path: str, spec: dict[str, Any], kind: str) -> dict[str, Any]:
    group = "authorization.k8s.io/v1"
    code, out = await api.post(path, json={"apiVersion": group, "kind": kind, "spec": spec})
    assert code == 201, out
    return dict(out["status"])


async def test_access_reviews(apiserver: Api) -> None:
    await apiserver.post(f"{RBAC}/namespaces/default/rolebindings",
                         json=binding("RoleBinding", "jane-view", "ClusterRole", "view", [("User", "jane")], "default"))
    pods = {"resourceAttributes": {"verb": "list", "resource": "pods", "namespace": "default"}}
    assert (await _review(apiserver, f"{AUTHZ}/selfsubjectaccessreviews", pods, "SelfSubjectAccessReview"))["allowed"]
    jane = await _review(apiserver, f"{AUTHZ}/subjectaccessreviews", {**pods, "user": "jane"}, "SubjectAccessReview")
    assert jane["allowed"] and "jane-view" in jane["reason"]
    other_ns = {"resourceAttributes": {"verb": "list", "resource": "pods", "namespace": "kube-system"}, "user": "jane"}
    assert not (await _review(apiserver, f"{AUTHZ}/subjectaccessreviews", other_ns, "SubjectAccessReview"))["allowed"]
    local = await _review(apiserver, f"{AUTHZ}/namespaces/default/localsubjectaccessreviews",
                          {"resourceAttributes": {"verb": "get", "resource": "pods"}, "user": "jane"},
                          "LocalSubjectAccessReview")
    assert local["allowed"]
    url = await _review(apiserver, f"{AUTHZ}/subjectaccessreviews",
                        {"nonResourceAttributes": {"path": "/healthz", "verb": "get"}, "user": "x",
                         "groups": ["system:unauthenticated"]}, "SubjectAccessReview")
    assert url["allowed"]


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        pytest.param({}, 422, id="no-attributes"),
        pytest.param({"resourceAttributes": {"verb": "get"}, "nonResourceAttributes": {"path": "/"}}, 422,
                     id="both-attributes"),
        pytest.param({"resourceAttributes": {"verb": "get", "resource": "pods"}}, 422, id="no-user"),
        pytest.param({"resourceAttributes": {"verb": "get"}, "user": "x", "groups": "oops"}, 400, id="bad-groups"),
    ],
)
async def test_bad_subject_access_reviews(apiserver: Api, spec: dict[str, Any], code: int) -> None:
    got, out = await apiserver.post(f"{AUTHZ}/subjectaccessreviews",
                                    json={"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                                          "spec": spec})
    assert got == code, out


async def test_reviews_need_their_own_permission(apiserver: Api) -> None:
    req = Requester(apiserver.base, Path(apiserver.data_dir))
    nobody = cert_identity("nobody")
    try:
        spec = {"resourceAttributes": {"verb": "get", "resource": "pods"}}
        code, out = await req.request(nobody, "POST", f"{AUTHZ}/selfsubjectaccessreviews",
                                      body={"apiVersion": "authorization.k8s.io/v1",
                                            "kind": "SelfSubjectAccessReview", "spec": spec})
        assert code == 201 and out["status"]["allowed"] is False
        code, _ = await req.request(nobody, "POST", f"{AUTHZ}/subjectaccessreviews",
                                    body={"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                                          "spec": {**spec, "user": "kubernetes-admin", "groups": ["system:masters"]}})
        assert code == 403
        code, out = await req.request(nobody, "POST", f"{AUTHZ}/selfsubjectrulesreviews",
                                      body={"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
                                            "spec": {"namespace": "default"}})
        assert code == 201
        granted = {r for rule in out["status"]["resourceRules"] for r in rule["resources"]}
        assert "selfsubjectaccessreviews" in granted and "pods" not in granted
    finally:
        await req.close()


async def test_impersonation(apiserver: Api) -> None:
    await apiserver.post(f"{RBAC}/namespaces/default/rolebindings",
                         json=binding("RoleBinding", "jane-view", "ClusterRole", "view", [("User", "jane")], "default"))
    await apiserver.post(f"{RBAC}/clusterroles", json={
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "be-jane"},
        "rules": [{"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"], "resourceNames": ["jane"]}]})
    await apiserver.post(f"{RBAC}/clusterrolebindings",
                         json=binding("ClusterRoleBinding", "support-be-jane", "ClusterRole", "be-jane",
                                      [("User", "support")]))
    req = Requester(apiserver.base, Path(apiserver.data_dir))
    pods = "/api/v1/namespaces/default/pods"
    try:
        # The admin may be anyone; as jane, jane's rights apply.
        admin_as_jane = Identity("a", user="kubernetes-admin", groups=("system:masters",),
                                 headers={"Impersonate-User": "jane"})
        assert (await req.request(admin_as_jane, "GET", pods))[0] == 200
        assert (await req.request(admin_as_jane, "GET", "/api/v1/namespaces/kube-system/pods"))[0] == 403
        code, out = await req.request(admin_as_jane, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                      body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        assert out["status"]["userInfo"] == {"username": "jane", "groups": ["system:authenticated"]}
        # support may become jane, and nobody else.
        support_as_jane = Identity("s", user="support", headers={"Impersonate-User": "jane"})
        assert (await req.request(support_as_jane, "GET", pods))[0] == 200
        support_as_admin = Identity("s2", user="support", headers={"Impersonate-User": "kubernetes-admin"})
        assert (await req.request(support_as_admin, "GET", pods))[0] == 403
        support_as_masters = Identity("s3", user="support", headers={"Impersonate-User": "jane",
                                                                     "Impersonate-Group": "system:masters"})
        assert (await req.request(support_as_masters, "GET", pods))[0] == 403
        # Groups without a user make no sense.
        groups_only = Identity("g", user="kubernetes-admin", groups=("system:masters",),
                               headers={"Impersonate-Group": "ops"})
        assert (await req.request(groups_only, "GET", pods))[0] == 400
        # Service accounts are impersonated through their namespace.
        as_sa = Identity("sa", user="kubernetes-admin", groups=("system:masters",),
                         headers={"Impersonate-User": "system:serviceaccount:default:default"})
        code, out = await req.request(as_sa, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                      body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        assert code == 201 and "system:serviceaccounts:default" in out["status"]["userInfo"]["groups"]
    finally:
        await req.close()


async def test_rbac_write_is_seen_by_the_next_request(apiserver: Api) -> None:
    """Read-your-writes: a binding is in force as soon as its create returns."""
    req = Requester(apiserver.base, Path(apiserver.data_dir))
    who = cert_identity("fresh")
    try:
        for i in range(5):
            name = f"fresh-{i}"
            await apiserver.post(f"{RBAC}/namespaces/default/rolebindings",
                                 json=binding("RoleBinding", name, "ClusterRole", "view", [("User", "fresh")],
                                              "default"))
            assert (await req.request(who, "GET", "/api/v1/namespaces/default/pods"))[0] == 200
            await apiserver.delete(f"{RBAC}/namespaces/default/rolebindings/{name}")
            assert (await req.request(who, "GET", "/api/v1/namespaces/default/pods"))[0] == 403
    finally:
        await req.close()


async def test_default_policy_is_put_back(apiserver: Api) -> None:
    from master.apiserver.authz_policy import ensure_policy

    path = f"{RBAC}/clusterroles/view"
    code, view = await apiserver.get(path)
    assert code == 200 and view["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] == "true"
    await apiserver.put(path, json={**view, "rules": []})
    counts = await ensure_policy(apiserver.server)
    assert counts["updated"] == 1
    assert (await apiserver.get(path))[1]["rules"] == view["rules"]
    kept = {**(await apiserver.get(path))[1]}
    kept["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] = "false"
    kept["rules"] = []
    await apiserver.put(path, json=kept)
    assert (await ensure_policy(apiserver.server))["updated"] == 0
    assert not (await apiserver.get(path))[1].get("rules")


async def test_aggregated_cluster_role(apiserver: Api) -> None:
    await apiserver.post(f"{RBAC}/clusterroles", json={
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "widgets-view", "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
        "rules": [{"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get"]}]})
    await apiserver.post(f"{RBAC}/clusterrolebindings",
                         json=binding("ClusterRoleBinding", "v", "ClusterRole", "view", [("User", "viewer")]))
    status = await _review(apiserver, f"{AUTHZ}/subjectaccessreviews",
                           {"resourceAttributes": {"verb": "get", "group": "example.com", "resource": "widgets",
                                                   "namespace": "x"}, "user": "viewer"}, "SubjectAccessReview")
    assert status["allowed"]


def test_request_info_for_reviews() -> None:
    info = parse_request_info("POST", f"{AUTHZ}/selfsubjectaccessreviews")
    assert info == RequestInfo(True, info.path, "create", "authorization.k8s.io", "v1", "selfsubjectaccessreviews")
