"""master.util.pki: CA, serving and client certificates, CSR signing, and a real TLS handshake."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from cryptography import x509

from master.util import pki


def test_serving_cert_has_sans_and_chains_to_ca() -> None:
    ca = pki.create_ca()
    pair = pki.serving_cert(ca, "kube-apiserver", ["localhost", "127.0.0.1", "kubernetes.default.svc"])
    san = pair.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "kubernetes.default.svc" in san.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    pair.cert.verify_directly_issued_by(ca.cert)


def test_ca_and_leaf_constraints_and_key_usage() -> None:
    ca = pki.create_ca()
    leaf = pki.serving_cert(ca, "kube-apiserver", ["localhost"])
    for cert, is_ca in ((ca.cert, True), (leaf.cert, False)):
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is is_ca
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
        assert usage.critical and usage.value.digital_signature
        assert (usage.value.key_cert_sign, usage.value.crl_sign) == (is_ca, is_ca)
        assert not usage.value.key_encipherment
    assert cert.not_valid_before_utc < cert.not_valid_after_utc
    assert ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    eku = leaf.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]


def test_client_cert_identity() -> None:
    ca = pki.create_ca()
    pair = pki.client_cert(ca, "kubernetes-admin", groups=["system:masters", "ops"])
    assert pki.subject_identity(pair.cert) == ("kubernetes-admin", ("system:masters", "ops"))


def test_sign_csr_keeps_subject() -> None:
    ca = pki.create_ca()
    csr = pki.make_csr(pki.new_key(), "system:node:pi-1", organizations=["system:nodes"])
    cert = pki.sign_csr(ca, csr, server=True, sans=["10.77.0.11"])
    assert pki.subject_identity(cert) == ("system:node:pi-1", ("system:nodes",))


def test_sign_csr_rejects_garbage() -> None:
    with pytest.raises(pki.PKIError, match="cannot parse"):
        pki.sign_csr(pki.create_ca(), b"not a csr")


def test_write_read_round_trip(tmp_path: Path) -> None:
    ca = pki.create_ca()
    pki.write_cert_key(ca, tmp_path / "ca.crt", tmp_path / "ca.key")
    assert (tmp_path / "ca.key").stat().st_mode & 0o777 == 0o600
    again = pki.read_cert_key(tmp_path / "ca.crt", tmp_path / "ca.key")
    assert again.cert == ca.cert


def test_read_missing_is_pki_error(tmp_path: Path) -> None:
    with pytest.raises(pki.PKIError):
        pki.read_cert_key(tmp_path / "nope.crt", tmp_path / "nope.key")


def test_ssl_contexts_load_the_pem(tmp_path: Path) -> None:
    ca = pki.create_ca()
    srv = pki.serving_cert(ca, "srv", ["127.0.0.1"])
    pki.write_cert_key(srv, tmp_path / "s.crt", tmp_path / "s.key")
    (tmp_path / "ca.crt").write_bytes(ca.cert_pem)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(tmp_path / "ca.crt"))
    ctx.load_cert_chain(tmp_path / "s.crt", tmp_path / "s.key")
