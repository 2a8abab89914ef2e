"""``pictl master --etcd-servers`` on a 3-member real etcd cluster, one member killed mid-test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.fixtures.apiserver import start_master
from tests.fixtures.etcd import EtcdServer

pytestmark = [pytest.mark.slow, pytest.mark.etcd]


def test_master_survives_losing_one_member(tmp_path: Path, etcd_cluster: list[EtcdServer]) -> None:
    urls = ",".join(member.url for member in etcd_cluster)
    m = start_master(tmp_path / "master", "--etcd-servers", urls)
    try:
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "before"}, "data": {"a": "1"}}
        m.kubectl("create", "-f", "-", input=json.dumps(cm))
        keys = subprocess.run(["etcdctl", "--endpoints", etcd_cluster[1].url, "get", "/registry/", "--prefix",
                               "--keys-only"], capture_output=True, text=True, env={"ETCDCTL_API": "3", "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                              timeout=30).stdout
        assert "/registry/configmaps/default/before" in keys
        assert "/registry/namespaces/kube-system" in keys

        # Kill the member the client most likely talks to (the first endpoint).
        etcd_cluster[0].process.send_signal(signal.SIGKILL)
        etcd_cluster[0].process.wait(timeout=10)

        # While the survivors elect a leader the apiserver may answer 503 ServiceUnavailable; it must
        # recover on its own, without a restart.
        deadline = time.monotonic() + 60
        while True:
            probe = m.kubectl("get", "cm", "before", check=False, timeout=30)
            if probe.returncode == 0:
                break
            assert "ServiceUnavailable" in probe.stderr or "Timeout" in probe.stderr, probe.stderr
            assert time.monotonic() < deadline, "the apiserver did not recover after losing one etcd member"
            time.sleep(0.5)
        for i in range(5):
            cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"after-{i}"}, "data": {"i": str(i)}}
            m.kubectl("create", "-f", "-", input=json.dumps(cm), timeout=90)
        names = m.kubectl("get", "cm", "-o", "name", timeout=90).stdout.split()
        assert "configmap/before" in names and "configmap/after-4" in names
        m.kubectl("label", "cm", "before", "survived=yes", timeout=90)
        assert json.loads(m.kubectl("get", "cm", "before", "-o", "json").stdout)["metadata"]["labels"] == {
            "survived": "yes"}
    finally:
        m.stop()
