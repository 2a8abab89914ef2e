"""Two ``pictl master --components controller-manager`` processes against one apiserver: exactly one
leads; kill -9 the leader and the other takes over (and serves its metrics on its own listener)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from master.api import apps, coordination, core, meta
from master.client import errors, kubeconfig
from master.client.rest import ApiClient
from master.controllers.manager import ControllerManager
from tests.fixtures.apiserver import PICTL, ROOT, MasterProcess, start_master
from tests.fixtures.ports import free_port
from tests.integration.controllers.conftest import StartManager, template, wait_for

pytestmark = pytest.mark.slow


@dataclass
class Manager:
    proc: subprocess.Popen[bytes]
    log: Path
    metrics_port: int

    def identity(self) -> str | None:
        m = re.search(r"leader election on kube-system/kube-controller-manager as (\S+)", self.log.read_text())
        return m.group(1) if m else None

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as resp:
            return resp.read().decode()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.fixture
def apiserver_only(tmp_path: Path) -> Iterator[MasterProcess]:
    m = start_master(tmp_path / "api", "--store-backend", "memory", components="apiserver")
    try:
        yield m
    finally:
        m.stop()


def start_manager(kubeconfig_path: Path, log: Path) -> Manager:
    port = free_port()
    cmd = [str(PICTL), "master", "--components", "controller-manager", "--kubeconfig", str(kubeconfig_path),
           "--controllers", "replicaset,serviceaccount", "--leader-elect-lease-duration", "3s",
           "--leader-elect-renew-deadline", "2s", "--leader-elect-retry-period", "0.3s",
           "--metrics-bind-address", f"127.0.0.1:{port}"]
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return Manager(proc, log, port)


async def holder(api: ApiClient) -> tuple[str, int] | None:
    try:
        lease = await api.get(coordination.Lease, "kube-controller-manager", namespace="kube-system")
    except errors.NotFound:
        return None
    return lease.spec.holder_identity or "", lease.spec.lease_transitions or 0


async def has_pods(api: ApiClient, app: str, n: int) -> bool:
    return len((await api.list(core.Pod, namespace="default", label_selector=f"app={app}")).items) == n


def replicaset(name: str, replicas: int) -> apps.ReplicaSet:
    lbls = {"app": name}
    return apps.ReplicaSet(
        metadata=meta.ObjectMeta(name=name, namespace="default"),
        spec=apps.ReplicaSetSpec(replicas=replicas, selector=meta.LabelSelector(match_labels=lbls),
                                 template=template(lbls)),
    )


async def test_leader_handover_when_the_leader_is_killed(apiserver_only: MasterProcess, tmp_path: Path) -> None:
    managers = [start_manager(apiserver_only.kubeconfig, tmp_path / f"cm{i}.log") for i in range(2)]
    try:
        async with ApiClient(kubeconfig.load_client_config(str(apiserver_only.kubeconfig))) as api:
            async def identities() -> list[str | None] | None:
                ids = [m.identity() for m in managers]
                return ids if all(ids) else None

            ids = await wait_for(identities)
            first = await wait_for(lambda: holder(api))
            assert first[0] in ids
            leader = managers[ids.index(first[0])]
            standby = managers[1 - ids.index(first[0])]

            await api.create(replicaset("one", 2))
            await wait_for(lambda: has_pods(api, "one", 2))
            text = leader.metrics()
            assert 'workqueue_depth{name="replicaset"}' in text
            assert 'controller_sync_duration_seconds_count{controller="replicaset"}' in text
            assert "controller_manager_leader 1.0" in text
            assert "controller_manager_leader 0.0" in standby.metrics()

            leader.proc.send_signal(signal.SIGKILL)
            leader.proc.wait(timeout=10)

            async def taken_over() -> bool:
                h = await holder(api)
                return h is not None and h[0] == standby.identity() and h[1] > first[1]

            await wait_for(taken_over)
            await api.create(replicaset("two", 3))
            await wait_for(lambda: has_pods(api, "two", 3))
            assert "controller_manager_leader 1.0" in standby.metrics()
    finally:
        for m in managers:
            m.stop()




async def test_in_process_managers_one_active_and_release_on_stop(
    client: ApiClient, start_manager: StartManager
) -> None:
    a = await start_manager(controllers=("serviceaccount",), leader_elect=True, identity="a")
    b = await start_manager(controllers=("serviceaccount",), leader_elect=True, identity="b", wait=False)
    await asyncio.sleep(1.0)  # several retry periods: b must stay a follower
    assert a.is_active() and not b.is_active()
    assert (await holder(client))[0] == "a"  # type: ignore[index]
    assert a.elector is not None and a.elector.is_leader()
    await start_manager.stop(a)
    await wait_for(lambda: _active(b))
    h = await holder(client)
    assert h is not None and h[0] == "b" and h[1] == 1


async def _active(m: ControllerManager) -> bool:
    return m.is_active()
