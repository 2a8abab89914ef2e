"""FakeRuntime against the Runtime contract."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.kubelet.cri.fake import FakeImage, FakeRuntime
from agent.kubelet.cri.runtime import Runtime
from tests.unit.agent.kubelet.cri_contract.contract import Harness, RuntimeContract


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    rt = FakeRuntime()
    rt.add_remote_image("docker.io/library/nginx:1.25")
    rt.add_image(FakeImage("localhost/scratch:1", cmd=("sh",), size=4096))

    async def reconnect() -> Runtime:
        return rt

    async def power_cycle() -> None:
        rt.power_cycle()

    h = Harness(
        runtime=rt,
        log_root=tmp_path,
        reconnect=reconnect,
        power_cycle=power_cycle,
        pullable="nginx:1.25",
        removable_image="localhost/scratch:1",
    )
    yield h
    await h.cleanup()
    await rt.close()


class TestFakeRuntime(RuntimeContract):
    pass
