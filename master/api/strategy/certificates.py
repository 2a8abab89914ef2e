"""CertificateSigningRequest: the request is a PEM CSR, the spec never changes after create, and
approval/status writes keep Approved and Denied apart and the issued certificate fixed."""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, ClassVar

from master.api import field
from master.api.certificates import CertificateSigningRequest, CertificateSigningRequestStatus
from master.api.field import FieldError
from master.api.strategy.base import Strategy
from master.api.strategy.rbac import path_segment_name_errors

if TYPE_CHECKING:
    from cryptography import x509

__all__ = ["KEY_USAGES", "CertificateSigningRequestStrategy", "parse_request"]

KEY_USAGES = frozenset({
    "signing", "digital signature", "content commitment", "key encipherment", "key agreement",
    "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any",
    "server auth", "client auth", "code signing", "email protection", "s/mime", "ipsec end system",
    "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc",
})
CONDITION_TYPES = ("Approved", "Denied", "Failed")
MIN_EXPIRATION_SECONDS = 600
_SIGNER = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def parse_request(request: str) -> x509.CertificateSigningRequest:
    """The PKCS#10 request in ``spec.request`` (base64 PEM). ValueError with a reason otherwise."""
    # cryptography is loaded on first use: the registry (and so every agent) imports this module.
    from cryptography import x509

    try:
        pem = base64.b64decode(request, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("must be base64 encoded") from exc
    if b"-----BEGIN CERTIFICATE REQUEST-----" not in pem:
        raise ValueError("PEM block type must be CERTIFICATE REQUEST")
    try:
        csr = x509.load_pem_x509_csr(pem)
    except ValueError as exc:
        raise ValueError(f"cannot parse the certificate request: {exc}") from exc
    if not csr.is_signature_valid:
        raise ValueError("the certificate request's signature is invalid")
    return csr


def _validate_status(status: CertificateSigningRequestStatus) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, c in enumerate(status.conditions):
        p = field.index("status.conditions", i)
        if c.type not in CONDITION_TYPES:
            errs.append(field.not_supported(field.child(p, "type"), c.type, CONDITION_TYPES))
        if c.type in seen:
            errs.append(field.duplicate(field.child(p, "type"), c.type))
        seen.add(c.type)
        if c.status not in ("True", "False", "Unknown"):
            errs.append(field.not_supported(field.child(p, "status"), c.status, ("True", "False", "Unknown")))
    if {"Approved", "Denied"} <= seen:
        errs.append(field.invalid("status.conditions", "Approved, Denied",
                                  "Approved and Denied conditions are mutually exclusive"))
    if status.certificate:
        from cryptography import x509

        try:
            pem = base64.b64decode(status.certificate, validate=True)
            x509.load_pem_x509_certificates(pem)
        except (binascii.Error, ValueError):
            errs.append(field.invalid("status.certificate", "<certificate data>",
                                      "must be base64 of one or more PEM CERTIFICATE blocks"))
    return errs


class CertificateSigningRequestStrategy(Strategy[CertificateSigningRequest]):
    namespaced: ClassVar[bool] = False
    has_status: ClassVar[bool] = True

    def name_errors(self, name: str, prefix: bool) -> list[str]:
        return path_segment_name_errors(name, prefix)

    def validate(self, obj: CertificateSigningRequest) -> list[FieldError]:
        errs = super().validate(obj)
        s = obj.spec
        if not s.request:
            errs.append(field.required("spec.request"))
        else:
            try:
                parse_request(s.request)
            except ValueError as exc:
                errs.append(field.invalid("spec.request", "<request data>", str(exc)))
        if not s.signer_name:
            errs.append(field.required("spec.signerName"))
        elif not _SIGNER.match(s.signer_name) or len(s.signer_name) > 571:
            errs.append(field.invalid("spec.signerName", s.signer_name,
                                      "must be a fully qualified domain and path of the form 'example.com/signer-name'"))
        if s.expiration_seconds is not None and s.expiration_seconds < MIN_EXPIRATION_SECONDS:
            errs.append(field.invalid("spec.expirationSeconds", s.expiration_seconds,
                                      f"may not specify a duration less than {MIN_EXPIRATION_SECONDS} seconds"))
        seen: set[str] = set()
        for i, u in enumerate(s.usages):
            p = field.index("spec.usages", i)
            if u not in KEY_USAGES:
                errs.append(field.not_supported(p, u, sorted(KEY_USAGES)))
            if u in seen:
                errs.append(field.duplicate(p, u))
            seen.add(u)
        return errs

    def prepare_for_update(self, new: CertificateSigningRequest, old: CertificateSigningRequest
                           ) -> CertificateSigningRequest:
        new = super().prepare_for_update(new, old)
        new.spec = old.spec
        return new

    def validate_status_update(self, new: CertificateSigningRequest, old: CertificateSigningRequest
                               ) -> list[FieldError]:
        errs = super().validate_status_update(new, old) + _validate_status(new.status)
        kept = {c.type for c in new.status.conditions}
        for c in old.status.conditions:
            if c.type in CONDITION_TYPES and c.type not in kept:
                errs.append(field.forbidden("status.conditions", f"updates may not remove a condition of type {c.type!r}"))
        if old.status.certificate and new.status.certificate != old.status.certificate:
            errs.append(field.invalid("status.certificate", "<certificate data>", "updates may not modify existing certificate content"))
        return errs
