"""RBAC escalation checks: a user grants (through roles and bindings) only what it holds, unless
it has escalate or bind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from master.apiserver.authz_rbac import Rule, covers
from tests.fixtures.apiserver import Api
from tests.unit.master.apiserver.auth.auth_helpers import Requester, binding, cert_identity

RBAC = "/apis/rbac.authorization.k8s.io/v1"
ALICE = cert_identity("alice")


def role(name: str, rules: list[dict[str, Any]], kind: str = "Role") -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": name}, "rules": rules}


def rule(verbs: list[str], resources: list[str], groups: list[str] | None = None,
         names: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"verbs": verbs, "apiGroups": groups or [""], "resources": resources}
    if names:
        out["resourceNames"] = names
    return out


@pytest.mark.parametrize(
    ("owned", "wanted", "ok"),
    [
        pytest.param([rule(["*"], ["*"], ["*"])], rule(["get"], ["pods"]), True, id="star-covers"),
        pytest.param([rule(["get"], ["pods"])], rule(["*"], ["pods"]), False, id="star-needs-star"),
        pytest.param([rule(["get", "list"], ["pods"])], rule(["list"], ["pods"]), True, id="subset"),
        pytest.param([rule(["get"], ["pods"], names=["a"])], rule(["get"], ["pods"]), False, id="names-narrow"),
        pytest.param([rule(["get"], ["pods"])], rule(["get"], ["pods"], names=["a"]), True, id="names-subset"),
        pytest.param([rule(["get"], ["pods/*"])], rule(["get"], ["pods/log"]), True, id="subresource-star"),
        pytest.param([rule(["get"], ["pods"])], rule(["get"], ["pods/log"]), False, id="subresource-separate"),
        pytest.param([rule(["get"], ["pods"], ["apps"])], rule(["get"], ["pods"]), False, id="group"),
    ],
)
def test_covers(owned: list[dict[str, Any]], wanted: dict[str, Any], ok: bool) -> None:
    have = [r for r in (Rule.of(o) for o in owned) if r is not None]
    want = Rule.of(wanted)
    assert want is not None and covers(have, want) is ok


async def test_no_escalation_through_roles_and_bindings(apiserver: Api) -> None:
    await apiserver.post("/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace",
                                                     "metadata": {"name": "team"}})
    await apiserver.post(f"{RBAC}/namespaces/team/rolebindings",
                         json=binding("RoleBinding", "alice-admin", "ClusterRole", "admin", [("User", "alice")], "team"))
    req = Requester(apiserver.base, Path(apiserver.data_dir))
    roles = f"{RBAC}/namespaces/team/roles"
    bindings = f"{RBAC}/namespaces/team/rolebindings"
    try:
        async def post(path: str, body: dict[str, Any]) -> tuple[int, Any]:
            return await req.request(ALICE, "POST", path, body=body)

        code, out = await post(roles, role("readers", [rule(["get", "list"], ["pods", "secrets"])]))
        assert code == 201, out
        code, out = await post(roles, role("nodes", [rule(["get"], ["nodes"])]))
        assert code == 403 and "not currently held" in out["message"]
        code, out = await post(roles, role("everything", [rule(["*"], ["*"], ["*"])]))
        assert code == 403
        code, out = await post(bindings, binding("RoleBinding", "bob-edit", "ClusterRole", "edit",
                                                 [("User", "bob")], "team"))
        assert code == 201, out
        code, out = await post(bindings, binding("RoleBinding", "bob-root", "ClusterRole", "cluster-admin",
                                                 [("User", "bob")], "team"))
        assert code == 403, out
        code, out = await req.request(ALICE, "POST", f"{RBAC}/namespaces/team/rolebindings?dryRun=All",
                                      body=binding("RoleBinding", "dry", "ClusterRole", "cluster-admin",
                                                   [("User", "bob")], "team"))
        assert code == 403, out
        # With bind on cluster-admin, the binding is allowed.
        await apiserver.post(f"{RBAC}/clusterroles", json=role("may-bind-root", [
            rule(["bind"], ["clusterroles"], ["rbac.authorization.k8s.io"], ["cluster-admin"])],
            kind="ClusterRole"))
        await apiserver.post(f"{RBAC}/clusterrolebindings", json=binding(
            "ClusterRoleBinding", "alice-may-bind-root", "ClusterRole", "may-bind-root", [("User", "alice")]))
        code, out = await post(bindings, binding("RoleBinding", "bob-root", "ClusterRole", "cluster-admin",
                                                 [("User", "bob")], "team"))
        assert code == 201, out
        # An aggregated ClusterRole needs escalate, even from someone who may create ClusterRoles.
        await apiserver.post(f"{RBAC}/clusterroles", json=role("cr-writer", [
            rule(["create"], ["clusterroles"], ["rbac.authorization.k8s.io"])], kind="ClusterRole"))
        await apiserver.post(f"{RBAC}/clusterrolebindings", json=binding(
            "ClusterRoleBinding", "alice-cr-writer", "ClusterRole", "cr-writer", [("User", "alice")]))
        agg = {**role("agg", [], kind="ClusterRole"),
               "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"x": "y"}}]}}
        code, out = await post(f"{RBAC}/clusterroles", agg)
        assert code == 403 and "escalate" in out["message"]
    finally:
        await req.close()
