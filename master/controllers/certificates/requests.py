"""What a CertificateSigningRequest asks for, and whether it is a well-formed agent request.

``parse(csr)`` reads the PKCS#10 request; ``check_node_client`` and ``check_node_serving`` say
why a request is not what the two kubelet signers issue (None when it is)::

    kube-apiserver-client-kubelet   CN system:node:<name>, O exactly [system:nodes], no SANs,
                                    usages: client auth (+ digital signature, key encipherment)
    kubelet-serving                 CN system:node:<name>, O exactly [system:nodes], DNS/IP SANs
                                    only (at least one), usages: server auth (+ the same two)
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

from master.api.certificates import CertificateSigningRequest
from master.api.strategy.certificates import parse_request

__all__ = ["NODES_GROUP", "NODE_PREFIX", "Request", "check_node_client", "check_node_serving", "parse"]

NODE_PREFIX = "system:node:"
NODES_GROUP = "system:nodes"
_BASE_USAGES = frozenset({"digital signature", "key encipherment"})


@dataclass(frozen=True, slots=True)
class Request:
    common_name: str
    organizations: tuple[str, ...]
    dns_names: tuple[str, ...]
    ips: tuple[str, ...]
    other_sans: bool  # email or URI SANs
    usages: frozenset[str]
    csr: x509.CertificateSigningRequest

    @property
    def node(self) -> str:
        return self.common_name[len(NODE_PREFIX):] if self.common_name.startswith(NODE_PREFIX) else ""


def parse(obj: CertificateSigningRequest) -> Request:
    """ValueError when the request does not parse."""
    csr = parse_request(obj.spec.request)
    cns = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    orgs = csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    dns: list[str] = []
    ips: list[str] = []
    other = False
    try:
        sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = list(sans.get_values_for_type(x509.DNSName))
        ips = [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)]
        other = bool(sans.get_values_for_type(x509.RFC822Name) or sans.get_values_for_type(
            x509.UniformResourceIdentifier))
    except x509.ExtensionNotFound:
        pass
    return Request(str(cns[0].value) if cns else "", tuple(str(o.value) for o in orgs), tuple(dns), tuple(ips), other,
                   frozenset(obj.spec.usages), csr)


def _node_subject(req: Request) -> str | None:
    if not req.node:
        return f"subject common name must start with {NODE_PREFIX}"
    if req.organizations != (NODES_GROUP,):
        return f"subject organization must be exactly [{NODES_GROUP}]"
    return None


def check_node_client(req: Request) -> str | None:
    why = _node_subject(req)
    if why:
        return why
    if req.dns_names or req.ips or req.other_sans:
        return "a node client certificate may not have subject alternative names"
    if "client auth" not in req.usages or not req.usages <= _BASE_USAGES | {"client auth"}:
        return "usages must be client auth (with digital signature and key encipherment at most)"
    return None


def check_node_serving(req: Request) -> str | None:
    why = _node_subject(req)
    if why:
        return why
    if req.other_sans:
        return "a node serving certificate may only have DNS and IP subject alternative names"
    if not req.dns_names and not req.ips:
        return "a node serving certificate needs at least one DNS or IP subject alternative name"
    if "server auth" not in req.usages or not req.usages <= _BASE_USAGES | {"server auth"}:
        return "usages must be server auth (with digital signature and key encipherment at most)"
    return None
