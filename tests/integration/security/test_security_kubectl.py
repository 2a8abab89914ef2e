"""kubectl (the real one) and pictl against a ``pictl master`` with authorization and an audit log:
auth can-i (self, --as, --list), create token, whoami, certificate approve, a node's limits, and
the audit lines every one of them leaves."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from master.util import pki
from tests.fixtures.apiserver import PICTL, MasterProcess, start_master

pytestmark = pytest.mark.slow

POLICY = {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitStages": ["RequestReceived"],
          "rules": [{"level": "None", "nonResourceURLs": ["/api*", "/openapi*", "/version", "/healthz*"]},
                    {"level": "Metadata", "resources": [{"group": "", "resources": ["secrets"]}]},
                    {"level": "Request"}]}


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MasterProcess]:
    d = tmp_path_factory.mktemp("kubectl-auth")
    policy = d / "policy.yaml"
    policy.write_text(yaml.safe_dump(POLICY))
    m = start_master(d / "m", "--audit-log-path", str(d / "audit" / "audit.log"), "--audit-policy-file", str(policy),
                     "--audit-log-maxbackup", "3")
    try:
        yield m
    finally:
        m.stop()


def kubectl(m: MasterProcess, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    return m.kubectl(*args, check=check)


def pictl(m: MasterProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PICTL), "--kubeconfig", str(m.kubeconfig), *args], capture_output=True, text=True,
                          timeout=60)


def audit_events(m: MasterProcess) -> list[dict[str, object]]:
    log = m.data_dir.parent / "audit" / "audit.log"
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.mark.parametrize(
    ("args", "answer"),
    [
        pytest.param(("create", "pods"), "yes", id="admin"),
        pytest.param(("create", "pods", "--as", "jane"), "no", id="jane"),
        pytest.param(("get", "/healthz", "--as", "jane"), "yes", id="jane-healthz"),
        pytest.param(("create", "certificatesigningrequests", "--as", "system:bootstrap:abcdef",
                      "--as-group", "system:bootstrappers"), "yes", id="bootstrapper-csr"),
        pytest.param(("update", "nodes/status", "--as", "system:node:pi-1", "--as-group", "system:nodes"), "yes",
                     id="node-status"),
        pytest.param(("get", "secrets", "--as", "system:node:pi-1", "--as-group", "system:nodes"), "no",
                     id="node-secrets"),
        pytest.param(("list", "secrets", "-A", "--as", "system:kube-scheduler"), "no", id="scheduler-secrets"),
        pytest.param(("create", "bindings", "--as", "system:kube-scheduler"), "yes", id="scheduler-binds"),
    ],
)
def test_can_i_agrees_with_kubectl(master: MasterProcess, args: tuple[str, ...], answer: str) -> None:
    k = kubectl(master, "auth", "can-i", *args)
    assert k.stdout.strip().split(" ")[0] == answer, k.stderr
    p = pictl(master, "auth", "can-i", *args)
    assert p.stdout.strip().split(" ")[0] == answer, p.stderr
    assert p.returncode == (0 if answer == "yes" else 1)


def test_role_binding_then_can_i(master: MasterProcess) -> None:
    kubectl(master, "create", "namespace", "jane-ns", check=True)
    assert kubectl(master, "auth", "can-i", "create", "deployments", "-n", "jane-ns", "--as", "jane").stdout.strip() == "no"
    kubectl(master, "create", "rolebinding", "jane-edit", "--clusterrole=edit", "--user=jane", "-n", "jane-ns",
            check=True)
    assert kubectl(master, "auth", "can-i", "create", "deployments", "-n", "jane-ns", "--as", "jane").stdout.strip() == "yes"
    assert kubectl(master, "auth", "can-i", "create", "deployments", "-n", "default", "--as", "jane").stdout.strip() == "no"
    listed = kubectl(master, "auth", "can-i", "--list", "-n", "jane-ns", "--as", "jane", check=True).stdout
    assert "deployments.apps" in listed and "selfsubjectaccessreviews" in listed
    forbidden = kubectl(master, "get", "pods", "-n", "default", "--as", "jane")
    assert forbidden.returncode != 0 and "Forbidden" in forbidden.stderr


def test_create_token_and_whoami(master: MasterProcess, tmp_path: Path) -> None:
    kubectl(master, "create", "serviceaccount", "bot", check=True)
    token = kubectl(master, "create", "token", "bot", "--duration=15m", check=True).stdout.strip()
    ca = master.data_dir / "pki" / "ca.crt"
    who = subprocess.run(["kubectl", "--server", master.url, "--certificate-authority", str(ca), "--token", token,
                          "--cache-dir", str(tmp_path / "c"), "auth", "whoami", "-o", "json"],
                         capture_output=True, text=True, timeout=60)
    assert who.returncode == 0, who.stderr
    info = json.loads(who.stdout)["status"]["userInfo"]
    assert info["username"] == "system:serviceaccount:default:bot"
    me = kubectl(master, "auth", "whoami", check=True).stdout
    assert "kubernetes-admin" in me and "system:masters" in me


def test_certificate_approve_and_deny(master: MasterProcess, tmp_path: Path) -> None:
    for name in ("ops-cert", "nope-cert"):
        request = base64.b64encode(pki.make_csr(pki.new_key(), name, organizations=["ops"])).decode()
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump({
            "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": {"name": name},
            "spec": {"request": request, "signerName": "kubernetes.io/kube-apiserver-client",
                     "usages": ["client auth"]}}))
        kubectl(master, "apply", "-f", str(tmp_path / f"{name}.yaml"), check=True)
    kubectl(master, "certificate", "approve", "ops-cert", check=True)
    kubectl(master, "certificate", "deny", "nope-cert", check=True)
    table = kubectl(master, "get", "csr", check=True).stdout
    assert "ops-cert" in table and "nope-cert" in table
    ops = json.loads(kubectl(master, "get", "csr", "ops-cert", "-o", "json", check=True).stdout)
    assert [c["type"] for c in ops["status"]["conditions"]] == ["Approved"]
    nope = json.loads(kubectl(master, "get", "csr", "nope-cert", "-o", "json", check=True).stdout)
    assert [c["type"] for c in nope["status"]["conditions"]] == ["Denied"]


def test_a_node_cannot_edit_another_node(master: MasterProcess) -> None:
    for n in ("pi-1", "pi-2"):
        subprocess.run(["kubectl", "--kubeconfig", str(master.kubeconfig), "--cache-dir",
                        str(master.data_dir / "kubectl-cache"), "apply", "-f", "-"],
                       input=json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {"name": n}}),
                       capture_output=True, text=True, timeout=60, check=True)
    node = ("--as", "system:node:pi-1", "--as-group", "system:nodes")
    ok = kubectl(master, "label", "node", "pi-1", "a=b", *node)
    assert ok.returncode == 0, ok.stderr
    bad = kubectl(master, "label", "node", "pi-2", "a=b", *node)
    assert bad.returncode != 0 and "Forbidden" in bad.stderr
    restricted = kubectl(master, "label", "node", "pi-1", "node-restriction.kubernetes.io/x=y", *node)
    assert restricted.returncode != 0 and "Forbidden" in restricted.stderr


def test_audit_lines(master: MasterProcess) -> None:
    kubectl(master, "create", "secret", "generic", "audited", "--from-literal=pw=never-in-the-log", check=True)
    kubectl(master, "get", "secret", "audited", "-o", "yaml", check=True)
    kubectl(master, "create", "configmap", "audited", "--from-literal=k=v", check=True)
    kubectl(master, "delete", "configmap", "audited", check=True)
    kubectl(master, "get", "pods", "--as", "jane")
    events = audit_events(master)
    text = (master.data_dir.parent / "audit" / "audit.log").read_text()
    assert "never-in-the-log" not in text and base64.b64encode(b"never-in-the-log").decode() not in text
    assert all(e["stage"] == "ResponseComplete" for e in events)
    assert not any(str(e.get("requestURI", "")).startswith("/api?") or e.get("requestURI") == "/version"
                   for e in events)

    def find(verb: str, resource: str, code: int) -> dict[str, object]:
        for e in events:
            ref = e.get("objectRef") or {}
            status = e.get("responseStatus") or {}
            if e["verb"] == verb and ref.get("resource") == resource and status.get("code") == code:
                return e
        raise AssertionError(f"no audit event for {verb} {resource} {code}")

    secret = find("create", "secrets", 201)
    assert secret["level"] == "Metadata" and "requestObject" not in secret
    cm = find("create", "configmaps", 201)
    assert cm["level"] == "Request" and cm["requestObject"]["data"] == {"k": "v"}  # type: ignore[index]
    assert find("delete", "configmaps", 200)["user"]["username"] == "kubernetes-admin"  # type: ignore[index]
    denied = find("list", "pods", 403)
    assert denied["impersonatedUser"]["username"] == "jane"  # type: ignore[index]
    assert denied["user"]["username"] == "kubernetes-admin"  # type: ignore[index]
    assert "kubectl" in str(denied["userAgent"])
