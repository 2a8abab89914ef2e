"""Joining a cluster with a join token, and keeping the node's certificates fresh.

``pictl agent --server https://MASTER:6443 --token K10<ca sha256>::<id>.<secret>``::

    1. GET /api/v1/namespaces/kube-public/configmaps/cluster-info, anonymously and without
       trusting the server yet: it holds the cluster CA. The CA's SHA-256 (of its DER) must be
       the token's pin, and a ``jws-kubeconfig-<id>`` signature there, if any, must verify with
       the token; otherwise the agent stops before sending any secret (JoinError).
    2. From now on TLS verifies the server against that CA. With the bootstrap token as bearer
       token (user system:bootstrap:<id>), create a CertificateSigningRequest for
       CN=system:node:<name>, O=system:nodes (signer kube-apiserver-client-kubelet) with a fresh
       ECDSA key, and wait until csrapproving approves and csrsigning issues it (Denied or
       Failed: JoinError with the reason, e.g. NodeExists when another machine has the name).
    3. Write ``<data dir>/kubelet.kubeconfig`` (server, CA, the node's certificate and key; 0600)
       and ``<data dir>/pki/kubelet-client.crt/.key``.
    4. As the node, ask for a serving certificate (signer kubelet-serving, SANs the node's IP
       and name) and write ``<cert dir>/kubelet.crt/.key``, which the agent's HTTPS server uses
       and the apiserver's log proxy verifies. A refusal only logs a warning (the agent then
       serves a self-signed pair).

A restarted agent reuses its kubeconfig when it still holds a valid certificate for this node
and a CA that matches the pin (renewing it first, as the node, when 80 % of its lifetime has
passed); the join token is not needed again. ``CertificateManager`` then
renews the client certificate (a CSR sent as the node itself, approved as selfnodeclient) once
70-90 % of its lifetime has passed, writes the new kubeconfig and hands the new ClientConfig to
the running agent; the serving certificate is renewed the same way (the new pair is used from
the next start of the HTTPS server).
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from master.api import certificates, meta
from master.api.certificates import CertificateSigningRequest, CertificateSigningRequestSpec
from master.client import errors, kubeconfig, transport
from master.client.config import ClientConfig
from master.client.rest import ApiClient
from master.util import jointoken, jws
from master.util.files import write_atomic

__all__ = ["CertificateManager", "JoinError", "JoinSettings", "join", "join_settings"]

log = logging.getLogger("picluster.agent.bootstrap")

CLUSTER_INFO = "/api/v1/namespaces/kube-public/configmaps/cluster-info"
KUBECONFIG_NAME = "kubelet.kubeconfig"
CLIENT_CERT, CLIENT_KEY = "kubelet-client.crt", "kubelet-client.key"
SERVING_CERT, SERVING_KEY = "kubelet.crt", "kubelet.key"
NODES_GROUP = "system:nodes"
# A saved certificate past this share of its lifetime is renewed at start-up.
RENEW_AT = 0.8


class JoinError(Exception):
    """The node cannot join (a CA mismatch, a refused request, a server that never answers)."""


@dataclass(frozen=True)
class JoinSettings:
    server: str
    token: jointoken.JoinToken
    node_name: str
    node_ip: str
    data_dir: Path
    cert_dir: Path
    # How long to wait for a certificate to be issued, and how often to look.
    timeout: float = 300.0
    poll: float = 1.0
    # Ask for certificates this long-lived (None: the signer's default, a year).
    expiration_seconds: int | None = None

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / KUBECONFIG_NAME

    @property
    def user(self) -> str:
        return f"system:node:{self.node_name}"


# -- step 1: the CA ---------------------------------------------------------------------------


async def fetch_ca(settings: JoinSettings) -> bytes:
    """The cluster CA (PEM), checked against the token's pin; JoinError otherwise."""
    # Nothing is trusted yet (no CA) and nothing secret is sent: the pin decides below.
    try:
        anonymous = ClientConfig(server=settings.server, insecure_skip_tls_verify=True, timeout=30.0, retries=0)
    except errors.ConfigError as exc:
        raise JoinError(str(exc)) from exc
    tr = transport.Transport(anonymous)
    try:
        body = await tr.request("GET", CLUSTER_INFO, accept="*/*")
    except errors.ApiError as exc:
        raise JoinError(f"{settings.server} did not publish kube-public/cluster-info (HTTP {exc.code})") from exc
    except errors.ConnectionError as exc:
        raise JoinError(f"cannot reach {settings.server}: {exc}") from exc
    finally:
        await tr.close()
    try:
        data = yaml.safe_load(body)["data"]
        content = data["kubeconfig"]
        ca_pem = base64.b64decode(yaml.safe_load(content)["clusters"][0]["cluster"]["certificate-authority-data"])
        digest = jointoken.ca_hash(ca_pem)
    except (yaml.YAMLError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise JoinError(f"{settings.server} published a malformed cluster-info: {exc}") from exc
    if digest != settings.token.ca_hash:
        raise JoinError(f"the server's CA (sha256 {digest}) does not match the join token's pin "
                        f"(sha256 {settings.token.ca_hash}): refusing to send the token to {settings.server}")
    signature = data.get(f"jws-kubeconfig-{settings.token.token.id}")
    if signature is not None and not jws.verify_hs256_detached(
            str(signature), settings.token.token.secret.encode(), str(content).encode()):
        raise JoinError("cluster-info's signature for this token does not verify: refusing to trust the server")
    return ca_pem


# -- step 2: certificates ------------------------------------------------------------------------


def _csr_object(csr_pem: bytes, signer: str, usages: list[str], expiration: int | None) -> CertificateSigningRequest:
    return CertificateSigningRequest(
        metadata=meta.ObjectMeta(generate_name="node-csr-"),
        spec=CertificateSigningRequestSpec(request=base64.b64encode(csr_pem).decode(), signer_name=signer,
                                           usages=usages, expiration_seconds=expiration),
    )


async def request_certificate(api: ApiClient, settings: JoinSettings, *, signer: str, sans: Sequence[str] = ()
                              ) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) issued for this node by ``signer``; JoinError when refused."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    from master.util import pki

    key = pki.new_key()
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, NODES_GROUP),
        x509.NameAttribute(NameOID.COMMON_NAME, settings.user)]))
    if sans:
        import ipaddress

        names: list[x509.GeneralName] = []
        for s in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(s)))
            except ValueError:
                names.append(x509.DNSName(s))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    csr_pem = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    usage = "server auth" if signer == certificates.KUBELET_SERVING else "client auth"
    try:
        created = await api.create(_csr_object(csr_pem, signer, ["digital signature", usage],
                                               settings.expiration_seconds))
    except errors.ApiError as exc:
        raise JoinError(f"the server refused the certificate signing request: {exc}") from exc
    name = created.metadata.name
    deadline = asyncio.get_running_loop().time() + settings.timeout
    while True:
        try:
            csr = await api.get(CertificateSigningRequest, name)
        except errors.ApiError as exc:
            raise JoinError(f"cannot read certificate signing request {name}: {exc}") from exc
        for c in csr.status.conditions:
            if c.type in ("Denied", "Failed") and c.status == "True":
                raise JoinError(f"certificate signing request {name} was {c.type.lower()}: "
                                f"{c.reason}: {c.message}".rstrip(": "))
        if csr.status.certificate:
            cert_pem = base64.b64decode(csr.status.certificate)
            return cert_pem, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption())
        if asyncio.get_running_loop().time() > deadline:
            raise JoinError(f"certificate signing request {name} was not signed within {settings.timeout:.0f}s "
                            "(is the controller-manager running with csrapproving and csrsigning?)")
        await asyncio.sleep(settings.poll)


def _write_pair(cert_path: Path, key_path: Path, cert_pem: bytes, key_pem: bytes) -> None:
    cert_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for path, data, mode in ((key_path, key_pem, 0o600), (cert_path, cert_pem, 0o644)):
        write_atomic(path, data, mode=mode)


def _write_client(settings: JoinSettings, ca_pem: bytes, cert_pem: bytes, key_pem: bytes) -> ClientConfig:
    _write_pair(settings.data_dir / "pki" / CLIENT_CERT, settings.data_dir / "pki" / CLIENT_KEY, cert_pem, key_pem)
    cfg = kubeconfig.build(server=settings.server, ca_data=ca_pem, cert_data=cert_pem, key_data=key_pem,
                           user_name=settings.user, context_name=settings.node_name)
    kubeconfig.write(str(settings.kubeconfig), cfg)
    return ClientConfig(server=settings.server, ca_data=ca_pem, cert_data=cert_pem, key_data=key_pem)


def _write_serving(settings: JoinSettings, cert_pem: bytes, key_pem: bytes) -> None:
    _write_pair(settings.cert_dir / SERVING_CERT, settings.cert_dir / SERVING_KEY, cert_pem, key_pem)
    (settings.cert_dir / ".self-signed").unlink(missing_ok=True)


def _validity(cert_pem: bytes) -> tuple[datetime.datetime, datetime.datetime, str]:
    from cryptography import x509

    from master.util.pki import subject_identity

    cert = x509.load_pem_x509_certificate(cert_pem)
    return cert.not_valid_before_utc, cert.not_valid_after_utc, subject_identity(cert)[0]


def _aged(start: datetime.datetime, end: datetime.datetime, fraction: float) -> bool:
    return datetime.datetime.now(datetime.UTC) >= start + (end - start) * fraction


def _reusable(settings: JoinSettings) -> ClientConfig | None:
    """The saved identity, when it is this node's, pinned to this CA and not expired."""
    if not settings.kubeconfig.exists():
        return None
    try:
        cfg = kubeconfig.load_client_config(str(settings.kubeconfig), server=settings.server)
        if cfg.ca_data is None or cfg.cert_data is None or cfg.key_data is None:
            return None
        if jointoken.ca_hash(cfg.ca_data) != settings.token.ca_hash:
            return None
        start, end, user = _validity(cfg.cert_data)
    except (errors.ClientError, ValueError):
        return None
    if user != settings.user or _aged(start, end, 1.0):
        return None
    return cfg


async def join(settings: JoinSettings, *, step: Callable[[str], None] = log.info) -> ClientConfig:
    """Join (or rejoin with the saved identity); the node's ClientConfig. JoinError on refusal."""
    saved = _reusable(settings)
    if saved is not None:
        step(f"join: reusing the node certificate in {settings.kubeconfig}")
        assert saved.cert_data is not None
        start, end, _ = _validity(saved.cert_data)
        if _aged(start, end, RENEW_AT):
            # Renew as the node itself: a bootstrap token would be refused for an existing node.
            try:
                saved = await CertificateManager(settings, saved).rotate_client()
                step("join: the node certificate was near its end and has been renewed")
            except (JoinError, errors.ClientError, OSError) as exc:
                log.warning("join: could not renew the node certificate yet (%s)", exc)
        await _ensure_serving(settings, saved, step)
        return saved
    ca_pem = await fetch_ca(settings)
    step(f"join: the server's CA matches the token's pin (sha256 {settings.token.ca_hash[:16]}...)")
    bootstrap = ClientConfig(server=settings.server, ca_data=ca_pem, token=str(settings.token.token),
                             user_agent=f"picluster-agent/{settings.node_name} (bootstrap)")
    async with ApiClient(bootstrap) as api:
        try:
            cert_pem, key_pem = await request_certificate(api, settings,
                                                          signer=certificates.KUBE_APISERVER_CLIENT_KUBELET)
        except errors.ClientError as exc:
            raise JoinError(f"joining through {settings.server} failed: {exc}") from exc
    cfg = _write_client(settings, ca_pem, cert_pem, key_pem)
    step(f"join: node certificate for {settings.user} issued; kubeconfig {settings.kubeconfig}")
    await _ensure_serving(settings, cfg, step, force=True)
    return cfg


async def _ensure_serving(settings: JoinSettings, cfg: ClientConfig, step: Callable[[str], None],
                          *, force: bool = False) -> None:
    cert = settings.cert_dir / SERVING_CERT
    if not force and cert.exists() and not (settings.cert_dir / ".self-signed").exists():
        try:
            start, end, _ = _validity(cert.read_bytes())
            if not _aged(start, end, RENEW_AT):
                return
        except (OSError, ValueError):
            pass
    try:
        async with ApiClient(replace(cfg, user_agent=f"picluster-agent/{settings.node_name}")) as api:
            cert_pem, key_pem = await request_certificate(api, settings, signer=certificates.KUBELET_SERVING,
                                                          sans=[settings.node_ip, settings.node_name])
    except (JoinError, errors.ClientError) as exc:
        log.warning("join: no serving certificate from the cluster (%s); the agent serves a self-signed one", exc)
        return
    _write_serving(settings, cert_pem, key_pem)
    step(f"join: serving certificate for {settings.node_ip} issued in {settings.cert_dir}")


# -- rotation ------------------------------------------------------------------------------------


Rotated = Callable[[ClientConfig], Awaitable[None]]


def rotation_deadline(start: datetime.datetime, end: datetime.datetime, rnd: random.Random) -> datetime.datetime:
    """When to renew: at a random point between 70 % and 90 % of the lifetime (client-go's choice)."""
    return start + (end - start) * rnd.uniform(0.7, 0.9)


class CertificateManager:
    """Renews the node's client and serving certificates before they expire."""

    def __init__(self, settings: JoinSettings, config: ClientConfig, *, on_rotated: Rotated | None = None,
                 rnd: random.Random | None = None, retry: float = 10.0) -> None:
        self.settings = settings
        self.config = config
        self.on_rotated = on_rotated
        self.rnd = rnd or random.Random()
        self.retry = retry
        self.rotations = 0

    def next_client_rotation(self) -> datetime.datetime:
        assert self.config.cert_data is not None
        start, end, _ = _validity(self.config.cert_data)
        return rotation_deadline(start, end, self.rnd)

    async def rotate_client(self) -> ClientConfig:
        """One renewal of the client certificate, as the node itself; the new config."""
        s = self.settings
        assert self.config.ca_data is not None
        async with ApiClient(replace(self.config, user_agent=f"picluster-agent/{s.node_name}")) as api:
            cert_pem, key_pem = await request_certificate(api, s, signer=certificates.KUBE_APISERVER_CLIENT_KUBELET)
        new = _write_client(s, self.config.ca_data, cert_pem, key_pem)
        self.config = replace(self.config, cert_data=new.cert_data, key_data=new.key_data)
        self.rotations += 1
        if self.on_rotated is not None:
            await self.on_rotated(self.config)
        return self.config

    async def run(self) -> None:
        """Sleep until each deadline, renew (client, then serving), retry failures every ``retry`` s."""
        while True:
            deadline = self.next_client_rotation()
            wait = (deadline - datetime.datetime.now(datetime.UTC)).total_seconds()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                await self.rotate_client()
                log.info("certificates: client certificate of %s renewed", self.settings.user)
                await _ensure_serving(self.settings, self.config, log.info)
            except (JoinError, errors.ClientError, OSError) as exc:
                log.warning("certificates: renewal failed (%s); retrying in %.0fs", exc, self.retry)
                await asyncio.sleep(self.retry)


def describe(cfg: ClientConfig) -> dict[str, Any]:
    """Who the config is and until when (for logs and tests)."""
    assert cfg.cert_data is not None
    start, end, user = _validity(cfg.cert_data)
    return {"user": user, "not_before": start, "not_after": end}


def join_settings(token: str, *, server: str, node_name: str, node_ip: str, data_dir: Path,
                  cert_dir: Path) -> JoinSettings:
    """``pictl agent --token``'s settings; ValueError (never echoing the secret) for a bad token or server."""
    if not server:
        raise ValueError("--token needs --server (the apiserver to join, e.g. https://10.77.0.10:6443)")
    if not server.startswith("https://"):
        raise ValueError(f"invalid --server {server!r}: joining needs https://")
    try:
        parsed = jointoken.parse_join_token(token)
    except ValueError as exc:
        raise ValueError(f"invalid --token: {exc}") from None
    return JoinSettings(server=server.rstrip("/"), token=parsed, node_name=node_name, node_ip=node_ip,
                        data_dir=data_dir, cert_dir=cert_dir)
