"""CertificateSigningRequests through the apiserver: who asked is recorded, approval and signing
need their own permissions, conditions stay, system:masters is never asked for."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from master.util import pki
from tests.fixtures.apiserver import Api
from tests.unit.master.apiserver.auth.auth_helpers import Requester, binding, cert_identity

CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
RBAC = "/apis/rbac.authorization.k8s.io/v1"


def csr(name: str, cn: str = "system:node:pi-9", orgs: tuple[str, ...] = ("system:nodes",),
        signer: str = "kubernetes.io/kube-apiserver-client-kubelet", **spec: Any) -> dict[str, Any]:
    request = base64.b64encode(pki.make_csr(pki.new_key(), cn, organizations=list(orgs))).decode()
    return {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": {"name": name},
            "spec": {"request": request, "signerName": signer, "usages": ["digital signature", "client auth"],
                     **spec}}


def approved(obj: dict[str, Any], kind: str = "Approved") -> dict[str, Any]:
    return {**obj, "status": {"conditions": [{"type": kind, "status": "True", "reason": "Test"}]}}


async def test_requester_is_recorded(apiserver: Api) -> None:
    code, out = await apiserver.post(CSRS, json=csr("a", username="someone-else", groups=["system:masters"]))
    assert code == 201, out
    assert out["spec"]["username"] == "kubernetes-admin"
    assert out["spec"]["groups"] == ["system:masters", "system:authenticated"]
    # The spec never changes afterwards.
    out["spec"]["signerName"] = "example.com/other"
    code, upd = await apiserver.put(f"{CSRS}/a", json=out)
    assert code == 200 and upd["spec"]["signerName"] == "kubernetes.io/kube-apiserver-client-kubelet"


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        pytest.param(lambda o: o["spec"].update(request="bm90IGEgY3Ny"), 422, id="not-a-csr"),
        pytest.param(lambda o: o["spec"].update(signerName="nodomain"), 422, id="bad-signer"),
        pytest.param(lambda o: o["spec"].update(usages=["flying"]), 422, id="bad-usage"),
        pytest.param(lambda o: o["spec"].update(expirationSeconds=10), 422, id="too-short"),
        pytest.param(lambda o: o["spec"].pop("request"), 422, id="no-request"),
    ],
)
async def test_bad_requests_are_422(apiserver: Api, mutate: Any, code: int) -> None:
    obj = csr("bad")
    mutate(obj)
    got, out = await apiserver.post(CSRS, json=obj)
    assert got == code, out


async def test_system_masters_certificates_are_never_requested(apiserver: Api) -> None:
    obj = csr("evil", cn="mallory", orgs=("system:masters",), signer="kubernetes.io/kube-apiserver-client")
    code, out = await apiserver.post(CSRS, json=obj)
    assert code == 403 and "system:masters" in out["message"]


async def test_approval_and_signing_need_permission(apiserver: Api) -> None:
    await apiserver.post(CSRS, json=csr("n1"))
    req = Requester(apiserver.base, Path(apiserver.data_dir))
    clerk = cert_identity("clerk")
    try:
        await apiserver.post(f"{RBAC}/clusterroles", json={
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "csr-writer"},
            "rules": [{"apiGroups": ["certificates.k8s.io"], "verbs": ["get", "update"],
                       "resources": ["certificatesigningrequests", "certificatesigningrequests/approval",
                                     "certificatesigningrequests/status"]}]})
        await apiserver.post(f"{RBAC}/clusterrolebindings",
                             json=binding("ClusterRoleBinding", "clerk", "ClusterRole", "csr-writer",
                                          [("User", "clerk")]))
        _, current = await apiserver.get(f"{CSRS}/n1")
        code, out = await req.request(clerk, "PUT", f"{CSRS}/n1/approval", body=approved(current))
        assert code == 403 and "approve" in out["message"]
        # With approve on the signer, the same request goes through.
        await apiserver.post(f"{RBAC}/clusterroles", json={
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "approver"},
            "rules": [{"apiGroups": ["certificates.k8s.io"], "verbs": ["approve"], "resources": ["signers"],
                       "resourceNames": ["kubernetes.io/*"]}]})
        await apiserver.post(f"{RBAC}/clusterrolebindings",
                             json=binding("ClusterRoleBinding", "clerk-approves", "ClusterRole", "approver",
                                          [("User", "clerk")]))
        code, out = await req.request(clerk, "PUT", f"{CSRS}/n1/approval", body=approved(current))
        assert code == 200, out
        assert out["status"]["conditions"][0]["type"] == "Approved"
        assert out["status"]["conditions"][0]["lastTransitionTime"]
        # The approval subresource cannot smuggle in a certificate.
        ca = pki.read_cert_key(Path(apiserver.data_dir) / "pki" / "ca.crt", Path(apiserver.data_dir) / "pki" / "ca.key")
        cert = pki.client_cert(ca, "system:node:pi-9", groups=["system:nodes"]).cert_pem
        sneaky = {**out, "status": {**out["status"], "certificate": base64.b64encode(cert).decode()}}
        code, out = await req.request(clerk, "PUT", f"{CSRS}/n1/approval", body=sneaky)
        assert code == 200 and not out["status"].get("certificate")
        # Signing needs sign on the signer.
        sneaky = {**out, "status": {**out["status"], "certificate": base64.b64encode(cert).decode()}}
        code, out = await req.request(clerk, "PUT", f"{CSRS}/n1/status", body=sneaky)
        assert code == 403 and "sign" in out["message"]
        code, out = await apiserver.put(f"{CSRS}/n1/status", json=sneaky)
        assert code == 200 and out["status"]["certificate"]
        # Conditions stay once added; the certificate never changes.
        code, out = await apiserver.put(f"{CSRS}/n1/approval", json={**out, "status": {"conditions": []}})
        assert code == 422, out
        _, current = await apiserver.get(f"{CSRS}/n1")
        other = pki.client_cert(ca, "x").cert_pem
        code, out = await apiserver.put(f"{CSRS}/n1/status", json={
            **current, "status": {**current["status"], "certificate": base64.b64encode(other).decode()}})
        assert code == 422, out
    finally:
        await req.close()


async def test_approved_and_denied_exclude_each_other(apiserver: Api) -> None:
    await apiserver.post(CSRS, json=csr("n2"))
    _, current = await apiserver.get(f"{CSRS}/n2")
    both = {**current, "status": {"conditions": [{"type": "Approved", "status": "True"},
                                                 {"type": "Denied", "status": "True"}]}}
    code, out = await apiserver.put(f"{CSRS}/n2/approval", json=both)
    assert code == 422, out


async def test_kubectl_style_protobuf_approval_body_decodes(apiserver: Api) -> None:
    from master.apiserver import protobuf

    # A CertificateSigningRequest in protobuf (what kubectl certificate approve sends).
    def field(n: int, payload: bytes) -> bytes:
        return bytes([n << 3 | 2, len(payload)]) + payload

    meta = field(1, b"n3")
    cond = field(1, b"Approved") + field(6, b"True") + field(2, b"KubectlApprove")
    raw = field(1, meta) + field(3, field(1, cond))
    type_meta = field(1, b"certificates.k8s.io/v1") + field(2, b"CertificateSigningRequest")
    body = protobuf.MAGIC + field(1, type_meta) + field(2, raw)
    obj = protobuf.decode(body)
    assert obj["status"]["conditions"] == [{"type": "Approved", "status": "True", "reason": "KubectlApprove"}]
