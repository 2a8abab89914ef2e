"""The agent's HTTPS identity on port 10250, as the kubelet's ``--cert-dir`` works.

``<cert dir>/kubelet.crt`` and ``kubelet.key`` are used when both exist (the testbed, or an
admin, puts a pair signed by the cluster CA there, which the apiserver's log proxy verifies);
``--tls-cert-file``/``--tls-private-key-file`` name a pair elsewhere. Otherwise a self-signed
pair (its own little CA, the node's name and IP as SANs) is made there once and reused: fine for
Prometheus scrapes with ``insecure_skip_verify``, refused by an apiserver that checks agents
against its CA.

Clients: with the cluster CA known (from the kubeconfig), client certificates are asked for and
verified against it, so ``/containerLogs`` can tell the apiserver from anyone else.
"""

from __future__ import annotations

import ssl
from pathlib import Path

__all__ = ["ServingIdentity", "serving_context"]

CERT_NAME = "kubelet.crt"
KEY_NAME = "kubelet.key"


class ServingIdentity:
    def __init__(self, cert: Path, key: Path, *, self_signed: bool) -> None:
        self.cert = cert
        self.key = key
        self.self_signed = self_signed

    def describe(self) -> str:
        kind = "self-signed" if self.self_signed else "provided"
        return f"{kind} certificate {self.cert}"


def _ensure_pair(cert_dir: Path, node_name: str, node_ip: str) -> ServingIdentity:
    cert, key = cert_dir / CERT_NAME, cert_dir / KEY_NAME
    marker = cert_dir / ".self-signed"
    if cert.exists() and key.exists():
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(str(cert), str(key))
            return ServingIdentity(cert, key, self_signed=marker.exists())
        except (ssl.SSLError, OSError):
            pass
    # Only here does the agent need cryptography (several MB of RSS on a Pi).
    from master.util import pki

    ca = pki.create_ca(f"{node_name}-ca")
    leaf = pki.serving_cert(ca, node_name, [node_name, node_ip, "localhost", "127.0.0.1"])
    cert_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    pki.write_cert_key(leaf, cert, key)
    with open(cert, "ab") as f:
        f.write(ca.cert_pem)
    marker.write_text("made by the agent: no serving certificate was provided\n")
    return ServingIdentity(cert, key, self_signed=True)


def serving_context(
    cert_dir: Path,
    *,
    node_name: str,
    node_ip: str,
    client_ca: bytes | None = None,
    tls_cert_file: Path | None = None,
    tls_key_file: Path | None = None,
) -> tuple[ssl.SSLContext, ServingIdentity]:
    if tls_cert_file is not None and tls_key_file is not None:
        identity = ServingIdentity(tls_cert_file, tls_key_file, self_signed=False)
    else:
        identity = _ensure_pair(cert_dir, node_name, node_ip)
    # A bare server context: the system's CA bundle is of no use here (and costs memory).
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(identity.cert), str(identity.key))
    if client_ca:
        ctx.load_verify_locations(cadata=client_ca.decode("ascii", "replace"))
        ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx, identity
