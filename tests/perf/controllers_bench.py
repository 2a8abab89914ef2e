"""Controller-manager benchmark: how long the controllers take to converge on hollow nodes.

A fresh ``pictl master --components apiserver`` process, a second process with the
controller-manager and the scheduler (``pictl master --components controller-manager,scheduler
--kubeconfig ...``, leader election on), and hollow nodes in this process that mark pods Running
and confirm deletions. Phases, each timed from the API write to convergence as read back from
the API (polled every 50 ms):

1. create: a Deployment of ``--replicas`` (default 500) pods -> every replica available;
2. rollout: a new image (maxSurge 25%, maxUnavailable 25%) -> rolled out (kubectl's test);
3. node failure: one node stops heartbeating (grace 4 s, monitor period 1 s, pods tolerate
   unreachable for 2 s) -> node tainted, -> replacements running elsewhere;
4. scale to 0 -> every pod gone.

Also reported: the controller-manager process's CPU seconds and peak RSS (it shares the process
with the scheduler). Results: a table on stdout and tests/perf/results/controllers_bench.json.
No assertions.

    .venv/bin/python tests/perf/controllers_bench.py [--nodes 50] [--replicas 500] [--runs 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from hw.testbed.hollow import HollowCluster, HollowSettings  # noqa: E402
from master.api import apps, core, meta  # noqa: E402
from master.client import errors, kubeconfig  # noqa: E402
from master.client.rest import ApiClient  # noqa: E402
from tests.fixtures.apiserver import PICTL, start_master  # noqa: E402
from tests.fixtures.ports import free_port  # noqa: E402

RESULTS = ROOT / "tests" / "perf" / "results" / "controllers_bench.json"
UNREACHABLE = "node.kubernetes.io/unreachable"


def deployment(replicas: int, image: str) -> apps.Deployment:
    lbls = {"app": "bench"}
    tolerations = [core.Toleration(key=UNREACHABLE, operator="Exists", effect="NoExecute", toleration_seconds=2)]
    return apps.Deployment(
        metadata=meta.ObjectMeta(name="bench", namespace="default"),
        spec=apps.DeploymentSpec(
            replicas=replicas, selector=meta.LabelSelector(match_labels=lbls),
            template=core.PodTemplateSpec(
                metadata=meta.ObjectMeta(labels=lbls),
                spec=core.PodSpec(containers=[core.Container(name="c", image=image)], tolerations=tolerations),
            ),
        ),
    )


async def until(cond: Callable[[], Awaitable[bool]], within: float = 600.0) -> float:
    start = time.monotonic()
    async with asyncio.timeout(within):
        while True:
            if await cond():
                return time.monotonic() - start
            await asyncio.sleep(0.05)


async def rolled_out(api: ApiClient, replicas: int) -> bool:
    d = await api.get(apps.Deployment, "bench")
    st = d.status
    return (d.metadata.generation <= st.observed_generation and st.updated_replicas == replicas
            and st.replicas == replicas and st.available_replicas == replicas)


def start_components(kubeconfig_path: Path, log: Path) -> subprocess.Popen[bytes]:
    cmd = [str(PICTL), "master", "--components", "controller-manager,scheduler", "--kubeconfig", str(kubeconfig_path),
           "--metrics-bind-address", f"127.0.0.1:{free_port()}", "--node-monitor-period", "1s",
           "--node-monitor-grace-period", "4s", "--node-eviction-rate", "10", "--log-level", "warning"]
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})


async def one_run(nodes: int, replicas: int, work: Path) -> dict[str, Any]:
    master = start_master(work / "api", "--store-backend", "memory", components="apiserver")
    proc = start_components(master.kubeconfig, work / "components.log")
    ps = psutil.Process(proc.pid)
    peak_rss = 0
    out: dict[str, Any] = {"nodes": nodes, "replicas": replicas}
    try:
        async with ApiClient(kubeconfig.load_client_config(str(master.kubeconfig))) as api:
            settings = HollowSettings(heartbeat_period=1.0, lease_duration=10, status_period=2.0, pod_workers=16)
            async with HollowCluster(api, settings) as cluster:
                await cluster.add_nodes(nodes)
                cpu0 = sum(ps.cpu_times()[:2])

                await api.create(deployment(replicas, "img:1"))
                out["create_s"] = await until(lambda: rolled_out(api, replicas))
                peak_rss = max(peak_rss, ps.memory_info().rss)

                await api.patch(apps.Deployment, "bench", {"spec": {"template": {"spec": {"containers": [
                    {"name": "c", "image": "img:2"}]}}}}, patch_type="strategic")
                out["rollout_s"] = await until(lambda: rolled_out(api, replicas))
                peak_rss = max(peak_rss, ps.memory_info().rss)

                pods = (await api.list(core.Pod, namespace="default", label_selector="app=bench")).items
                victim = max(cluster.nodes, key=lambda n: sum(1 for p in pods if p.spec.node_name == n))
                lost = sum(1 for p in pods if p.spec.node_name == victim)
                cluster.node(victim).stop()

                async def tainted() -> bool:
                    node = await api.get(core.Node, victim)
                    return any(t.key == UNREACHABLE and t.effect == "NoExecute" for t in node.spec.taints)

                async def replaced() -> bool:
                    cur = (await api.list(core.Pod, namespace="default", label_selector="app=bench")).items
                    live = [p for p in cur if not p.metadata.deletion_timestamp and p.status.phase == "Running"
                            and p.spec.node_name != victim]
                    return len(live) == replicas

                out["node_pods"] = lost
                out["failure_to_taint_s"] = await until(tainted)
                out["failure_to_replaced_s"] = out["failure_to_taint_s"] + await until(replaced)

                await api.patch(apps.Deployment, "bench", {"spec": {"replicas": 0}})

                async def empty() -> bool:
                    cur = (await api.list(core.Pod, namespace="default", label_selector="app=bench")).items
                    return all(p.spec.node_name == victim for p in cur)

                out["scale_to_zero_s"] = await until(empty)
                peak_rss = max(peak_rss, ps.memory_info().rss)
                out["cm_cpu_s"] = sum(ps.cpu_times()[:2]) - cpu0
                out["cm_peak_rss_mib"] = peak_rss / 2**20
                await cluster.delete_nodes()
    except errors.ClientError as exc:
        out["error"] = str(exc)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        master.stop()
    return out


def median(values: list[float]) -> float:
    s = sorted(values)
    return s[len(s) // 2] if s else float("nan")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--replicas", type=int, default=500)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    runs = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="cm-bench-") as tmp:
            runs.append(await one_run(args.nodes, args.replicas, Path(tmp)))
            print(f"run {i + 1}: {runs[-1]}", flush=True)
    keys = ["create_s", "rollout_s", "failure_to_taint_s", "failure_to_replaced_s", "scale_to_zero_s", "cm_cpu_s",
            "cm_peak_rss_mib"]
    summary = {k: median([r[k] for r in runs if k in r]) for k in keys}
    print(f"\ncontroller-manager + scheduler, {args.nodes} hollow nodes, {args.replicas} replicas "
          f"(median of {args.runs})")
    for k in keys:
        print(f"  {k:24} {summary[k]:10.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "nodes": args.nodes, "replicas": args.replicas, "runs": runs, "median": summary,
    }, indent=2) + "\n")
    print(f"results: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())
