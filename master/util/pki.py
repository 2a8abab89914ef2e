"""Certificates for the cluster: a CA, serving certificates, client certificates, CSR signing.

Everything here is pure (no files, no network) except ``load_or_create_ca`` and the two
``write_*``/``read_*`` helpers, so the apiserver, the testbed and the agents share one way of
making keys and certificates. Keys are ECDSA P-256: small, fast to generate on a Pi, and
accepted by Go (kubectl), OpenSSL (Python's ``ssl``) and the official Python client.

Identity in a client certificate follows Kubernetes: the subject CN is the user name and each
subject O is a group, so ``client_cert(ca, "kubernetes-admin", groups=["system:masters"])``
is a cluster admin.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CertKey",
    "PKIError",
    "client_cert",
    "create_ca",
    "make_csr",
    "new_key",
    "read_cert_key",
    "serving_cert",
    "sign_csr",
    "subject_identity",
    "write_cert_key",
]

CA_DAYS = 3650
LEAF_DAYS = 365
# Backdate certificates a little so a node whose clock lags the master's still accepts them.
_BACKDATE = datetime.timedelta(minutes=5)

Key = ec.EllipticCurvePrivateKey


class PKIError(Exception):
    """A certificate or key could not be read, parsed or made."""


@dataclass(frozen=True, slots=True)
class CertKey:
    cert: x509.Certificate
    key: Key

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def new_key() -> Key:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str, organizations: list[str] | tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, *, ca: bool, days: float
) -> x509.CertificateBuilder:
    """What CA and leaf certificates share: a random serial, validity backdated by ``_BACKDATE``,
    basic constraints, and key usage (signing; certificates and CRLs too for a CA)."""
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )


def create_ca(common_name: str = "picluster-ca", *, days: int = CA_DAYS) -> CertKey:
    key = new_key()
    name = _name(common_name)
    cert = (
        _builder(name, name, key.public_key(), ca=True, days=days)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertKey(cert, key)


def _sans(names: list[str] | tuple[str, ...]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    seen: set[str] = set()
    for n in names:
        if not n or n in seen:
            continue
        seen.add(n)
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            out.append(x509.DNSName(n))
    return out


def _leaf(
    ca: CertKey,
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    *,
    server: bool,
    client: bool,
    sans: list[str] | tuple[str, ...] = (),
    days: float = LEAF_DAYS,
) -> x509.Certificate:
    usages = []
    if server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (
        _builder(subject, ca.cert.subject, public_key, ca=False, days=days)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    general = _sans(sans)
    if general:
        builder = builder.add_extension(x509.SubjectAlternativeName(general), critical=False)
    return builder.sign(ca.key, hashes.SHA256())


def serving_cert(ca: CertKey, common_name: str, sans: list[str] | tuple[str, ...], *, days: int = LEAF_DAYS) -> CertKey:
    """A TLS server certificate; ``sans`` mixes DNS names and IP addresses (both detected)."""
    key = new_key()
    cert = _leaf(ca, _name(common_name), key.public_key(), server=True, client=False, sans=sans, days=days)
    return CertKey(cert, key)


def client_cert(
    ca: CertKey, user: str, *, groups: list[str] | tuple[str, ...] = (), days: int = LEAF_DAYS
) -> CertKey:
    """A TLS client certificate for ``user`` (CN) in ``groups`` (O)."""
    key = new_key()
    cert = _leaf(ca, _name(user, groups), key.public_key(), server=False, client=True, days=days)
    return CertKey(cert, key)


def make_csr(key: Key, common_name: str, *, organizations: list[str] | tuple[str, ...] = ()) -> bytes:
    """A PEM certificate signing request (what an agent sends to be admitted)."""
    csr = x509.CertificateSigningRequestBuilder().subject_name(_name(common_name, organizations)).sign(
        key, hashes.SHA256()
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def sign_csr(
    ca: CertKey,
    csr_pem: bytes,
    *,
    server: bool = False,
    client: bool = True,
    sans: list[str] | tuple[str, ...] = (),
    days: float = LEAF_DAYS,
) -> x509.Certificate:
    """Sign a PEM CSR with the CA, keeping the CSR's subject. Raises PKIError for a bad CSR.
    ``days`` may be a fraction (short-lived certificates that are rotated)."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem)
    except ValueError as exc:
        raise PKIError(f"pki: cannot parse certificate signing request: {exc}") from exc
    if not csr.is_signature_valid:
        raise PKIError("pki: certificate signing request signature is invalid")
    public_key = csr.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise PKIError("pki: only ECDSA keys are supported in certificate signing requests")
    return _leaf(ca, csr.subject, public_key, server=server, client=client, sans=sans, days=days)


def subject_identity(cert: x509.Certificate) -> tuple[str, tuple[str, ...]]:
    """(user, groups) of a client certificate: CN and the O attributes, as Kubernetes reads them."""
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    orgs = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    user = str(cns[0].value) if cns else ""
    return user, tuple(str(o.value) for o in orgs)


def write_cert_key(pair: CertKey, cert_path: Path, key_path: Path) -> None:
    """Write PEM files; the key is created 0600 before any byte is written."""
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pair.key_pem)
    cert_path.write_bytes(pair.cert_pem)


def read_cert_key(cert_path: Path, key_path: Path) -> CertKey:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise PKIError(f"pki: cannot read {cert_path} / {key_path}: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PKIError(f"pki: {key_path} is not an ECDSA key")
    return CertKey(cert, key)
