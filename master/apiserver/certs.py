"""First-start PKI for the apiserver: the cluster CA, the serving certificate, the admin identity.

Layout under the data dir (made on first start, reused after)::

    pki/ca.crt, pki/ca.key                    the cluster CA
    pki/apiserver.crt, pki/apiserver.key      serving cert (SANs: hostname, node IPs, 127.0.0.1,
                                              localhost, kubernetes, kubernetes.default(.svc...),
                                              the kubernetes Service IP, and any extras)
    pki/apiserver-kubelet-client.crt/.key     client cert the apiserver shows agents (pods/log)
    pki/admin.crt, pki/admin.key              user kubernetes-admin in group system:masters
    admin.kubeconfig                          that admin, usable by pictl and kubectl
    pki/controller-manager.crt/.key           user system:kube-controller-manager
    pki/scheduler.crt/.key                    user system:kube-scheduler
    controller-manager.kubeconfig,            their kubeconfigs: the in-process components use them
    scheduler.kubeconfig                      too, so each runs with its own least-privilege role
    pki/sa.key, pki/sa.pub                    the ServiceAccount token signing key (security.install)
    pki/etcd-server.crt/.key                  the embedded store's TLS identity (https:// client URLs)
    pki/etcd-client.crt/.key                  a client identity for it (etcdctl --cert/--key)

The serving certificate is remade when a SAN it needs is missing (a new node IP, say); the CA
and the admin identity are never remade once they exist.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path

import psutil
from cryptography import x509

from master.client import kubeconfig
from master.util import pki

__all__ = [
    "COMPONENT_USERS",
    "ClusterPKI",
    "ensure_component_kubeconfigs",
    "ensure_pki",
    "ensure_store_tls",
    "first_service_ip",
    "kubeconfig_server",
    "local_addresses",
    "serving_sans",
]

ADMIN_USER = "kubernetes-admin"
ADMIN_GROUP = "system:masters"
# Component -> the user it runs as (its ClusterRole has the same name; see authz_policy).
COMPONENT_USERS = {"controller-manager": "system:kube-controller-manager", "scheduler": "system:kube-scheduler"}


@dataclass(frozen=True)
class ClusterPKI:
    dir: Path
    ca: pki.CertKey
    kubeconfig: Path

    @property
    def ca_cert(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def serving_cert(self) -> Path:
        return self.dir / "apiserver.crt"

    @property
    def serving_key(self) -> Path:
        return self.dir / "apiserver.key"

    @property
    def kubelet_client_cert(self) -> Path:
        return self.dir / "apiserver-kubelet-client.crt"

    @property
    def kubelet_client_key(self) -> Path:
        return self.dir / "apiserver-kubelet-client.key"


def local_addresses() -> list[str]:
    """Every IPv4 address of this host's interfaces (node IPs), loopback first."""
    out = ["127.0.0.1"]
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family == socket.AF_INET and a.address not in out:
                out.append(a.address)
    return out


def serving_sans(service_ip: str, extra: tuple[str, ...] = ()) -> list[str]:
    host = socket.gethostname()
    names = [host, "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
             "kubernetes.default.svc.cluster.local", service_ip]
    names += local_addresses()
    names += list(extra)
    return list(dict.fromkeys(n for n in names if n))


def _cert_sans(cert: x509.Certificate) -> set[str]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return set(ext.get_values_for_type(x509.DNSName)) | {
        str(ip) for ip in ext.get_values_for_type(x509.IPAddress)
    }


def _load_or(cert: Path, key: Path) -> pki.CertKey | None:
    if cert.exists() and key.exists():
        return pki.read_cert_key(cert, key)
    return None


def _write_kubeconfig(path: Path, *, server: str, ca: pki.CertKey, user: pki.CertKey, user_name: str = ADMIN_USER,
                      context_name: str = "picluster-admin") -> None:
    cfg = kubeconfig.build(
        server=server, ca_data=ca.cert_pem, cert_data=user.cert_pem, key_data=user.key_pem,
        user_name=user_name, context_name=context_name,
    )
    kubeconfig.write(str(path), cfg)


def ensure_component_kubeconfigs(data_dir: Path, *, server_url: str) -> dict[str, Path]:
    """Client certificates (made once) and kubeconfigs (rewritten with ``server_url``) of the
    controller-manager and the scheduler; component -> kubeconfig path."""
    d = data_dir / "pki"
    ca = pki.read_cert_key(d / "ca.crt", d / "ca.key")
    out: dict[str, Path] = {}
    for component, user in COMPONENT_USERS.items():
        pair = _load_or(d / f"{component}.crt", d / f"{component}.key")
        if pair is None or pki.subject_identity(pair.cert)[0] != user:
            pair = pki.client_cert(ca, user)
            pki.write_cert_key(pair, d / f"{component}.crt", d / f"{component}.key")
        path = data_dir / f"{component}.kubeconfig"
        _write_kubeconfig(path, server=server_url, ca=ca, user=pair, user_name=user,
                          context_name=f"picluster-{component}")
        out[component] = path
    return out


def kubeconfig_server(bind_address: str, port: int) -> str:
    host = bind_address
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"https://{host}:{port}"


def ensure_pki(data_dir: Path, *, service_ip: str, server_url: str, extra_sans: tuple[str, ...] = ()) -> ClusterPKI:
    """Make (or reuse) the CA, serving cert, kubelet client and admin identity; write admin.kubeconfig."""
    d = data_dir / "pki"
    d.mkdir(parents=True, exist_ok=True)
    ca = _load_or(d / "ca.crt", d / "ca.key")
    if ca is None:
        ca = pki.create_ca("picluster-ca")
        pki.write_cert_key(ca, d / "ca.crt", d / "ca.key")

    wanted = serving_sans(service_ip, extra_sans)
    serving = _load_or(d / "apiserver.crt", d / "apiserver.key")
    if serving is None or not set(wanted) <= _cert_sans(serving.cert):
        serving = pki.serving_cert(ca, "kube-apiserver", wanted)
        pki.write_cert_key(serving, d / "apiserver.crt", d / "apiserver.key")

    if _load_or(d / "apiserver-kubelet-client.crt", d / "apiserver-kubelet-client.key") is None:
        kc = pki.client_cert(ca, "kube-apiserver-kubelet-client", groups=[ADMIN_GROUP])
        pki.write_cert_key(kc, d / "apiserver-kubelet-client.crt", d / "apiserver-kubelet-client.key")

    admin = _load_or(d / "admin.crt", d / "admin.key")
    if admin is None:
        admin = pki.client_cert(ca, ADMIN_USER, groups=[ADMIN_GROUP])
        pki.write_cert_key(admin, d / "admin.crt", d / "admin.key")
    kubeconfig = data_dir / "admin.kubeconfig"
    _write_kubeconfig(kubeconfig, server=server_url, ca=ca, user=admin)
    return ClusterPKI(dir=d, ca=ca, kubeconfig=kubeconfig)


def first_service_ip(cidr: ipaddress.IPv4Network) -> str:
    return str(cidr.network_address + 1)


def _ca(d: Path) -> pki.CertKey:
    ca = _load_or(d / "ca.crt", d / "ca.key")
    if ca is None:
        ca = pki.create_ca("picluster-ca")
        pki.write_cert_key(ca, d / "ca.crt", d / "ca.key")
    return ca


def ensure_store_tls(data_dir: Path, host: str) -> tuple[bytes, bytes, bytes]:
    """(serving cert, key, CA) PEMs for the embedded store's TLS port on ``host``, from the
    cluster CA (made here when the store starts first), and an etcd-client pair for etcdctl."""
    d = data_dir / "pki"
    d.mkdir(parents=True, exist_ok=True)
    ca = _ca(d)
    wanted = [h for h in (host, "127.0.0.1", "localhost", *local_addresses()) if h not in ("0.0.0.0", "::")]
    serving = _load_or(d / "etcd-server.crt", d / "etcd-server.key")
    if serving is None or not set(wanted) <= _cert_sans(serving.cert):
        serving = pki.serving_cert(ca, "picluster-store", wanted)
        pki.write_cert_key(serving, d / "etcd-server.crt", d / "etcd-server.key")
    if _load_or(d / "etcd-client.crt", d / "etcd-client.key") is None:
        pki.write_cert_key(pki.client_cert(ca, "picluster-store-client"), d / "etcd-client.crt",
                           d / "etcd-client.key")
    return serving.cert_pem, serving.key_pem, ca.cert_pem
