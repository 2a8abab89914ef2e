"""Who may do what: one table of identity x verb x resource -> the HTTP code.

One cluster (in-process apiserver, Node,RBAC, the default policy) for the whole module, set up
once: namespaces team and other; alice (token file, group ops) edits team; bob views everything;
nodes pi-1 and pi-2 with a pod each, each pod using its own secret and configmap; the service
account team/robot may read team's pods; a bootstrap token; the scheduler's and the
controller-manager's identities.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from master.util import jointoken
from tests.fixtures.apiserver import Api, running_apiserver
from tests.unit.master.apiserver.auth.auth_helpers import (
    ANONYMOUS,
    Identity,
    Requester,
    binding,
    cert_identity,
    node,
    pod,
    token_identity,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

BOOTSTRAP = jointoken.BootstrapToken("abcdef", "0123456789abcdef")
ADMIN = cert_identity("kubernetes-admin", "system:masters", name="admin")
ALICE = token_identity("alice", "alice-token")
BOB = token_identity("bob", "bob-token")
BAD_TOKEN = token_identity("bad-token", "no-such-token")
PI1 = cert_identity("system:node:pi-1", "system:nodes", name="pi-1")
PI2_NO_GROUP = cert_identity("system:node:pi-2", name="pi-2-without-group")
BOOTSTRAPPER = token_identity("bootstrapper", str(BOOTSTRAP))
SCHEDULER = cert_identity("system:kube-scheduler", name="scheduler")
CONTROLLERS = cert_identity("system:kube-controller-manager", name="controller-manager")
ROBOT = Identity("robot")  # token filled in by the fixture


@dataclass
class Cluster:
    api: Api
    req: Requester
    tokens: dict[str, str]

    async def as_(self, ident: Identity, method: str, path: str, body: Any = None,
                  headers: dict[str, str] | None = None) -> tuple[int, Any]:
        if ident.name in self.tokens:
            ident = token_identity(ident.name, self.tokens[ident.name])
        return await self.req.request(ident, method, path, body=body, headers=headers)


async def _ok(api: Api, method: str, path: str, body: Any) -> dict[str, Any]:
    code, out = await api.request(method, path, json=body)
    assert code in (200, 201), (path, out)
    return out


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    tmp = tmp_path_factory.mktemp("authz")
    tokens = tmp / "tokens.csv"
    tokens.write_text('alice-token,alice,1001,"ops"\nbob-token,bob,1002\n')
    async with running_apiserver(tmp / "data", token_auth_file=tokens) as api:
        for ns in ("team", "other"):
            await _ok(api, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                           "metadata": {"name": ns}})
        for n, ip in (("pi-1", "10.77.0.11"), ("pi-2", "10.77.0.12")):
            await _ok(api, "POST", "/api/v1/nodes", node(n, ip))
        for ns in ("team", "other"):
            for i in (1, 2):
                await _ok(api, "POST", f"/api/v1/namespaces/{ns}/secrets",
                          {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"s{i}"}, "data": {"k": "dg=="}})
                await _ok(api, "POST", f"/api/v1/namespaces/{ns}/configmaps",
                          {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}, "data": {"k": "v"}})
        await _ok(api, "POST", "/api/v1/namespaces/team/pods", pod("p1", "pi-1", secret="s1", configmap="c1"))
        await _ok(api, "POST", "/api/v1/namespaces/team/pods", pod("p2", "pi-2", secret="s2", configmap="c2"))
        rbac = "/apis/rbac.authorization.k8s.io/v1"
        await _ok(api, "POST", f"{rbac}/namespaces/team/rolebindings",
                  binding("RoleBinding", "alice-edit", "ClusterRole", "edit", [("User", "alice")], "team"))
        await _ok(api, "POST", f"{rbac}/clusterrolebindings",
                  binding("ClusterRoleBinding", "bob-view", "ClusterRole", "view", [("User", "bob")]))
        await _ok(api, "POST", "/api/v1/namespaces/team/serviceaccounts",
                  {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}})
        await _ok(api, "POST", f"{rbac}/namespaces/team/roles", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "pod-reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]})
        await _ok(api, "POST", f"{rbac}/namespaces/team/rolebindings",
                  binding("RoleBinding", "robot-reads", "Role", "pod-reader", [("ServiceAccount", "team/robot")],
                          "team"))
        tr = await _ok(api, "POST", "/api/v1/namespaces/team/serviceaccounts/robot/token",
                       {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}})
        expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
        await _ok(api, "POST", "/api/v1/namespaces/kube-system/secrets", {
            "apiVersion": "v1", "kind": "Secret", "type": jointoken.SECRET_TYPE,
            "metadata": {"name": BOOTSTRAP.secret_name},
            "data": jointoken.secret_data(BOOTSTRAP, expires=expires)})
        req = Requester(api.base, Path(api.data_dir))
        try:
            yield Cluster(api, req, {"robot": tr["status"]["token"]})
        finally:
            await req.close()


CORE = "/api/v1"
TEAM = f"{CORE}/namespaces/team"
CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "new-cm"}, "data": {"a": "b"}}
RB = binding("RoleBinding", "sneaky", "ClusterRole", "cluster-admin", [("User", "alice")])
STATUS = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
MERGE = {"Content-Type": "application/merge-patch+json"}
LEASE = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "pi-1"},
         "spec": {"holderIdentity": "pi-1", "leaseDurationSeconds": 40}}
LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
MIRROR = {"apiVersion": "v1", "kind": "Pod",
          "metadata": {"name": "static-pi-1", "annotations": {"kubernetes.io/config.mirror": "x",
                                                                "kubernetes.io/config.source": "file"}},
          "spec": {"nodeName": "pi-1", "containers": [{"name": "c", "image": "busybox"}]}}
CSR = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
       "metadata": {"generateName": "csr-"}, "spec": {"request": "", "signerName": "example.com/x",
                                                       "usages": ["client auth"]}}


def _csr_body() -> dict[str, Any]:
    import base64

    from master.util import pki

    req = pki.make_csr(pki.new_key(), "system:node:new", organizations=["system:nodes"])
    return {**CSR, "spec": {**CSR["spec"], "request": base64.b64encode(req).decode()}}


Case = tuple[Identity, str, str, Any, int]
CASES: list[Any] = [
    # anonymous: the health checks, /version and cluster-info only
    pytest.param(ANONYMOUS, "GET", "/healthz", None, 200, id="anonymous-healthz"),
    pytest.param(ANONYMOUS, "GET", "/version", None, 200, id="anonymous-version"),
    pytest.param(ANONYMOUS, "GET", f"{CORE}/namespaces/kube-public/configmaps/cluster-info", None, 200,
                 id="anonymous-cluster-info"),
    pytest.param(ANONYMOUS, "GET", f"{CORE}/namespaces/kube-public/configmaps", None, 401,
                 id="anonymous-list-kube-public"),
    pytest.param(ANONYMOUS, "GET", f"{TEAM}/pods", None, 401, id="anonymous-pods"),
    pytest.param(ANONYMOUS, "GET", "/api", None, 401, id="anonymous-discovery"),
    pytest.param(ANONYMOUS, "POST", f"{TEAM}/configmaps", CM, 401, id="anonymous-create"),
    # a bearer token nobody knows is 401 even where anonymous would be let in
    pytest.param(BAD_TOKEN, "GET", f"{TEAM}/pods", None, 401, id="bad-token-pods"),
    pytest.param(BAD_TOKEN, "GET", f"{CORE}/namespaces/kube-public/configmaps/cluster-info", None, 401,
                 id="bad-token-cluster-info"),
    # the admin (system:masters) may do anything
    pytest.param(ADMIN, "GET", f"{CORE}/secrets", None, 200, id="admin-secrets"),
    pytest.param(ADMIN, "DELETE", f"{CORE}/namespaces/other/configmaps/c2", None, 200, id="admin-delete"),
    # alice edits team, nothing else
    pytest.param(ALICE, "GET", f"{TEAM}/pods", None, 200, id="alice-team-pods"),
    pytest.param(ALICE, "POST", f"{TEAM}/configmaps", CM, 201, id="alice-team-create"),
    pytest.param(ALICE, "GET", f"{TEAM}/secrets/s1", None, 200, id="alice-team-secret"),
    pytest.param(ALICE, "GET", f"{CORE}/namespaces/other/pods", None, 403, id="alice-other-pods"),
    pytest.param(ALICE, "GET", f"{CORE}/pods", None, 403, id="alice-all-pods"),
    pytest.param(ALICE, "GET", f"{CORE}/nodes", None, 403, id="alice-nodes"),
    pytest.param(ALICE, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings", RB, 403,
                 id="alice-escalate-binding"),
    pytest.param(ALICE, "DELETE", f"{CORE}/namespaces/team", None, 403, id="alice-delete-namespace"),
    # bob views everything but secrets, and writes nothing
    pytest.param(BOB, "GET", f"{CORE}/pods", None, 200, id="bob-all-pods"),
    pytest.param(BOB, "GET", f"{TEAM}/configmaps/c1", None, 200, id="bob-configmap"),
    pytest.param(BOB, "GET", f"{TEAM}/secrets", None, 403, id="bob-secrets"),
    pytest.param(BOB, "POST", f"{TEAM}/configmaps", CM, 403, id="bob-create"),
    pytest.param(BOB, "GET", f"{CORE}/nodes", None, 403, id="bob-nodes"),
    # the node pi-1: its own things, and only what its pods need
    pytest.param(PI1, "GET", f"{CORE}/nodes/pi-2", None, 200, id="node-reads-other-node"),
    pytest.param(PI1, "PATCH", f"{CORE}/nodes/pi-1/status", STATUS, 200, id="node-own-status"),
    pytest.param(PI1, "PATCH", f"{CORE}/nodes/pi-2/status", STATUS, 403, id="node-other-status"),
    pytest.param(PI1, "PATCH", f"{CORE}/nodes/pi-2", {"metadata": {"labels": {"x": "y"}}}, 403,
                 id="node-edits-other-node"),
    pytest.param(PI1, "DELETE", f"{CORE}/nodes/pi-2", None, 403, id="node-deletes-other-node"),
    pytest.param(PI1, "GET", f"{TEAM}/secrets/s1", None, 200, id="node-own-pod-secret"),
    pytest.param(PI1, "GET", f"{TEAM}/secrets/s2", None, 403, id="node-other-pod-secret"),
    pytest.param(PI1, "GET", f"{CORE}/namespaces/other/secrets/s1", None, 403, id="node-secret-other-namespace"),
    pytest.param(PI1, "GET", f"{TEAM}/configmaps/c1", None, 200, id="node-own-pod-configmap"),
    pytest.param(PI1, "GET", f"{TEAM}/configmaps/c2", None, 403, id="node-other-pod-configmap"),
    pytest.param(PI1, "GET", f"{TEAM}/secrets", None, 403, id="node-lists-secrets"),
    pytest.param(PI1, "GET", f"{CORE}/pods", None, 200, id="node-lists-pods"),
    pytest.param(PI1, "PATCH", f"{TEAM}/pods/p1/status", STATUS, 200, id="node-own-pod-status"),
    pytest.param(PI1, "PATCH", f"{TEAM}/pods/p2/status", STATUS, 403, id="node-other-pod-status"),
    pytest.param(PI1, "PATCH", f"{TEAM}/pods/p1", {"metadata": {"labels": {"x": "y"}}}, 403, id="node-edits-pod"),
    pytest.param(PI1, "POST", f"{TEAM}/pods", {**MIRROR, "metadata": {"name": "plain"}}, 403,
                 id="node-creates-plain-pod"),
    pytest.param(PI1, "POST", f"{TEAM}/pods", MIRROR, 201, id="node-creates-own-mirror-pod"),
    pytest.param(PI1, "POST", f"{TEAM}/pods", {**MIRROR, "metadata": {**MIRROR["metadata"], "name": "m2"},
                                              "spec": {**MIRROR["spec"], "nodeName": "pi-2"}}, 403,
                 id="node-creates-mirror-pod-for-other"),
    pytest.param(PI1, "DELETE", f"{TEAM}/pods/p2", None, 403, id="node-deletes-other-pod"),
    pytest.param(PI1, "POST", f"{TEAM}/pods/p2/eviction", {"apiVersion": "policy/v1", "kind": "Eviction",
                                                          "metadata": {"name": "p2"}}, 403,
                 id="node-evicts-other-pod"),
    pytest.param(PI1, "POST", LEASES, LEASE, 201, id="node-own-lease"),
    pytest.param(PI1, "POST", LEASES, {**LEASE, "metadata": {"name": "pi-2"}}, 403, id="node-other-lease"),
    pytest.param(PI1, "POST", f"{TEAM}/configmaps", CM, 403, id="node-creates-configmap"),
    pytest.param(PI1, "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles", None, 403, id="node-reads-rbac"),
    pytest.param(Identity("pi-1-as-pi-2", user="system:node:pi-1", groups=("system:nodes",),
                          headers={"Impersonate-User": "system:node:pi-2", "Impersonate-Group": "system:nodes"}),
                 "GET", f"{TEAM}/secrets/s2", None, 403, id="node-impersonates-node"),
    # a node name without the system:nodes group is nobody special
    pytest.param(PI2_NO_GROUP, "GET", f"{TEAM}/secrets/s2", None, 403, id="node-without-group"),
    # a service account's token: what its RoleBinding grants
    pytest.param(ROBOT, "GET", f"{TEAM}/pods", None, 200, id="robot-team-pods"),
    pytest.param(ROBOT, "DELETE", f"{TEAM}/pods/p1", None, 403, id="robot-deletes"),
    pytest.param(ROBOT, "GET", f"{CORE}/namespaces/other/pods", None, 403, id="robot-other-pods"),
    # a bootstrap token: certificate requests only
    pytest.param(BOOTSTRAPPER, "POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests", "csr", 201,
                 id="bootstrapper-csr"),
    pytest.param(BOOTSTRAPPER, "GET", f"{CORE}/nodes", None, 403, id="bootstrapper-nodes"),
    pytest.param(BOOTSTRAPPER, "GET", f"{CORE}/namespaces/kube-system/secrets", None, 403,
                 id="bootstrapper-secrets"),
    # the components' own identities
    pytest.param(SCHEDULER, "GET", f"{CORE}/pods", None, 200, id="scheduler-pods"),
    pytest.param(SCHEDULER, "GET", f"{TEAM}/secrets", None, 403, id="scheduler-secrets"),
    pytest.param(SCHEDULER, "POST", f"{TEAM}/configmaps", CM, 403, id="scheduler-creates-configmap"),
    pytest.param(CONTROLLERS, "GET", f"{CORE}/secrets", None, 200, id="controller-manager-reads"),
    pytest.param(CONTROLLERS, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                 {**RB, "kind": "ClusterRoleBinding"}, 403, id="controller-manager-binds"),
    pytest.param(CONTROLLERS, "GET", f"{TEAM}/pods",
                 None, 200, id="controller-manager-pods"),
    pytest.param(Identity("cm-impersonates", user="system:kube-controller-manager",
                          headers={"Impersonate-User": "kubernetes-admin", "Impersonate-Group": "system:masters"}),
                 "GET", f"{CORE}/secrets", None, 403, id="controller-manager-impersonates-admin"),
]


@pytest.mark.parametrize(("who", "method", "path", "body", "code"), CASES)
async def test_matrix(cluster: Cluster, who: Identity, method: str, path: str, body: Any, code: int) -> None:
    headers = MERGE if method == "PATCH" else None
    if body == "csr":
        body = _csr_body()
    got, out = await cluster.as_(who, method, path, body, headers)
    assert got == code, out
    if code in (401, 403):
        assert out["kind"] == "Status" and out["reason"] == ("Unauthorized" if code == 401 else "Forbidden")
