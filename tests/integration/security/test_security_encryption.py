"""Secrets encrypted at rest in a real ``pictl master`` (sqlite store), created with kubectl:
no file of the store ever holds the plaintext, before or after a key rotation, and after
``pictl secrets reencrypt`` etcdctl shows every secret under the new key, so the old one can go.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.fixtures.apiserver import PICTL, MasterProcess, start_master

pytestmark = pytest.mark.slow

PLAINTEXT = "correct-horse-battery-staple"
KEY1 = base64.b64encode(b"k" * 32).decode()
KEY2 = base64.b64encode(b"K" * 32).decode()


def write_config(path: Path, keys: list[tuple[str, str]]) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "apiserver.config.k8s.io/v1", "kind": "EncryptionConfiguration",
        "resources": [{"resources": ["secrets"], "providers": [
            {"aesgcm": {"keys": [{"name": n, "secret": s} for n, s in keys]}}, {"identity": {}}]}]}))
    return path


def store_bytes(data_dir: Path) -> bytes:
    out = b""
    for root, _, files in os.walk(data_dir / "store"):
        for f in files:
            out += Path(root, f).read_bytes()
    return out


def assert_no_plaintext(data_dir: Path) -> None:
    raw = store_bytes(data_dir)
    assert raw, "the store wrote nothing?"
    for form in (PLAINTEXT.encode(), base64.b64encode(PLAINTEXT.encode())):
        assert form not in raw


def etcd_secret_prefixes(m: MasterProcess) -> list[bytes]:
    out = subprocess.run(["etcdctl", "--endpoints", f"http://127.0.0.1:{m.client_port}", "get", "/registry/secrets/",
                          "--prefix", "-w", "json"], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "ETCDCTL_API": "3"})
    assert out.returncode == 0, out.stderr
    kvs = json.loads(out.stdout).get("kvs") or []
    return [base64.b64decode(kv["value"])[:22] for kv in kvs]


def test_secrets_never_reach_the_disk_in_plaintext(tmp_path: Path) -> None:
    data = tmp_path / "m"
    cfg = write_config(tmp_path / "enc.yaml", [("key1", KEY1)])
    m = start_master(data, "--encryption-provider-config", str(cfg))
    try:
        for i in range(3):
            m.kubectl("create", "secret", "generic", f"s{i}", f"--from-literal=pw={PLAINTEXT}")
        m.kubectl("create", "secret", "generic", "yaml-one", "--from-literal=token=" + PLAINTEXT, "-n", "kube-system")
        got = m.kubectl("get", "secret", "s0", "-o", "jsonpath={.data.pw}").stdout
        assert base64.b64decode(got).decode() == PLAINTEXT
        assert set(etcd_secret_prefixes(m)) == {b"k8s:enc:aesgcm:v1:key1"}
    finally:
        m.stop()
    assert_no_plaintext(data)

    # Rotate: key2 writes, key1 still reads; rewrite everything; then key1 can go.
    write_config(cfg, [("key2", KEY2), ("key1", KEY1)])
    m = start_master(data, "--encryption-provider-config", str(cfg), port=m.port, client_port=m.client_port)
    try:
        m.kubectl("get", "secret", "s1")
        out = subprocess.run([str(PICTL), "--kubeconfig", str(m.kubeconfig), "secrets", "reencrypt"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "secrets:" in out.stdout and "rewritten" in out.stdout
        assert set(etcd_secret_prefixes(m)) == {b"k8s:enc:aesgcm:v1:key2"}
    finally:
        m.stop()
    assert_no_plaintext(data)

    write_config(cfg, [("key2", KEY2)])
    m = start_master(data, "--encryption-provider-config", str(cfg), port=m.port, client_port=m.client_port)
    try:
        got = m.kubectl("get", "secret", "s2", "-o", "jsonpath={.data.pw}").stdout
        assert base64.b64decode(got).decode() == PLAINTEXT
    finally:
        m.stop()
    assert_no_plaintext(data)


def test_a_bad_config_stops_the_master_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "enc.yaml"
    bad.write_text("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources: []\n")
    out = subprocess.run([str(PICTL), "master", "--data-dir", str(tmp_path / "d"), "--encryption-provider-config",
                          str(bad)], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert out.stderr.strip().startswith("error: --encryption-provider-config")
    assert "Traceback" not in out.stderr
