"""Real containerd for the CRI tests: one simulated Pi (``hw.testbed``, no master, no agent)
per test session, removed at the end even when tests fail.

Each test gets a fresh ``ContainerdRuntime`` on pi-1's socket and removes the sandboxes it ran.
Pod cgroups that a test asks for under ``cgroup_parent`` are removed by that test.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from agent.kubelet.cri import UnavailableError
from agent.kubelet.cri.containerd import ContainerdRuntime
from agent.kubelet.cri.runtime import Runtime
from hw import images
from hw.testbed import Testbed

pytest.register_assert_rewrite("tests.unit.agent.kubelet.cri_contract.contract")

from tests.unit.agent.kubelet.cri_contract.contract import Harness  # noqa: E402

REMOVABLE = "localhost/cri-removable:1"


def _removable_archive() -> Path:
    return images.build_image("localhost/cri-removable", "1", files={"/marker": "x\n"}, cmd=["sh"])


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces, containerd)"
    for tool in ("containerd", "runc", "ctr", "nsenter"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    if not Path("/usr/lib/cni/bridge").exists():
        return "needs the CNI plugins in /usr/lib/cni"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    reason = _missing()
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.containerd)
            item.add_marker(pytest.mark.root)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def cri_testbed() -> Iterator[Testbed]:
    tb = Testbed(f"cri-{uuid.uuid4().hex[:6]}")
    try:
        tb.up(nodes=1, master=False, agents=False, images=[_removable_archive()])
        yield tb
    finally:
        tb.down()


@pytest.fixture
def pi1_address(cri_testbed: Testbed) -> str:
    return cri_testbed.node("pi-1").containerd_address


@pytest.fixture
async def harness(pi1_address: str, cri_testbed: Testbed, tmp_path: Path) -> AsyncIterator[Harness]:
    rt = ContainerdRuntime(pi1_address)
    extra: list[ContainerdRuntime] = []

    async def reconnect() -> Runtime:
        again = ContainerdRuntime(pi1_address)
        extra.append(again)
        return again

    async def power_cycle() -> None:
        await asyncio.to_thread(cri_testbed.fault, "pi-1", "power-off")
        await asyncio.to_thread(cri_testbed.fault, "pi-1", "power-on")
        deadline = time.monotonic() + 60
        while True:
            try:
                await rt.version()
                return
            except UnavailableError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)

    if await rt.image_status(REMOVABLE) is None:  # the image removal test deleted it
        cri_testbed.import_images(_removable_archive())
    h = Harness(
        runtime=rt, log_root=tmp_path, reconnect=reconnect, power_cycle=power_cycle, removable_image=REMOVABLE
    )
    try:
        yield h
    finally:
        await h.cleanup()
        for c in [rt, *extra]:
            await c.close()
