"""The scheduler inside ``pictl master``: it schedules, and its metrics are on the apiserver's /metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from hw.testbed.hollow import HollowCluster
from master.client import kubeconfig
from master.client.rest import ApiClient
from tests.fixtures.apiserver import MasterProcess, admin_ssl, start_master
from tests.integration.scheduler.helpers_sched import FAST_HOLLOW, bound, pod

pytestmark = pytest.mark.slow


@pytest.fixture
def master(tmp_path: Path) -> Iterator[MasterProcess]:
    m = start_master(tmp_path / "master", "--components", "apiserver,scheduler", "--store-backend", "memory")
    try:
        yield m
    finally:
        m.stop()


async def test_in_process_scheduler(master: MasterProcess) -> None:
    config = kubeconfig.load_client_config(str(master.kubeconfig))
    async with ApiClient(config) as api, HollowCluster(api, FAST_HOLLOW) as cluster:
        await cluster.add_nodes(2)
        await api.create(pod("web"))
        assert (await bound(api, "web", within=30))["web"] in ("hollow-0", "hollow-1")
    connector = aiohttp.TCPConnector(ssl=admin_ssl(master.data_dir))
    async with aiohttp.ClientSession(connector=connector) as s, s.get(f"{master.url}/metrics") as resp:
        text = await resp.text()
    assert 'scheduler_schedule_attempts_total{profile="default-scheduler",result="scheduled"} 1.0' in text
    assert 'scheduler_pending_pods{queue="active"} 0.0' in text
    assert "apiserver_request_total" in text, "one registry: the apiserver's"
