"""CRI latency on a real containerd (one testbed node) and on the fake, as a table.

    .venv/bin/python tests/perf/bench_cri.py [--rounds 20]

For each round: run a sandbox, create and start a busybox container, exec ``true`` in it,
read its status, list sandboxes and containers, stop the container (grace 0), stop and remove
the sandbox. Prints the median and p90 of each step in milliseconds and writes
tests/perf/results/cri.json. A benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from agent.kubelet.cri import ContainerConfig, Runtime, SandboxConfig
from agent.kubelet.cri.containerd import ContainerdRuntime
from agent.kubelet.cri.fake import FakeRuntime
from hw.testbed import Testbed

RESULTS = Path(__file__).parent / "results" / "cri.json"
STEPS = (
    "run_sandbox",
    "create+start",
    "exec_sync",
    "container_status",
    "list_sandboxes",
    "list_containers",
    "stop_container",
    "stop+remove_sandbox",
)


async def _timed(samples: dict[str, list[float]], step: str, call: Callable[[], Awaitable[Any]]) -> Any:
    t0 = time.perf_counter()
    value = await call()
    samples[step].append((time.perf_counter() - t0) * 1000)
    return value


async def bench(rt: Runtime, rounds: int, log_root: Path) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {s: [] for s in STEPS}
    for i in range(rounds):
        name = f"bench-{i}-{uuid.uuid4().hex[:6]}"
        sc = SandboxConfig(
            name=name,
            uid=uuid.uuid4().hex,
            namespace="bench",
            hostname=name,
            log_directory=str(log_root / name),
        )
        sid = await _timed(samples, "run_sandbox", lambda sc=sc: rt.run_sandbox(sc))
        cc = ContainerConfig(
            name="app", image="localhost/busybox:latest", command=("sleep", "3600"), log_path="app/0.log"
        )

        async def create_start(sid: str = sid, sc: SandboxConfig = sc, cc: ContainerConfig = cc) -> str:
            cid = await rt.create_container(sid, cc, sc)
            await rt.start_container(cid)
            return cid

        cid = await _timed(samples, "create+start", create_start)
        await _timed(samples, "exec_sync", lambda cid=cid: rt.exec_sync(cid, ["true"], timeout_seconds=10))
        await _timed(samples, "container_status", lambda cid=cid: rt.container_status(cid))
        await _timed(samples, "list_sandboxes", rt.list_sandboxes)
        await _timed(samples, "list_containers", rt.list_containers)
        await _timed(samples, "stop_container", lambda cid=cid: rt.stop_container(cid, grace_period=0))

        async def teardown(sid: str = sid) -> None:
            await rt.stop_sandbox(sid)
            await rt.remove_sandbox(sid)

        await _timed(samples, "stop+remove_sandbox", teardown)
    return samples


def _summary(samples: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    out = {}
    for step, values in samples.items():
        ordered = sorted(values)
        out[step] = {
            "median_ms": round(statistics.median(ordered), 2),
            "p90_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], 2),
            "n": len(ordered),
        }
    return out


async def main(rounds: int) -> None:
    tb = Testbed(f"bench-cri-{uuid.uuid4().hex[:4]}")
    log_root = Path(f"/tmp/picluster-bench-cri-{uuid.uuid4().hex[:6]}")
    try:
        await asyncio.to_thread(tb.up, nodes=1, master=False, agents=False)
        real = ContainerdRuntime(tb.node("pi-1").containerd_address)
        version = await real.version()
        containerd = _summary(await bench(real, rounds, log_root))
        await real.close()
        fake = FakeRuntime()
        faked = _summary(await bench(fake, rounds, log_root))
        await fake.close()
    finally:
        await asyncio.to_thread(tb.down)
        await asyncio.to_thread(shutil.rmtree, log_root, ignore_errors=True)
    print(f"CRI latency, {rounds} rounds, {version.node_string} (ms)")
    print(f"{'step':<22}{'containerd median':>18}{'p90':>10}{'fake median':>14}")
    for step in STEPS:
        c, f = containerd[step], faked[step]
        print(f"{step:<22}{c['median_ms']:>18.2f}{c['p90_ms']:>10.2f}{f['median_ms']:>14.3f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"runtime": version.node_string, "rounds": rounds, "containerd": containerd, "fake": faked},
            indent=2,
        )
        + "\n"
    )
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    asyncio.run(main(parser.parse_args().rounds))
