"""csrsigning: issue the certificates of approved CertificateSigningRequests with the cluster CA.

Signers it issues for (``--cluster-signing-cert-file``/``--cluster-signing-key-file``; in
``pictl master`` the apiserver's own CA)::

    kubernetes.io/kube-apiserver-client-kubelet   agents' client certificates (requests.check_node_client)
    kubernetes.io/kubelet-serving                 agents' serving certificates (check_node_serving)
    kubernetes.io/kube-apiserver-client           other clients (any subject but system:masters,
                                                  which admission already refuses; client auth only)

``sync(name)`` signs an Approved, not Denied or Failed request without a certificate: lifetime
``spec.expirationSeconds`` capped at ``--cluster-signing-duration``, subject and SANs as asked.
A request its signer cannot issue gets a Failed condition instead. The certificate (PEM) goes
into ``status.certificate`` through the ``status`` subresource. Without a CA configured the
controller does nothing.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import msgspec
from cryptography.hazmat.primitives import serialization

from master.api import certificates
from master.api.certificates import CertificateSigningRequest
from master.client import errors
from master.controllers.certificates import requests
from master.controllers.context import ControllerContext
from master.util import pki

__all__ = ["CSRSigningController", "new"]

log = logging.getLogger(__name__)

NAME = "csrsigning"
SIGNERS = (certificates.KUBE_APISERVER_CLIENT_KUBELET, certificates.KUBELET_SERVING,
           certificates.KUBE_APISERVER_CLIENT)


def new(ctx: ControllerContext) -> CSRSigningController:
    return CSRSigningController(ctx)


def _condition(csr: CertificateSigningRequest, kind: str) -> bool:
    return any(c.type == kind and c.status == "True" for c in csr.status.conditions)


class CSRSigningController:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        self.api = ctx.api
        s = ctx.settings
        self.cert_file, self.key_file = s.cluster_signing_cert_file, s.cluster_signing_key_file
        self.max_seconds = s.cluster_signing_duration
        self._ca: pki.CertKey | None = None
        self.csrs = ctx.informers.informer(CertificateSigningRequest)
        self.loop = ctx.loop(NAME, self.sync)
        self.loop.watch(self.csrs)

    async def run(self) -> None:
        if not self.cert_file or not self.key_file:
            log.info("csrsigning: no --cluster-signing-cert-file/--cluster-signing-key-file: not signing")
        await self.loop.run()

    def _ca_pair(self) -> pki.CertKey | None:
        if self._ca is None and self.cert_file and self.key_file:
            try:
                self._ca = pki.read_cert_key(Path(self.cert_file), Path(self.key_file))
            except pki.PKIError as exc:
                log.error("csrsigning: %s", exc)
        return self._ca

    async def sync(self, name: str) -> None:
        csr = self.csrs.cache.get(name)
        if csr is None or csr.status.certificate or csr.spec.signer_name not in SIGNERS:
            return
        if not _condition(csr, "Approved") or _condition(csr, "Denied") or _condition(csr, "Failed"):
            return
        ca = self._ca_pair()
        if ca is None:
            return
        try:
            req = requests.parse(csr)
        except ValueError as exc:
            await self._fail(csr, "SignerValidationFailure", str(exc))
            return
        signer = csr.spec.signer_name
        why: str | None
        if signer == certificates.KUBE_APISERVER_CLIENT_KUBELET:
            why = requests.check_node_client(req)
        elif signer == certificates.KUBELET_SERVING:
            why = requests.check_node_serving(req)
        else:
            why = None if "client auth" in req.usages and "server auth" not in req.usages else \
                "usages must include client auth and not server auth"
        if why is not None:
            await self._fail(csr, "SignerValidationFailure", why)
            return
        seconds = self.max_seconds
        if csr.spec.expiration_seconds:
            seconds = min(seconds, float(csr.spec.expiration_seconds))
        pem_request = req.csr.public_bytes(serialization.Encoding.PEM)
        try:
            cert = pki.sign_csr(ca, pem_request, server=signer == certificates.KUBELET_SERVING,
                                client=signer != certificates.KUBELET_SERVING, sans=[*req.dns_names, *req.ips],
                                days=seconds / 86400)
        except pki.PKIError as exc:
            await self._fail(csr, "SignerValidationFailure", str(exc))
            return
        pem = cert.public_bytes(serialization.Encoding.PEM)
        await self._write_status(csr, certificate=base64.b64encode(pem).decode())
        log.info("csrsigning: issued %s for %s (CSR %s, %.0f s)", signer, req.common_name, name, seconds)

    async def _fail(self, csr: CertificateSigningRequest, reason: str, message: str) -> None:
        log.info("csrsigning: CSR %s failed: %s", csr.metadata.name, message)
        await self._write_status(csr, failed=(reason, message))

    async def _write_status(self, csr: CertificateSigningRequest, *, certificate: str = "",
                            failed: tuple[str, str] | None = None) -> None:
        body = msgspec.to_builtins(csr)
        status = body.setdefault("status", {})
        if certificate:
            status["certificate"] = certificate
        if failed is not None:
            status.setdefault("conditions", []).append(
                {"type": "Failed", "status": "True", "reason": failed[0], "message": failed[1]})
        try:
            await self.api.request("PUT", f"/apis/{certificates.GROUP}/v1/certificatesigningrequests/"
                                          f"{csr.metadata.name}/status", body=msgspec.json.encode(body))
        except (errors.NotFound, errors.Conflict):
            return
