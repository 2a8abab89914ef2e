"""Our store (``pictl store``, sqlite) against a real etcd 3.4, both on loopback, both driven by
the same ``GrpcClient`` from this process:

- durable puts/s at 1, 16 and 64 concurrent clients (1 KiB values),
- range latency p50/p99 over a 1000-key prefix,
- watch delivery latency p50/p99 (put -> event on a watch of the same process),
- server RSS after the run.

    .venv/bin/python tests/perf/store_bench.py [--quick] [--seconds S]

Prints a side-by-side table and writes tests/perf/results/store_bench.json. The target (not a
test): at least etcd's write throughput at 64 clients, with less memory. The driver is one
Python process, so at high concurrency it measures the client too; both servers share it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from master.store.grpcclient import GrpcClient  # noqa: E402
from master.store.types import prefix_end  # noqa: E402
from tests.fixtures.etcd import start_etcd  # noqa: E402
from tests.fixtures.store_process import start_store  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "store_bench.json"
VALUE = os.urandom(1024)
CONCURRENCY = (1, 16, 64)
# Workers share connections as etcd's benchmark tool does (--conns): one per this many workers.
WORKERS_PER_CONN = 16


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


async def puts(endpoint: str, pid: int, workers: int, seconds: float) -> dict[str, float]:
    conns = [GrpcClient([endpoint]) for _ in range(max(1, workers // WORKERS_PER_CONN))]
    latencies: list[float] = []
    server = psutil.Process(pid)
    try:
        for c in conns:  # connect before the clock starts
            await c.status()
        cpu0 = sum(server.cpu_times()[:2])
        stop = time.perf_counter() + seconds

        async def worker(i: int) -> None:
            client = conns[i % len(conns)]
            k = 0
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                await client.put(b"/bench/put/w%d/%d" % (i, k % 100), VALUE)
                latencies.append(time.perf_counter() - t0)
                k += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(workers)))
        elapsed = time.perf_counter() - t0
        cpu = sum(server.cpu_times()[:2]) - cpu0
    finally:
        for c in conns:
            await c.close()
    return {
        "puts_per_s": len(latencies) / elapsed,
        "p50_ms": pct(latencies, 0.5) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
        "server_cpu_us_per_put": cpu / max(1, len(latencies)) * 1e6,
    }


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run with the median throughput (its latencies and CPU belong together)."""
    ordered = sorted(runs, key=lambda r: r["puts_per_s"])
    return {**ordered[len(ordered) // 2], "runs": len(runs)}


async def ranges(endpoint: str, n: int) -> dict[str, float]:
    prefix = b"/bench/range/"
    async with GrpcClient([endpoint]) as client:
        sem = asyncio.Semaphore(32)

        async def load(i: int) -> None:
            async with sem:
                await client.put(prefix + b"%04d" % i, VALUE[:256])

        await asyncio.gather(*(load(i) for i in range(1000)))
        latencies: list[float] = []
        for _ in range(n):
            t0 = time.perf_counter()
            resp = await client.range(prefix, prefix_end(prefix))
            latencies.append(time.perf_counter() - t0)
            assert resp.count == 1000
    return {"p50_ms": pct(latencies, 0.5) * 1000, "p99_ms": pct(latencies, 0.99) * 1000}


async def watch_latency(endpoint: str, n: int) -> dict[str, float]:
    prefix = b"/bench/watch/"
    async with GrpcClient([endpoint]) as client:
        rev = (await client.put(b"/bench/watch-start", b"")).header.revision
        stream = client.watch(prefix, prefix_end(prefix), start_revision=rev + 1)
        latencies: list[float] = []
        sent: dict[bytes, float] = {}
        got = asyncio.Event()

        async def consume() -> None:
            async for resp in stream:
                now = time.perf_counter()
                for ev in resp.events:
                    latencies.append(now - sent[ev.kv.key])
                got.set()

        consumer = asyncio.create_task(consume())
        try:
            for i in range(n):
                key = prefix + b"%05d" % i
                got.clear()
                sent[key] = time.perf_counter()
                await client.put(key, VALUE[:256])
                await asyncio.wait_for(got.wait(), 30)
        finally:
            consumer.cancel()
            await stream.cancel()
    return {"p50_ms": pct(latencies, 0.5) * 1000, "p99_ms": pct(latencies, 0.99) * 1000}


def rss_mb(pid: int) -> dict[str, float]:
    proc = psutil.Process(pid)
    with proc.oneshot():
        rss = proc.memory_info().rss
    peak = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"rss_mb": rss / 2**20, "peak_rss_mb": peak / 2**20}


async def run_all(
    targets: list[tuple[str, str, int]], seconds: float, repeats: int, quick: bool
) -> list[dict[str, Any]]:
    """Every measurement alternates between the targets, so load on a shared machine hits both
    alike; put levels are repeated and the median run is kept."""
    out: list[dict[str, Any]] = [{"target": name, "rss_idle": rss_mb(pid)} for name, _, pid in targets]
    for workers in CONCURRENCY:
        runs: list[list[dict[str, float]]] = [[] for _ in targets]
        for _ in range(repeats):
            for i, (_, endpoint, pid) in enumerate(targets):
                runs[i].append(await puts(endpoint, pid, workers, seconds))
        for i, (name, _, _) in enumerate(targets):
            out[i][f"puts_{workers}"] = median_run(runs[i])
            print(
                f"  {name}: {workers:>2} clients  {out[i][f'puts_{workers}']['puts_per_s']:8.0f} puts/s",
                flush=True,
            )
    for i, (_, endpoint, _) in enumerate(targets):
        out[i]["range_1000"] = await ranges(endpoint, 50 if quick else 200)
    for i, (_, endpoint, _) in enumerate(targets):
        out[i]["watch"] = await watch_latency(endpoint, 100 if quick else 300)
    for i, (_, _, pid) in enumerate(targets):
        out[i]["rss"] = rss_mb(pid)
    return out


def table(results: list[dict[str, Any]]) -> str:
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = []
    for w in CONCURRENCY:
        rows.append((f"durable puts/s, {w} clients", lambda r, w=w: f"{r[f'puts_{w}']['puts_per_s']:.0f}"))
        rows.append(
            (
                f"  put latency p50/p99 ms, {w} clients",
                lambda r, w=w: f"{r[f'puts_{w}']['p50_ms']:.2f} / {r[f'puts_{w}']['p99_ms']:.2f}",
            )
        )
        rows.append(
            (
                f"  server CPU us per put, {w} clients",
                lambda r, w=w: f"{r[f'puts_{w}']['server_cpu_us_per_put']:.0f}",
            )
        )
    rows += [
        (
            "range 1000 keys p50/p99 ms",
            lambda r: f"{r['range_1000']['p50_ms']:.2f} / {r['range_1000']['p99_ms']:.2f}",
        ),
        ("watch delivery p50/p99 ms", lambda r: f"{r['watch']['p50_ms']:.2f} / {r['watch']['p99_ms']:.2f}"),
        (
            "server RSS MB (idle -> after)",
            lambda r: f"{r['rss_idle']['rss_mb']:.1f} -> {r['rss']['rss_mb']:.1f}",
        ),
        ("server peak RSS MB", lambda r: f"{r['rss']['peak_rss_mb']:.1f}"),
    ]
    names = [r["target"] for r in results]
    width = max(len(label) for label, _ in rows) + 2
    lines = [f"{'':<{width}}" + "".join(f"{n:>22}" for n in names)]
    for label, cell in rows:
        lines.append(f"{label:<{width}}" + "".join(f"{cell(r):>22}" for r in results))
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs, no repeats (about 30 s in all)")
    parser.add_argument("--seconds", type=float, default=0.0, help="seconds per put run")
    parser.add_argument("--repeats", type=int, default=0, help="runs per put level (the median is kept)")
    args = parser.parse_args()
    seconds = args.seconds or (1.5 if args.quick else 4.0)
    repeats = args.repeats or (1 if args.quick else 3)
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
        base = Path(tmp)
        (base / "etcd").mkdir()
        store = start_store(base / "ours")
        try:
            etcd = start_etcd(base / "etcd")
            try:
                print(
                    f"ours: pictl store (sqlite) on {store.endpoint}; etcd 3.4 on {etcd.endpoint}", flush=True
                )
                targets = [
                    ("picluster store", store.endpoint, store.pid),
                    ("etcd 3.4", etcd.endpoint, etcd.process.pid),
                ]
                results = await run_all(targets, seconds, repeats, args.quick)
            finally:
                etcd.stop()
        finally:
            store.stop()
    print()
    print(table(results))
    ours, theirs = results
    ratio = ours["puts_64"]["puts_per_s"] / theirs["puts_64"]["puts_per_s"]
    print(f"\nputs/s at 64 clients, ours / etcd: {ratio:.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"seconds_per_run": seconds, "repeats": repeats, "load_avg": os.getloadavg(), "results": results},
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())
