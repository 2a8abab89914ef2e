"""certificates.k8s.io/v1 CertificateSigningRequest: how agents get their certificates.

``spec.request`` is a base64 PEM PKCS#10 request; ``spec.signerName`` names who may sign it
(``kubernetes.io/kube-apiserver-client-kubelet`` for node client certificates,
``kubernetes.io/kubelet-serving`` for agents' serving certificates,
``kubernetes.io/kube-apiserver-client`` for other clients). ``spec.username``/``uid``/``groups``/
``extra`` are set by the apiserver to the requester's identity. An approver adds an ``Approved``
(or ``Denied``) condition through the ``approval`` subresource; the signer puts the issued
certificate (base64 PEM) in ``status.certificate`` through the ``status`` subresource.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from master.api.meta import Object
from master.api.schema import Int32, Time

__all__ = [
    "GROUP",
    "KUBELET_SERVING",
    "KUBE_APISERVER_CLIENT",
    "KUBE_APISERVER_CLIENT_KUBELET",
    "CertificateSigningRequest",
    "CertificateSigningRequestCondition",
    "CertificateSigningRequestSpec",
    "CertificateSigningRequestStatus",
]

GROUP = "certificates.k8s.io"
KUBE_APISERVER_CLIENT = "kubernetes.io/kube-apiserver-client"
KUBE_APISERVER_CLIENT_KUBELET = "kubernetes.io/kube-apiserver-client-kubelet"
KUBELET_SERVING = "kubernetes.io/kubelet-serving"


class CertificateSigningRequestSpec(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    request: str = ""  # base64 of the PEM request
    signer_name: str = ""
    expiration_seconds: Int32 | None = None
    usages: list[str] = []
    username: str = ""
    uid: str = ""
    groups: list[str] = []
    extra: dict[str, list[str]] = {}


class CertificateSigningRequestCondition(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    type: str  # Approved, Denied, Failed
    status: str = "True"
    reason: str = ""
    message: str = ""
    last_update_time: Time | None = None
    last_transition_time: Time | None = None


class CertificateSigningRequestStatus(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    conditions: list[CertificateSigningRequestCondition] = []
    certificate: str = ""  # base64 of the PEM certificate


class CertificateSigningRequest(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = f"{GROUP}/v1"
    KIND: ClassVar[str] = "CertificateSigningRequest"

    spec: CertificateSigningRequestSpec = msgspec.field(default_factory=CertificateSigningRequestSpec)
    status: CertificateSigningRequestStatus = msgspec.field(default_factory=CertificateSigningRequestStatus)
