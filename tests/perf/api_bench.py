"""apiserver benchmark: latency per verb under steady load, watch delivery, master RSS.

For each backend (the embedded sqlite store, and a real etcd started on loopback) it starts a
``pictl master``, stores 50 nodes and 1000 pods (spread over the nodes), opens 50 watches of pods
with ``fieldSelector=spec.nodeName=<node>`` (the agents' watches) plus one unfiltered watch, then
for ``--duration`` seconds runs 20 mutations/s (pod label patches, configmap create/update/delete)
alongside gets (20/s) and lists (1/s of all pods, kubectl-style limit=500 pages, and 1/s from the
watch cache). Latencies are as the client sees them, and as the apiserver's own request-duration
histogram has them (share over 25 ms and p99 per verb, without the client's own delays). Then,
watchers still attached, it times the master's CPU per call of each verb
(sequential calls; CPU time survives a busy machine better than latency percentiles). It prints a
table and writes tests/perf/results/api_bench.json.

    .venv/bin/python tests/perf/api_bench.py [--duration 20] [--backends embedded,etcd]
        [--components apiserver,controller-manager,scheduler] [--restart]

Targets (not assertions): p99 <= 25 ms for single-object calls, master RSS < 100 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fixtures.apiserver import admin_ssl, start_master  # noqa: E402
from tests.fixtures.ports import free_port  # noqa: E402
from tests.perf.stats import pct  # noqa: E402

NODES, PODS = 50, 1000
MUTATIONS_PER_S, GETS_PER_S = 20, 20


class _ListMeta(msgspec.Struct):
    continue_: str = msgspec.field(default="", name="continue")


class _ListHead(msgspec.Struct):
    """All the client reads of a list: its continue token (the items are skipped, not built)."""

    metadata: _ListMeta = msgspec.field(default_factory=_ListMeta)


_list_head = msgspec.json.Decoder(_ListHead)


class Bench:
    def __init__(self, base: str, session: aiohttp.ClientSession) -> None:
        self.base = base
        self.session = session
        self.lat: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.sent: dict[str, float] = {}
        self.watch_lat: list[float] = []
        self.fanout_events = 0

    async def call(self, verb: str, method: str, path: str, *, parse: bool = True, **kw: Any) -> Any:
        """One request, timed; its JSON (``parse=False``: the bytes, for lists the client only
        pages through; building 1000 pods' dicts made this client's own GC pause for 20-40 ms,
        which showed up as the latency of whatever else was in flight)."""
        t0 = time.perf_counter()
        async with self.session.request(method, self.base + path, **kw) as resp:
            data = await resp.read()
            ok = resp.status < 300
        dt = time.perf_counter() - t0
        self.lat.setdefault(verb, []).append(dt * 1000)
        if not ok:
            self.errors[verb] = self.errors.get(verb, 0) + 1
            return None
        return json.loads(data) if parse else data

    async def watch(self, path: str, params: dict[str, str], *, measure: bool) -> None:
        """Read a watch until the stream ends or the task is cancelled (a plain read: a timeout per
        line would cost this client more than the events do, and show up in its latencies)."""
        async with self.session.get(self.base + path, params={"watch": "1", **params},
                                    timeout=aiohttp.ClientTimeout(total=None)) as resp:
            async for line in resp.content:
                now = time.perf_counter()
                if not measure:
                    self.fanout_events += 1
                    continue
                ev = json.loads(line)
                marker = ((ev["object"].get("metadata") or {}).get("annotations") or {}).get("bench/mark")
                t0 = self.sent.pop(marker, None) if marker else None
                if t0 is not None:
                    self.watch_lat.append((now - t0) * 1000)


def pod(i: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"pod-{i:04d}", "labels": {"app": f"app-{i % 20}"}},
            "spec": {"nodeName": f"node-{i % NODES:02d}",
                     "containers": [{"name": "c", "image": "busybox:1.36", "ports": [{"containerPort": 80}],
                                     "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}


def node(i: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": f"node-{i:02d}", "labels": {"kubernetes.io/hostname": f"node-{i:02d}"}},
            "status": {"capacity": {"cpu": "4", "memory": "4Gi", "pods": "110"},
                       "addresses": [{"type": "InternalIP", "address": f"127.0.1.{i + 1}"}]}}


async def preload(b: Bench) -> None:
    sem = asyncio.Semaphore(16)

    async def post(path: str, obj: dict[str, Any]) -> None:
        async with sem:
            await b.call("preload", "POST", path, json=obj)

    await asyncio.gather(*(post("/api/v1/nodes", node(i)) for i in range(NODES)))
    await asyncio.gather(*(post("/api/v1/namespaces/default/pods", pod(i)) for i in range(PODS)))


async def mutations(b: Bench, stop: asyncio.Event) -> None:
    i = 0
    period = 1.0 / MUTATIONS_PER_S
    next_t = time.perf_counter()
    merge = {"Content-Type": "application/merge-patch+json"}
    cms = "/api/v1/namespaces/default/configmaps"
    while not stop.is_set():
        kind = i % 4
        mark = f"m{i}"
        if kind in (0, 1):
            p = random.randrange(PODS)
            b.sent[mark] = time.perf_counter()
            body = {"metadata": {"labels": {"round": str(i)}, "annotations": {"bench/mark": mark}}}
            await b.call("patch", "PATCH", f"/api/v1/namespaces/default/pods/pod-{p:04d}",
                         data=json.dumps(body), headers=merge)
        elif kind == 2:
            await b.call("create", "POST", cms, json={"apiVersion": "v1", "kind": "ConfigMap",
                                                      "metadata": {"name": f"cm-{i}"}, "data": {"i": str(i)}})
        else:
            obj = await b.call("get", "GET", f"{cms}/cm-{i - 1}")
            if obj is not None:
                obj["data"] = {"i": "updated"}
                await b.call("update", "PUT", f"{cms}/cm-{i - 1}", json=obj)
                await b.call("delete", "DELETE", f"{cms}/cm-{i - 1}")
        i += 1
        next_t += period
        await asyncio.sleep(max(0.0, next_t - time.perf_counter()))


async def reads(b: Bench, stop: asyncio.Event) -> None:
    period = 1.0 / GETS_PER_S
    next_t = time.perf_counter()
    n = 0
    while not stop.is_set():
        p = random.randrange(PODS)
        await b.call("get", "GET", f"/api/v1/namespaces/default/pods/pod-{p:04d}")
        if n % GETS_PER_S == 0:
            cont = ""
            while True:
                params = {"limit": "500", **({"continue": cont} if cont else {})}
                page = await b.call("list pods (500/page)", "GET", "/api/v1/namespaces/default/pods",
                                    params=params, parse=False)
                cont = _list_head.decode(page).metadata.continue_ if page else ""
                if not cont:
                    break
            await b.call("list pods (cache)", "GET", "/api/v1/pods", params={"resourceVersion": "0"}, parse=False)
            await b.call("list nodes", "GET", "/api/v1/nodes", parse=False)
        n += 1
        next_t += period
        await asyncio.sleep(max(0.0, next_t - time.perf_counter()))


CPU_CALLS = 200
TARGET_MS = 25.0


async def server_histograms(session: aiohttp.ClientSession, base: str) -> dict[tuple[str, str], dict[float, float]]:
    """The apiserver's own apiserver_request_duration_seconds buckets: (verb, resource) -> {le: count}."""
    async with session.get(base + "/metrics") as resp:
        text = await resp.text()
    out: dict[tuple[str, str], dict[float, float]] = {}
    for line in text.splitlines():
        if not line.startswith("apiserver_request_duration_seconds_bucket{"):
            continue
        labels, _, value = line.rpartition(" ")
        fields = dict(kv.split("=", 1) for kv in labels[labels.index("{") + 1:-1].split(","))
        key = (fields["verb"].strip('"'), fields["resource"].strip('"'))
        out.setdefault(key, {})[float(fields["le"].strip('"'))] = float(value)
    return out


def server_side(before: dict[tuple[str, str], dict[float, float]],
                after: dict[tuple[str, str], dict[float, float]]) -> dict[str, dict[str, float]]:
    """Per verb and resource of the load phase, from the server's histogram: how many calls, the
    share over TARGET_MS, and the p99 interpolated in its bucket (client-side delays excluded)."""
    out: dict[str, dict[str, float]] = {}
    for key, buckets in sorted(after.items()):
        diff = {le: n - before.get(key, {}).get(le, 0.0) for le, n in buckets.items()}
        total = diff.get(float("inf"), 0.0)
        if total <= 0:
            continue
        edges = sorted(diff)
        rank, prev_edge, prev_n, p99 = 0.99 * total, 0.0, 0.0, float("nan")
        for edge in edges:
            if diff[edge] >= rank:
                p99 = prev_edge if edge == float("inf") else prev_edge + (edge - prev_edge) * (
                    (rank - prev_n) / (diff[edge] - prev_n) if diff[edge] > prev_n else 1.0)
                break
            prev_edge, prev_n = edge, diff[edge]
        over = total - diff.get(TARGET_MS / 1000, total)
        out[f"{key[0]} {key[1]}"] = {"n": total, "over_target_share": round(over / total, 4),
                                     "p99_ms": round(p99 * 1000, 1)}
    return out


async def cpu_per_verb(b: Bench, pid: int) -> dict[str, float]:
    """Master CPU ms per call of each verb, ``CPU_CALLS`` sequential calls each (watchers attached)."""
    pods = "/api/v1/namespaces/default/pods"
    cms = "/api/v1/namespaces/default/configmaps"
    merge = {"Content-Type": "application/merge-patch+json"}
    quiet = Bench(b.base, b.session)
    calls: dict[str, Any] = {
        "get": lambda i: quiet.call("x", "GET", f"{pods}/pod-{i % PODS:04d}"),
        "get (cache)": lambda i: quiet.call("x", "GET", f"{pods}/pod-{i % PODS:04d}",
                                            params={"resourceVersion": "0"}),
        "patch": lambda i: quiet.call("x", "PATCH", f"{pods}/pod-{i % PODS:04d}", headers=merge,
                                      data=json.dumps({"metadata": {"labels": {"cpu": str(i)}}})),
        "create": lambda i: quiet.call("x", "POST", cms, json={"apiVersion": "v1", "kind": "ConfigMap",
                                                             "metadata": {"name": f"cpu-{i}"}, "data": {"i": "1"}}),
        "update": lambda i: quiet.call("x", "PUT", f"{cms}/cpu-{i}", json={
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cpu-{i}"}, "data": {"i": "2"}}),
        "delete": lambda i: quiet.call("x", "DELETE", f"{cms}/cpu-{i}"),
        "list nodes": lambda i: quiet.call("x", "GET", "/api/v1/nodes", parse=False),
    }
    out: dict[str, float] = {}
    for verb, call in calls.items():
        n = CPU_CALLS if not verb.startswith("list") else CPU_CALLS // 4
        cpu0 = cpu_s(pid)
        for i in range(n):
            await call(i)
        out[verb] = round((cpu_s(pid) - cpu0) * 1000 / n, 3)
    return out


def rss_mb(pid: int) -> float:
    try:
        return psutil.Process(pid).memory_info().rss / 1e6
    except psutil.Error:
        return float("nan")


def uss_mb(pid: int) -> float:
    """Memory only this process holds (RSS less shared library pages)."""
    try:
        return psutil.Process(pid).memory_full_info().uss / 1e6
    except psutil.Error:
        return float("nan")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used so far."""
    try:
        t = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return float("nan")
    return t.user + t.system


def _start_etcd(binary: str, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    client, peer = free_port(), free_port()
    proc = subprocess.Popen([binary, "--name", "bench", "--data-dir", str(work / "etcd"),
                             "--listen-client-urls", f"http://127.0.0.1:{client}",
                             "--advertise-client-urls", f"http://127.0.0.1:{client}",
                             "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                             "--initial-cluster", f"bench=http://127.0.0.1:{peer}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return proc, f"http://127.0.0.1:{client}"


RESTART_SETTLE_S = 10.0


async def restarted_rss(work: Path, extra: tuple[str, ...], components: str, port: int) -> float:
    """RSS of a master started again on the loaded data dir, once its informers have listed
    everything (what a user's master holds after a reboot, not fed one watch event at a time)."""
    m = start_master(work / "master", *extra, components=components, port=port)
    try:
        await asyncio.sleep(RESTART_SETTLE_S)
        return rss_mb(m.proc.pid)
    finally:
        m.stop()


async def run_backend(name: str, duration: float, work: Path, components: str = "apiserver",
                      restart: bool = False) -> dict[str, Any]:
    extra: tuple[str, ...] = ()
    etcd: subprocess.Popen[bytes] | None = None
    if name == "etcd":
        binary = shutil.which("etcd")
        if binary is None:
            return {"skipped": "etcd binary not installed"}
        etcd, url = _start_etcd(binary, work)
        await asyncio.sleep(2)
        extra = ("--etcd-servers", url)
    m = start_master(work / "master", *extra, components=components)
    rss_idle = rss_mb(m.proc.pid)
    try:
        conn = aiohttp.TCPConnector(ssl=admin_ssl(m.data_dir), limit=200)
        async with aiohttp.ClientSession(connector=conn) as session:
            b = Bench(m.url, session)
            t0, cpu0 = time.perf_counter(), cpu_s(m.proc.pid)
            await preload(b)
            preload_s = time.perf_counter() - t0
            preload_cpu_ms = (cpu_s(m.proc.pid) - cpu0) * 1000 / (NODES + PODS)
            b.lat.pop("preload", None)
            rss_loaded, uss_loaded = rss_mb(m.proc.pid), uss_mb(m.proc.pid)
            # This client's own full collections (tens of ms over its modules and aiohttp) would
            # be timed as the latency of the requests in flight: what exists now is left out.
            gc.collect()
            gc.freeze()
            watchers = [asyncio.create_task(b.watch("/api/v1/pods", {"fieldSelector": f"spec.nodeName=node-{i:02d}",
                                                                     "resourceVersion": "0"},
                                                    measure=False)) for i in range(NODES)]
            watchers.append(asyncio.create_task(b.watch("/api/v1/namespaces/default/pods", {},
                                                        measure=True)))
            await asyncio.sleep(1.0)
            b.fanout_events = 0
            hist0 = await server_histograms(session, m.url)
            cpu0 = cpu_s(m.proc.pid)
            load_stop = asyncio.Event()
            load = [asyncio.create_task(mutations(b, load_stop)), asyncio.create_task(reads(b, load_stop))]
            rss_samples = []
            end = time.perf_counter() + duration
            while time.perf_counter() < end:
                await asyncio.sleep(1.0)
                rss_samples.append(rss_mb(m.proc.pid))
            load_stop.set()
            await asyncio.gather(*load)
            server = server_side(hist0, await server_histograms(session, m.url))
            # Master CPU per request of the load phase (watch fan-out included): the metric that
            # survives a noisy machine better than latency percentiles.
            load_cpu_ms = (cpu_s(m.proc.pid) - cpu0) * 1000 / max(1, sum(len(v) for v in b.lat.values()))
            await asyncio.sleep(0.6)
            fanout_events = b.fanout_events
            per_verb = await cpu_per_verb(b, m.proc.pid)
            for w in watchers:
                w.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
        result: dict[str, Any] = {
            "preload_seconds": round(preload_s, 2),
            "preload_cpu_ms_per_create": round(preload_cpu_ms, 3),
            "load_cpu_ms_per_request": round(load_cpu_ms, 3),
            "cpu_ms_per_call": per_verb,
            "server_side": server,
            "rss_mb_idle": round(rss_idle, 1),
            "rss_mb_after_preload": round(rss_loaded, 1),
            "uss_mb_after_preload": round(uss_loaded, 1),
            "rss_mb_max_under_load": round(max(rss_samples), 1),
            "etcd_rss_mb": round(rss_mb(etcd.pid), 1) if etcd else None,
            "verbs": {v: {"n": len(xs), "p50_ms": round(pct(xs, 0.5), 2), "p99_ms": round(pct(xs, 0.99), 2),
                          "errors": b.errors.get(v, 0)} for v, xs in sorted(b.lat.items())},
            "watch_delivery": {"n": len(b.watch_lat), "p50_ms": round(pct(b.watch_lat, 0.5), 2),
                               "p99_ms": round(pct(b.watch_lat, 0.99), 2)},
            "fanout_watchers": NODES, "fanout_events_delivered": fanout_events,
        }
        if restart:
            m.stop()
            result["rss_mb_restarted"] = round(await restarted_rss(work, extra, components, m.port), 1)
        return result
    finally:
        m.stop()
        if etcd is not None:
            etcd.terminate()
            try:
                etcd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                etcd.kill()


def print_table(results: dict[str, Any]) -> None:
    backends = [b for b in results if "verbs" in results[b]]
    verbs = sorted({v for b in backends for v in results[b]["verbs"]})
    head = f"{'verb':<24}" + "".join(f"{b + ' p50':>14}{b + ' p99':>14}{'n':>7}" for b in backends)
    print(head)
    print("-" * len(head))
    for v in verbs:
        row = f"{v:<24}"
        for b in backends:
            r = results[b]["verbs"].get(v, {})
            row += f"{r.get('p50_ms', float('nan')):>12.2f}ms{r.get('p99_ms', float('nan')):>12.2f}ms{r.get('n', 0):>7}"
        print(row)
    row = f"{'watch delivery':<24}"
    for b in backends:
        r = results[b]["watch_delivery"]
        row += f"{r['p50_ms']:>12.2f}ms{r['p99_ms']:>12.2f}ms{r['n']:>7}"
    print(row)
    for b in backends:
        r = results[b]
        print(f"{b}: master RSS {r['rss_mb_idle']} MB idle, {r['rss_mb_after_preload']} MB "
              f"(USS {r['uss_mb_after_preload']} MB) after {PODS} pods + {NODES} nodes, "
              f"max {r['rss_mb_max_under_load']} MB under load"
              + (f"; {r['rss_mb_restarted']} MB restarted on that data" if r.get("rss_mb_restarted") else "")
              + (f"; etcd RSS {r['etcd_rss_mb']} MB" if r.get("etcd_rss_mb") else "")
              + f"; preload {r['preload_seconds']} s; {r['fanout_events_delivered']} events to "
              f"{r['fanout_watchers']} node watchers")
        print(f"{b}: server side (its own histogram, load phase): "
              + ", ".join(f"{k} p99 {v['p99_ms']} ms ({v['over_target_share'] * 100:.1f}% > {TARGET_MS:g} ms)"
                          for k, v in r["server_side"].items() if not k.startswith(("LIST", "WATCH"))))
        print(f"{b}: master CPU ms per call, {CPU_CALLS} sequential calls: "
              + ", ".join(f"{v} {ms}" for v, ms in r["cpu_ms_per_call"].items()))
        print(f"{b}: master CPU {r['preload_cpu_ms_per_create']} ms per create (preload), "
              f"{r['load_cpu_ms_per_request']} ms per request under load (watch fan-out included)")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--backends", default="embedded,etcd")
    ap.add_argument("--components", default="apiserver",
                    help="what pictl master runs: apiserver (default; nothing acts on the objects) or "
                         "'apiserver,controller-manager,scheduler' (the whole master as users run it; its "
                         "controllers see 50 silent nodes and act on them)")
    ap.add_argument("--restart", action="store_true",
                    help="then start the master again on the loaded data and report its RSS once its "
                         "components have listed everything")
    args = ap.parse_args()
    results: dict[str, Any] = {}
    for name in [b.strip() for b in args.backends.split(",") if b.strip()]:
        with tempfile.TemporaryDirectory(prefix=f"api-bench-{name}-") as tmp:
            results[name] = await run_backend(name, args.duration, Path(tmp), args.components, args.restart)
    print_table(results)
    out = ROOT / "tests" / "perf" / "results" / "api_bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    results["_meta"] = {"duration_s": args.duration, "components": args.components, "pods": PODS, "nodes": NODES,
                        "mutations_per_s": MUTATIONS_PER_S, "gets_per_s": GETS_PER_S, "cpus": os.cpu_count(),
                        "median_note": "p50 is the median"}
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    asyncio.run(main())
