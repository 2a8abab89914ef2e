"""Real kubectl against ``pictl master`` (apiserver, controller-manager and scheduler in one process) with
hollow nodes: ``kubectl rollout status|history|undo``, ``kubectl scale``, and the controllers' metrics on
the apiserver's /metrics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hw.testbed.hollow import HollowCluster, HollowSettings
from master.client import kubeconfig
from master.client.rest import ApiClient
from tests.fixtures.apiserver import MasterProcess, start_master

pytestmark = pytest.mark.slow

MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    kubernetes.io/change-cause: first
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: busybox:1
"""


@pytest.fixture
def master(tmp_path: Path) -> Iterator[MasterProcess]:
    m = start_master(tmp_path / "master", "--store-backend", "memory", "--node-monitor-grace-period", "20s",
                     components="apiserver,controller-manager,scheduler")
    try:
        yield m
    finally:
        m.stop()


@pytest.fixture
async def nodes(master: MasterProcess) -> AsyncIterator[HollowCluster]:
    settings = HollowSettings(heartbeat_period=1.0, lease_duration=10, status_period=5)
    async with (ApiClient(kubeconfig.load_client_config(str(master.kubeconfig))) as api,
                HollowCluster(api, settings) as cluster):
        await cluster.add_nodes(3)
        yield cluster


async def kubectl(master: MasterProcess, *args: str, check: bool = True) -> str:
    """kubectl in a thread, so the hollow nodes of this event loop keep running meanwhile."""
    result = await asyncio.to_thread(master.kubectl, *args, check=check, timeout=90)
    return result.stdout + result.stderr


async def test_kubectl_rollout_status_history_undo(master: MasterProcess, nodes: HollowCluster) -> None:
    await asyncio.to_thread(master.kubectl, "apply", "-f", "-", input=MANIFEST)
    out = await kubectl(master, "rollout", "status", "deployment/web", "--timeout=60s")
    assert 'deployment "web" successfully rolled out' in out

    await kubectl(master, "set", "image", "deployment/web", "web=busybox:2")
    await kubectl(master, "annotate", "deployment/web", "kubernetes.io/change-cause=second", "--overwrite")
    out = await kubectl(master, "rollout", "status", "deployment/web", "--timeout=60s")
    assert "successfully rolled out" in out

    history = await kubectl(master, "rollout", "history", "deployment/web")
    assert "1         first" in history and "2         second" in history

    out = await kubectl(master, "rollout", "undo", "deployment/web")
    assert "rolled back" in out
    out = await kubectl(master, "rollout", "status", "deployment/web", "--timeout=60s")
    assert "successfully rolled out" in out
    image = await kubectl(master, "get", "deployment/web", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
    assert image.strip() == "busybox:1"
    history = await kubectl(master, "rollout", "history", "deployment/web")
    assert "3         first" in history and "1  " not in history.split("REVISION")[1].splitlines()[1]

    await kubectl(master, "scale", "deployment/web", "--replicas=5")
    out = await kubectl(master, "rollout", "status", "deployment/web", "--timeout=60s")
    assert "successfully rolled out" in out
    d = json.loads(await kubectl(master, "get", "deployment/web", "-o", "json"))
    assert d["status"]["availableReplicas"] == 5 and d["status"]["updatedReplicas"] == 5

    metrics = await kubectl(master, "get", "--raw", "/metrics")
    assert 'controller_sync_duration_seconds_count{controller="deployment"}' in metrics
    assert 'workqueue_adds_total{name="replicaset"}' in metrics
    assert "controller_manager_leader 1.0" in metrics
