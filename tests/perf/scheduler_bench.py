"""Scheduler benchmark, after upstream scheduler_perf's "SchedulingBasic".

For each node count (default 100 and 500) it starts a fresh ``pictl master --components
apiserver`` (a separate process), registers that many hollow nodes in a second process
(8 cpu, 32Gi, 110 pods each; leases renewed; pods left Pending as scheduler_perf does, unless
``--run-pods``), then:

1. throughput: creates ``--pods`` (5000) pending pods (100m cpu, 500Mi each) with no scheduler
   running, starts the scheduler in this process and times until all are bound. Prints pods/s,
   and p50/p99 of the per-attempt latency (pop from the queue -> binding written) and of the
   algorithm alone (filter + score), and the scheduler process's CPU time per pod (1000 / that
   is what the scheduler alone could do; the apiserver is usually the limit) and the apiserver
   process's CPU time per pod (per binding, with its watch events; and per pod creation);
2. latency: creates 500 more pods at a steady 100 pods/s while the scheduler runs and reports
   p50/p99 of creation -> bound (as the scheduler's pod informer sees it);
3. workload: a 300-replica Deployment, from its creation to all 300 pods bound, when the
   controller-manager exists in this build (started then as a third process, ``pictl master
   --components controller-manager``, after phases 1 and 2, which like scheduler_perf run
   without controllers); otherwise 300 bare pods created at once.

Results go to a table on stdout and tests/perf/results/scheduler_bench.json. No assertions.

    .venv/bin/python tests/perf/scheduler_bench.py [--nodes 100,500] [--pods 5000]
        [--store-backend sqlite|memory] [--run-pods] [--event-loop auto|uvloop|asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from hw.testbed.hollow import HollowCluster, HollowSettings  # noqa: E402
from master.api import apps, core, meta  # noqa: E402
from master.client import errors, kubeconfig  # noqa: E402
from master.client.rest import ApiClient  # noqa: E402
from master.scheduler.config import SchedulerConfig  # noqa: E402
from master.scheduler.scheduler import Scheduler  # noqa: E402
from master.util import eventloop  # noqa: E402
from tests.fixtures.apiserver import start_master  # noqa: E402
from tests.perf.stats import pct  # noqa: E402

RESULTS = ROOT / "tests" / "perf" / "results" / "scheduler_bench.json"
# scheduler_perf's node and pod templates, but 8 cpu (not 4) so 100 nodes hold 5000 pods.
NODE_CPU, NODE_MEMORY, NODE_PODS = "8", "32Gi", 110
POD_CPU, POD_MEMORY = "100m", "500Mi"
STEADY_PODS, STEADY_RATE = 500, 100.0
WORKLOAD_REPLICAS = 300


def bench_pod(name: str, labels: dict[str, str] | None = None) -> core.Pod:
    return core.Pod(
        metadata=meta.ObjectMeta(name=name, namespace="default", labels=labels or {"bench": "basic"}),
        spec=core.PodSpec(containers=[core.Container(
            name="c", image="registry.k8s.io/pause:3.10",
            resources=core.ResourceRequirements(requests={"cpu": POD_CPU, "memory": POD_MEMORY}),
        )]),
    )


async def create_pods(api: ApiClient, names: list[str], concurrency: int = 32) -> None:
    sem = asyncio.Semaphore(concurrency)

    async def one(name: str) -> None:
        async with sem:
            await api.create(bench_pod(name))

    await asyncio.gather(*(one(n) for n in names))


# ---- the hollow-node process ---------------------------------------------------------------


async def hollow_main(kubeconfig_path: str, nodes: int, run_pods: bool) -> None:
    config = kubeconfig.load_client_config(kubeconfig_path)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    settings = HollowSettings(mark_running=run_pods, status_period=0)
    async with ApiClient(config) as api, HollowCluster(api, settings) as cluster:
        await cluster.add_nodes(nodes, zones=("zone-a", "zone-b", "zone-c"), cpu=NODE_CPU, memory=NODE_MEMORY,
                                pods=NODE_PODS)
        print("ready", flush=True)
        await stop.wait()


def start_hollow(kubeconfig_path: Path, nodes: int, run_pods: bool, log: Path, loop: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, __file__, "--hollow-child", str(kubeconfig_path), "--nodes", str(nodes), "--event-loop", loop]
    if run_pods:
        cmd.append("--run-pods")
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=out, cwd=ROOT)


def wait_ready(proc: subprocess.Popen[bytes], timeout: float) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    os.set_blocking(proc.stdout.fileno(), False)
    buf = b""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"hollow nodes exited with {proc.returncode}")
        chunk = proc.stdout.read()
        if chunk:
            buf += chunk
            if b"ready" in buf:
                return
        time.sleep(0.1)
    raise RuntimeError("hollow nodes did not register in time")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# ---- one round -----------------------------------------------------------------------------


def cpu_s(pid: int) -> float:
    """User + system CPU seconds process ``pid`` has used so far."""
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


async def measure(kubeconfig_path: Path, nodes: int, pods: int, start_controllers: Any,
                  master_pid: int) -> dict[str, Any]:
    config = kubeconfig.load_client_config(str(kubeconfig_path))
    out: dict[str, Any] = {"nodes": nodes, "pods": pods}
    async with ApiClient(config) as api:
        t0, master_cpu = time.perf_counter(), cpu_s(master_pid)
        await create_pods(api, [f"basic-{i:05d}" for i in range(pods)])
        out["create_pods_s"] = round(time.perf_counter() - t0, 2)
        out["apiserver_cpu_ms_per_create"] = round((cpu_s(master_pid) - master_cpu) * 1000 / pods, 3)

        bound_at: dict[str, float] = {}
        # Bound pods of the workload's Deployment, counted as they bind (scanning the informer's
        # ~6000 pods every 20 ms cost this process, the scheduler, about as much CPU as scheduling
        # the 300 pods did).
        deployment_bound: set[str] = set()

        def on_update(old: core.Pod, new: core.Pod) -> None:
            if new.spec.node_name and not old.spec.node_name:
                bound_at[new.metadata.name] = time.perf_counter()
                if new.metadata.labels.get("app") == "bench-deploy":
                    deployment_bound.add(new.metadata.name)

        def on_add(p: core.Pod) -> None:
            if p.spec.node_name:
                bound_at.setdefault(p.metadata.name, time.perf_counter())
                if p.metadata.labels.get("app") == "bench-deploy":
                    deployment_bound.add(p.metadata.name)

        sched = Scheduler(api, config=SchedulerConfig())
        sched.pod_informer.add_event_handler(on_add=on_add, on_update=on_update)
        # As ``pictl master`` does once its components have started: what lives for the whole
        # process is left out of the collector's full passes.
        gc.collect()
        gc.freeze()
        task = asyncio.create_task(sched.run())
        try:
            await sched.pod_informer.wait_synced()
            await sched.node_informer.wait_synced()
            t_start, cpu_start, master_cpu = time.perf_counter(), time.process_time(), cpu_s(master_pid)
            await _until_progress(lambda: sched.scheduled, pods, stall=60)
            elapsed = time.perf_counter() - t_start
            # This process is the scheduler (its informers, loop, bindings) and nothing else.
            out["scheduler_cpu_ms_per_pod"] = round((time.process_time() - cpu_start) * 1000 / pods, 3)
            # The apiserver process (the store in it): bindings, their watch events, the informers' lists.
            out["apiserver_cpu_ms_per_pod"] = round((cpu_s(master_pid) - master_cpu) * 1000 / pods, 3)
            attempt = _histogram_samples(sched, "scheduler_scheduling_attempt_duration_seconds")
            algo = _histogram_samples(sched, "scheduler_scheduling_algorithm_duration_seconds")
            out["throughput_pods_per_s"] = round(pods / elapsed, 1)
            out["throughput_elapsed_s"] = round(elapsed, 2)
            out["attempt_p50_ms"], out["attempt_p99_ms"] = attempt
            out["algorithm_p50_ms"], out["algorithm_p99_ms"] = algo
            out["failed_attempts"] = sched.failed

            # Let the watchers (this informer, the hollow nodes') drain the burst first.
            await _until(lambda: len(bound_at) >= pods, 120)
            await asyncio.sleep(2)

            # Steady arrivals: creation -> bound latency.
            created: dict[str, float] = {}
            period = 1.0 / STEADY_RATE
            next_t = time.perf_counter()
            names = [f"steady-{i:04d}" for i in range(STEADY_PODS)]

            async def create_one(name: str) -> None:
                created[name] = time.perf_counter()
                await api.create(bench_pod(name))

            creates = []
            for name in names:
                creates.append(asyncio.create_task(create_one(name)))
                next_t += period
                await asyncio.sleep(max(0.0, next_t - time.perf_counter()))
            await asyncio.gather(*creates)
            await _until(lambda: all(n in bound_at for n in names), 120)
            lat = [(bound_at[n] - created[n]) * 1000 for n in names]
            out["steady_rate_pods_per_s"] = STEADY_RATE
            out["e2e_p50_ms"] = round(pct(lat, 0.5), 1)
            out["e2e_p99_ms"] = round(pct(lat, 0.99), 1)

            # Workload: a 300-replica Deployment (or 300 bare pods without the controllers).
            controllers = await asyncio.to_thread(start_controllers)
            t0 = time.perf_counter()
            if controllers:
                await api.create(_deployment(WORKLOAD_REPLICAS))

                def done() -> bool:
                    return len(deployment_bound) >= WORKLOAD_REPLICAS

                out["workload"] = f"Deployment with {WORKLOAD_REPLICAS} replicas"
            else:
                wl = [f"wl-{i:03d}" for i in range(WORKLOAD_REPLICAS)]
                await create_pods(api, wl)

                def done() -> bool:
                    return all(n in bound_at for n in wl)

                out["workload"] = f"{WORKLOAD_REPLICAS} bare pods (no controller-manager in this build)"
            await _until(done, 300)
            out["workload_all_bound_s"] = round(time.perf_counter() - t0, 2)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return out


def _deployment(replicas: int) -> apps.Deployment:
    labels = {"app": "bench-deploy"}
    return apps.Deployment(
        metadata=meta.ObjectMeta(name="bench-deploy", namespace="default"),
        spec=apps.DeploymentSpec(
            replicas=replicas,
            selector=meta.LabelSelector(match_labels=labels),
            template=core.PodTemplateSpec(
                metadata=meta.ObjectMeta(labels=labels),
                spec=bench_pod("x").spec,
            ),
        ),
    )


async def _until(cond: Any, within: float) -> None:
    async with asyncio.timeout(within):
        while True:
            if cond():
                return
            await asyncio.sleep(0.02)


async def _until_progress(count: Any, target: int, *, stall: float) -> None:
    """Wait until ``count() >= target``; fail if it does not move for ``stall`` seconds."""
    last, last_change = count(), time.perf_counter()
    while last < target:
        await asyncio.sleep(0.05)
        now = count()
        if now != last:
            last, last_change = now, time.perf_counter()
        elif time.perf_counter() - last_change > stall:
            raise RuntimeError(f"stuck at {now}/{target} bound pods for {stall:g} s")


def _histogram_samples(sched: Scheduler, name: str) -> tuple[float, float]:
    """p50/p99 in ms, interpolated from the histogram's buckets (the metric the scheduler exports)."""
    buckets: dict[float, float] = {}
    for family in sched.metrics.registry.collect():
        if family.name != name:
            continue
        for s in family.samples:
            if s.name.endswith("_bucket") and s.labels.get("result", "scheduled") == "scheduled":
                le = float(s.labels["le"])
                buckets[le] = buckets.get(le, 0.0) + s.value
    if not buckets:
        return float("nan"), float("nan")
    edges = sorted(buckets)
    total = buckets[edges[-1]]

    def quantile(q: float) -> float:
        rank = q * total
        prev_edge, prev_count = 0.0, 0.0
        for edge in edges:
            count = buckets[edge]
            if count >= rank:
                if edge == float("inf"):
                    return prev_edge * 1000
                frac = (rank - prev_count) / (count - prev_count) if count > prev_count else 1.0
                return (prev_edge + (edge - prev_edge) * frac) * 1000
            prev_edge, prev_count = edge, count
        return prev_edge * 1000

    return round(quantile(0.5), 2), round(quantile(0.99), 2)


def has_controller_manager() -> bool:
    from master.cli import master_cmd

    return any(not callable(when) and when == "controller-manager" for when, _ in master_cmd.COMPONENTS)


def start_controller_manager(kubeconfig_path: Path, log: Path) -> subprocess.Popen[bytes] | None:
    """``pictl master --components controller-manager``, once it logged "ready"; None without one."""
    if not has_controller_manager():
        return None
    pictl = ROOT / ".venv" / "bin" / "pictl"
    cmd = [str(pictl), "master", "--components", "controller-manager", "--kubeconfig", str(kubeconfig_path),
           "--no-leader-elect", "--metrics-bind-address", "off"]
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"controller-manager exited with {proc.returncode}:\n{log.read_text()}")
        if "master: ready" in log.read_text():
            return proc
        time.sleep(0.1)
    stop_process(proc)
    raise RuntimeError("the controller-manager did not start in time")


def run_round(nodes: int, pods: int, backend: str, run_pods: bool, workdir: Path, loop: str) -> dict[str, Any]:
    master = start_master(workdir / f"master-{nodes}", "--components", "apiserver", "--store-backend", backend)
    procs: list[subprocess.Popen[bytes]] = []

    def controllers() -> bool:
        proc = start_controller_manager(master.kubeconfig, workdir / f"controllers-{nodes}.log")
        if proc is not None:
            procs.append(proc)
        return proc is not None

    try:
        procs.append(start_hollow(master.kubeconfig, nodes, run_pods, workdir / f"hollow-{nodes}.log", loop))
        wait_ready(procs[0], 300)
        result = eventloop.run(measure(master.kubeconfig, nodes, pods, controllers, master.proc.pid), loop=loop)
        result["store_backend"] = backend
        result["hollow_pods_running"] = run_pods
        result["event_loop"] = loop
        return result
    finally:
        for proc in procs:
            stop_process(proc)
        master.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", default="100,500")
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--store-backend", default="sqlite", choices=("sqlite", "memory"))
    parser.add_argument("--run-pods", action="store_true", help="hollow nodes mark bound pods Running")
    parser.add_argument("--event-loop", default="auto", choices=eventloop.LOOPS,
                        help="the scheduler's and hollow nodes' loop (auto: uvloop when installed, as pictl master)")
    parser.add_argument("--hollow-child", metavar="KUBECONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hollow_child:
        eventloop.run(hollow_main(args.hollow_child, int(args.nodes), args.run_pods), loop=args.event_loop)
        return
    workdir = Path(tempfile.mkdtemp(prefix="scheduler-bench-"))
    rows = []
    try:
        for n in (int(x) for x in args.nodes.split(",")):
            print(f"-- {n} hollow nodes, {args.pods} pods ...", flush=True)
            rows.append(run_round(n, args.pods, args.store_backend, args.run_pods, workdir, args.event_loop))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    cols = [
        ("nodes", "nodes"), ("pods", "pods"), ("throughput_pods_per_s", "pods/s"),
        ("attempt_p50_ms", "attempt p50 ms"), ("attempt_p99_ms", "attempt p99 ms"),
        ("algorithm_p50_ms", "algo p50 ms"), ("algorithm_p99_ms", "algo p99 ms"),
        ("e2e_p50_ms", "e2e p50 ms"), ("e2e_p99_ms", "e2e p99 ms"),
        ("scheduler_cpu_ms_per_pod", "sched cpu ms/pod"),
        ("apiserver_cpu_ms_per_pod", "api cpu ms/pod"),
        ("apiserver_cpu_ms_per_create", "api ms/create"),
        ("workload_all_bound_s", "300 bound s"),
    ]
    print()
    print("  ".join(f"{title:>14}" for _, title in cols))
    for r in rows:
        print("  ".join(f"{r.get(key, ''):>14}" for key, _ in cols))
    for r in rows:
        print(f"  {r['nodes']} nodes workload: {r['workload']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    doc = {"machine": platform.machine(), "python": platform.python_version(), "cpus": os.cpu_count(),
           "pod_requests": {"cpu": POD_CPU, "memory": POD_MEMORY},
           "node": {"cpu": NODE_CPU, "memory": NODE_MEMORY, "pods": NODE_PODS}, "rounds": rows}
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        try:
            main()
        except errors.ClientError as exc:
            sys.exit(f"error: {exc}")
