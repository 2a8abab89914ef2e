"""The embedded store's client port: plaintext only on loopback; over https:// it wants a client
certificate from the cluster CA (etcdctl with pki/etcd-client.crt gets in, without it does not)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.apiserver import PICTL, start_master
from tests.fixtures.ports import free_port

pytestmark = pytest.mark.slow


def etcdctl(endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["etcdctl", "--endpoints", endpoint, "--dial-timeout", "3s", "--command-timeout", "5s",
                           *args], capture_output=True, text=True, timeout=60, env={**os.environ, "ETCDCTL_API": "3"})


def test_tls_client_port_needs_a_client_certificate(tmp_path: Path) -> None:
    port = free_port()
    m = start_master(tmp_path / "m", "--listen-client-urls", f"https://127.0.0.1:{port}")
    try:
        pki = tmp_path / "m" / "pki"
        endpoint = f"https://127.0.0.1:{port}"
        ok = etcdctl(endpoint, "--cacert", str(pki / "ca.crt"), "--cert", str(pki / "etcd-client.crt"),
                     "--key", str(pki / "etcd-client.key"), "get", "/registry/namespaces/", "--prefix", "--keys-only")
        assert ok.returncode == 0 and "/registry/namespaces/kube-system" in ok.stdout, ok.stderr
        no_cert = etcdctl(endpoint, "--cacert", str(pki / "ca.crt"), "get", "/", "--prefix", "--keys-only")
        assert no_cert.returncode != 0 and "/registry" not in no_cert.stdout
        plain = etcdctl(f"http://127.0.0.1:{port}", "get", "/", "--prefix", "--keys-only")
        assert plain.returncode != 0 and "/registry" not in plain.stdout
    finally:
        m.stop()


def test_plaintext_off_loopback_is_refused(tmp_path: Path) -> None:
    out = subprocess.run([str(PICTL), "master", "--data-dir", str(tmp_path / "d"), "--listen-client-urls",
                          f"http://0.0.0.0:{free_port()}"], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "must use TLS" in out.stderr and "Traceback" not in out.stderr
