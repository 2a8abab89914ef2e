"""Certificate admission: who may approve, who may sign, and what may never be asked for.

- CertificateApproval: adding or changing Approved/Denied conditions (the ``approval``
  subresource) needs the ``approve`` verb on ``signers`` (certificates.k8s.io) named by the
  request's signerName (or ``<domain>/*``).
- CertificateSigning: setting ``status.certificate`` (the ``status`` subresource) needs ``sign``
  on that signer.
- CertificateSubjectRestriction: no request to ``kubernetes.io/kube-apiserver-client`` may ask
  for the ``system:masters`` group (a certificate for it would be a cluster admin).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from master.apiserver import errors
from master.apiserver.admission import Attributes
from master.apiserver.requestinfo import RequestInfo

if TYPE_CHECKING:
    from master.apiserver.server import ApiServer

__all__ = ["CertificateApproval", "CertificateSigning", "CertificateSubjectRestriction"]

GROUP = "certificates.k8s.io"


def _signer(obj: dict[str, Any] | None) -> str:
    spec = (obj or {}).get("spec")
    name = spec.get("signerName") if isinstance(spec, dict) else None
    return name if isinstance(name, str) else ""


def _may(server: ApiServer, attrs: Attributes, verb: str, signer: str) -> bool:
    names = [signer]
    if "/" in signer:
        names.append(signer.split("/", 1)[0] + "/*")
    return any(server.allowed(attrs.user, RequestInfo(True, "", verb, GROUP, "", "signers", "", "", n))
               for n in names)


def _conditions(obj: dict[str, Any] | None) -> list[Any]:
    status = (obj or {}).get("status")
    conds = status.get("conditions") if isinstance(status, dict) else None
    return conds if isinstance(conds, list) else []


def _csr(attrs: Attributes) -> bool:
    return attrs.served.group == GROUP and attrs.served.plural == "certificatesigningrequests"


class CertificateApproval:
    name = "CertificateApproval"

    async def admit(self, server: ApiServer, attrs: Attributes) -> dict[str, Any] | None:
        if not _csr(attrs) or attrs.subresource != "approval" or attrs.operation != "UPDATE":
            return None
        if _conditions(attrs.obj) == _conditions(attrs.old):
            return None
        signer = _signer(attrs.old)
        if not _may(server, attrs, "approve", signer):
            raise errors.forbidden(f'user not permitted to approve requests with signerName "{signer}"')
        return None


class CertificateSigning:
    name = "CertificateSigning"

    async def admit(self, server: ApiServer, attrs: Attributes) -> dict[str, Any] | None:
        if not _csr(attrs) or attrs.subresource != "status" or attrs.operation != "UPDATE":
            return None
        new = ((attrs.obj or {}).get("status") or {}).get("certificate")
        old = ((attrs.old or {}).get("status") or {}).get("certificate")
        if new == old:
            return None
        signer = _signer(attrs.old)
        if not _may(server, attrs, "sign", signer):
            raise errors.forbidden(f'user not permitted to sign requests with signerName "{signer}"')
        return None


class CertificateSubjectRestriction:
    name = "CertificateSubjectRestriction"

    async def admit(self, server: ApiServer, attrs: Attributes) -> dict[str, Any] | None:
        if not _csr(attrs) or attrs.operation != "CREATE" or _signer(attrs.obj) != "kubernetes.io/kube-apiserver-client":
            return None
        from master.api.strategy.certificates import parse_request
        from master.util.pki import subject_identity

        try:
            csr = parse_request(str(((attrs.obj or {}).get("spec") or {}).get("request", "")))
        except ValueError:
            return None  # validation answers 422
        _, groups = subject_identity(csr)  # type: ignore[arg-type]
        if "system:masters" in groups:
            raise errors.forbidden('use of kubernetes.io/kube-apiserver-client signer with system:masters group '
                                   'is not allowed')
        return None
