"""``pictl master --etcd-servers`` on a 3-member real etcd cluster, one member killed mid-test."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.apiserver import start_master
from tests.fixtures.ports import free_port

pytestmark = [pytest.mark.slow, pytest.mark.etcd]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as resp:
            return bool(json.loads(resp.read()).get("health") == "true")
    except (OSError, ValueError):
        return False


@pytest.fixture
def etcd_cluster(tmp_path: Path) -> Iterator[list[tuple[str, subprocess.Popen[bytes]]]]:
    binary = shutil.which("etcd")
    if binary is None:
        pytest.skip("the etcd binary is not installed (Debian package etcd-server)")
    names = ("e1", "e2", "e3")
    ports = {n: (free_port(), free_port()) for n in names}
    cluster = ",".join(f"{n}=http://127.0.0.1:{ports[n][1]}" for n in names)
    members: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        for n in names:
            client, peer = ports[n]
            with open(tmp_path / f"{n}.log", "wb") as log:
                proc = subprocess.Popen([
                    binary, "--name", n, "--data-dir", str(tmp_path / f"{n}.etcd"),
                    "--listen-client-urls", f"http://127.0.0.1:{client}",
                    "--advertise-client-urls", f"http://127.0.0.1:{client}",
                    "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                    "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                    "--initial-cluster", cluster, "--initial-cluster-state", "new",
                    "--initial-cluster-token", "picluster-test",
                ], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            members.append((f"http://127.0.0.1:{client}", proc))
        deadline = time.monotonic() + 60
        while not all(_healthy(url) for url, _ in members):
            if time.monotonic() > deadline:
                raise RuntimeError("the etcd cluster did not become healthy")
            time.sleep(0.2)
        yield members
    finally:
        for _, proc in members:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)


def test_master_survives_losing_one_member(tmp_path: Path, etcd_cluster: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    urls = ",".join(url for url, _ in etcd_cluster)
    m = start_master(tmp_path / "master", "--etcd-servers", urls)
    try:
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "before"}, "data": {"a": "1"}}
        m.kubectl("create", "-f", "-", input=json.dumps(cm))
        keys = subprocess.run(["etcdctl", "--endpoints", etcd_cluster[1][0], "get", "/registry/", "--prefix",
                               "--keys-only"], capture_output=True, text=True, env={"ETCDCTL_API": "3", "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                              timeout=30).stdout
        assert "/registry/configmaps/default/before" in keys
        assert "/registry/namespaces/kube-system" in keys

        # Kill the member the client most likely talks to (the first endpoint).
        etcd_cluster[0][1].send_signal(signal.SIGKILL)
        etcd_cluster[0][1].wait(timeout=10)

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
