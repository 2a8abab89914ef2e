"""A restarted ``pictl master`` (sqlite store) keeps objects, allocations and resourceVersions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.apiserver import start_master

pytestmark = pytest.mark.slow


def test_restart_keeps_everything(tmp_path: Path) -> None:
    m = start_master(tmp_path)
    try:
        m.kubectl("create", "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "keep"},
            "spec": {"type": "NodePort", "selector": {"app": "x"}, "ports": [{"port": 80}]}}))
        m.kubectl("create", "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep"}, "data": {"a": "b"}}))
        before_svc = json.loads(m.kubectl("get", "svc", "keep", "-o", "json").stdout)
        before_cm = json.loads(m.kubectl("get", "cm", "keep", "-o", "json").stdout)
        ca = (tmp_path / "pki" / "ca.crt").read_bytes()
    finally:
        assert m.stop() == 0
    m = start_master(tmp_path, port=m.port)
    try:
        assert (tmp_path / "pki" / "ca.crt").read_bytes() == ca
        after_svc = json.loads(m.kubectl("get", "svc", "keep", "-o", "json").stdout)
        after_cm = json.loads(m.kubectl("get", "cm", "keep", "-o", "json").stdout)
        assert after_svc["spec"]["clusterIP"] == before_svc["spec"]["clusterIP"]
        assert after_svc["spec"]["ports"] == before_svc["spec"]["ports"]
        assert after_svc["metadata"]["resourceVersion"] == before_svc["metadata"]["resourceVersion"]
        assert after_cm == before_cm
        # The allocations survived too: the same address is refused.
        clash = m.kubectl("create", "-f", "-", check=False, input=json.dumps({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "clash"},
            "spec": {"type": "NodePort", "clusterIP": before_svc["spec"]["clusterIP"], "selector": {"app": "x"},
                     "ports": [{"port": 80}]}}))
        assert clash.returncode != 0 and "already allocated" in clash.stderr
        log = m.log.read_text()
        assert "admin kubeconfig at" in log and "serving HTTPS on" in log
    finally:
        assert m.stop() == 0
