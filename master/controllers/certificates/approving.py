"""csrapproving: approve (or deny) the CertificateSigningRequests of agents.

``sync(name)`` looks at one pending CSR and decides::

    kube-apiserver-client-kubelet, asked by the node itself (renewal)
        approve when the requester may create certificatesigningrequests/selfnodeclient
    kube-apiserver-client-kubelet, asked by anyone else (a bootstrap token: a joining agent)
        deny when the Node already exists, or another request for that node name was approved
        (a second machine presenting the same join token cannot take over a node's identity);
        else approve when the requester may create certificatesigningrequests/nodeclient
    kubelet-serving, asked by the node itself (system:node:<name> in system:nodes)
        deny when an IP SAN is another Node's address, or (once the Node exists) not one of its
        own addresses; else approve
    anything else, or a malformed request: left alone (an admin decides: kubectl certificate
        approve|deny)

"May create" is asked through a SubjectAccessReview, so RBAC bindings (system:bootstrappers,
system:nodes by default) decide who joins. An approval is an Approved condition written
through the ``approval`` subresource; csrsigning then issues the certificate.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from master.api import certificates, core
from master.api.certificates import CertificateSigningRequest
from master.client import errors
from master.controllers.certificates import requests
from master.controllers.context import ControllerContext

__all__ = ["CSRApprovingController", "new"]

log = logging.getLogger(__name__)

NAME = "csrapproving"


def new(ctx: ControllerContext) -> CSRApprovingController:
    return CSRApprovingController(ctx)


def _decided(csr: CertificateSigningRequest) -> bool:
    return any(c.type in ("Approved", "Denied") and c.status == "True" for c in csr.status.conditions)


def _approved(csr: CertificateSigningRequest) -> bool:
    return any(c.type == "Approved" and c.status == "True" for c in csr.status.conditions)


def _addresses(node: core.Node) -> set[str]:
    return {a.address for a in node.status.addresses}


class CSRApprovingController:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        self.api = ctx.api
        self.csrs = ctx.informers.informer(CertificateSigningRequest)
        self.nodes = ctx.nodes()
        self.loop = ctx.loop(NAME, self.sync)
        self.loop.watch(self.csrs)

    async def run(self) -> None:
        await self.loop.run()

    async def sync(self, name: str) -> None:
        csr = self.csrs.cache.get(name)
        if csr is None or _decided(csr) or csr.status.certificate:
            return
        signer = csr.spec.signer_name
        if signer not in (certificates.KUBE_APISERVER_CLIENT_KUBELET, certificates.KUBELET_SERVING):
            return
        try:
            req = requests.parse(csr)
        except ValueError:
            return
        if signer == certificates.KUBE_APISERVER_CLIENT_KUBELET:
            await self._client(csr, req)
        else:
            await self._serving(csr, req)

    async def _client(self, csr: CertificateSigningRequest, req: requests.Request) -> None:
        if requests.check_node_client(req) is not None:
            return
        if csr.spec.username == req.common_name:
            if await self._may_create(csr, "selfnodeclient"):
                await self._decide(csr, "Approved", "AutoApproved", "Auto approving self kubelet client certificate "
                                                                    "after SubjectAccessReview.")
            return
        if self.nodes.cache.get(req.node) is not None:
            await self._decide(csr, "Denied", "NodeExists",
                               f"node {req.node!r} is already registered; only it may renew its certificate "
                               "(delete the Node to let a new machine join under its name)")
            return
        for other in self.csrs.cache.list():
            if other.metadata.name == csr.metadata.name or not _approved(other):
                continue
            if other.spec.signer_name != certificates.KUBE_APISERVER_CLIENT_KUBELET:
                continue
            try:
                if requests.parse(other).common_name == req.common_name:
                    await self._decide(csr, "Denied", "NodeNameTaken",
                                       f"a certificate for node {req.node!r} was already approved "
                                       f"(CSR {other.metadata.name})")
                    return
            except ValueError:
                continue
        if await self._may_create(csr, "nodeclient"):
            await self._decide(csr, "Approved", "AutoApproved", "Auto approving kubelet client certificate after "
                                                                "SubjectAccessReview.")

    async def _serving(self, csr: CertificateSigningRequest, req: requests.Request) -> None:
        if requests.check_node_serving(req) is not None:
            return
        if csr.spec.username != req.common_name or requests.NODES_GROUP not in csr.spec.groups:
            return
        for node in self.nodes.cache.list():
            if node.metadata.name != req.node and _addresses(node) & set(req.ips):
                await self._decide(csr, "Denied", "AddressTaken",
                                   f"IP {sorted(_addresses(node) & set(req.ips))[0]} belongs to node "
                                   f"{node.metadata.name!r}")
                return
        own = self.nodes.cache.get(req.node)
        if own is not None and own.status.addresses and not set(req.ips) <= _addresses(own):
            await self._decide(csr, "Denied", "AddressMismatch",
                               f"IP SANs {sorted(set(req.ips) - _addresses(own))} are not addresses of node {req.node!r}")
            return
        await self._decide(csr, "Approved", "AutoApproved", "Auto approving kubelet serving certificate: "
                                                            "requested by the node itself for its own addresses.")

    async def _may_create(self, csr: CertificateSigningRequest, subresource: str) -> bool:
        review = {
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": csr.spec.username, "groups": csr.spec.groups, "uid": csr.spec.uid,
                     "extra": csr.spec.extra,
                     "resourceAttributes": {"group": certificates.GROUP, "resource": "certificatesigningrequests",
                                            "subresource": subresource, "verb": "create"}},
        }
        data = await self.api.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                                      body=msgspec.json.encode(review))
        out: dict[str, Any] = msgspec.json.decode(data)
        return bool((out.get("status") or {}).get("allowed"))

    async def _decide(self, csr: CertificateSigningRequest, kind: str, reason: str, message: str) -> None:
        body = msgspec.to_builtins(csr)
        body.setdefault("status", {}).setdefault("conditions", []).append(
            {"type": kind, "status": "True", "reason": reason, "message": message})
        try:
            await self.api.request("PUT", f"/apis/{certificates.GROUP}/v1/certificatesigningrequests/"
                                          f"{csr.metadata.name}/approval", body=msgspec.json.encode(body))
        except (errors.NotFound, errors.Conflict):
            return  # gone, or changed: the informer brings it back if there is still work
        log.info("csrapproving: %s CSR %s of %s (%s)", kind.lower(), csr.metadata.name, csr.spec.username, reason)
