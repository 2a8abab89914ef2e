"""Our store (``pictl store``, sqlite) against a real etcd 3.4, both on loopback, both driven by
the same ``GrpcClient``:

- durable puts/s at 1, 16 and 64 concurrent clients (1 KiB values), with the server's CPU per
  put and the client's,
- range latency p50/p99 over a 1000-key prefix (256-byte values), and the server's CPU per range,
- watch delivery latency p50/p99 (put -> event on a watch of the same process),
- server RSS, idle and after the run.

    .venv/bin/python tests/perf/store_bench.py [--quick] [--seconds S] [--repeats N]
                                                [--client-procs P] [--baseline REV]

Prints a side-by-side table and writes tests/perf/results/store_bench.json. The target (not a
test): at least etcd's write throughput at 64 clients, with less memory.

The put load runs in ``--client-procs`` separate processes (default 2), so that the client's own
CPU (about as much per put as our server's) is not one GIL-bound process that caps every server
alike; each process opens one connection per 16 of its workers, as etcd's benchmark tool shares
connections (--conns). Every measurement alternates between the targets so that load from
elsewhere on a shared machine hits them alike; put levels are repeated and the run with the
median throughput is kept. Server CPU and RSS are summed over the server's process tree.

``--baseline REV`` adds a third target: ``pictl store`` from git revision REV of this repository
(``git archive``), run by the same interpreter, for a before/after comparison in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from master.store.grpcclient import GrpcClient  # noqa: E402
from master.store.types import prefix_end  # noqa: E402
from tests.fixtures.etcd import start_etcd  # noqa: E402
from tests.fixtures.ports import free_port  # noqa: E402
from tests.fixtures.store_process import StoreProcess, start_store  # noqa: E402
from tests.perf.stats import pct  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "store_bench.json"
VALUE = os.urandom(1024)
CONCURRENCY = (1, 16, 64)
# Workers share connections as etcd's benchmark tool does (--conns): one per this many workers.
WORKERS_PER_CONN = 16


# ---- the put load, in client processes ----


async def _put_load(
    conn: Connection, endpoint: str, workers: int, first: int, seconds: float
) -> tuple[list[float], float]:
    clients = [GrpcClient([endpoint]) for _ in range(max(1, workers // WORKERS_PER_CONN))]
    latencies: list[float] = []
    try:
        for c in clients:  # connect before the clock starts
            await c.status()
        conn.send("ready")
        await asyncio.to_thread(conn.recv)  # go
        cpu0 = time.process_time()
        stop = time.perf_counter() + seconds

        async def worker(i: int) -> None:
            client = clients[i % len(clients)]
            k = 0
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                await client.put(b"/bench/put/w%d/%d" % (first + i, k % 100), VALUE)
                latencies.append(time.perf_counter() - t0)
                k += 1

        await asyncio.gather(*(worker(i) for i in range(workers)))
        return latencies, time.process_time() - cpu0
    finally:
        for c in clients:
            await c.close()


def _client_main(conn: Connection) -> None:
    """A load process: runs put jobs from ``conn`` until it gets None."""
    while (job := conn.recv()) is not None:
        endpoint, workers, first, seconds = job
        conn.send(asyncio.run(_put_load(conn, endpoint, workers, first, seconds)))


class LoadProcesses:
    """Long-lived client processes (spawned: no gRPC state shared with this one)."""

    def __init__(self, count: int) -> None:
        ctx = mp.get_context("spawn")
        self.conns: list[Connection] = []
        self.procs = []
        for _ in range(count):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=_client_main, args=(theirs,), daemon=True)
            proc.start()
            self.conns.append(ours)
            self.procs.append(proc)

    def puts(self, endpoint: str, pid: int, workers: int, seconds: float) -> dict[str, float]:
        shares = [
            workers // len(self.conns) + (i < workers % len(self.conns)) for i in range(len(self.conns))
        ]
        used = [(c, n) for c, n in zip(self.conns, shares, strict=True) if n]
        first = 0
        for c, n in used:
            c.send((endpoint, n, first, seconds))
            first += n
        for c, _ in used:
            assert c.recv() == "ready"
        cpu0 = tree_cpu(pid)
        t0 = time.perf_counter()
        for c, _ in used:
            c.send("go")
        results = [c.recv() for c, _ in used]
        elapsed = time.perf_counter() - t0
        cpu = tree_cpu(pid) - cpu0
        latencies = [x for lat, _ in results for x in lat]
        n = max(1, len(latencies))
        return {
            "puts_per_s": len(latencies) / elapsed,
            "p50_ms": pct(latencies, 0.5) * 1000,
            "p99_ms": pct(latencies, 0.99) * 1000,
            "server_cpu_us_per_put": cpu / n * 1e6,
            "client_cpu_us_per_put": sum(c for _, c in results) / n * 1e6,
        }

    def close(self) -> None:
        for c in self.conns:
            c.send(None)
        for p in self.procs:
            p.join(10)
            if p.is_alive():
                p.kill()


def _tree(pid: int) -> list[psutil.Process]:
    proc = psutil.Process(pid)
    return [proc, *proc.children(recursive=True)]


def tree_cpu(pid: int) -> float:
    total = 0.0
    for p in _tree(pid):
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run with the median throughput (its latencies and CPU belong together)."""
    ordered = sorted(runs, key=lambda r: r["puts_per_s"])
    return {**ordered[len(ordered) // 2], "runs": len(runs)}


# ---- range, watch, memory (from this process) ----


async def ranges(endpoint: str, pid: int, n: int) -> dict[str, float]:
    prefix = b"/bench/range/"
    async with GrpcClient([endpoint]) as client:
        sem = asyncio.Semaphore(32)

        async def load(i: int) -> None:
            async with sem:
                await client.put(prefix + b"%04d" % i, VALUE[:256])

        await asyncio.gather(*(load(i) for i in range(1000)))
        latencies: list[float] = []
        cpu0 = tree_cpu(pid)
        for _ in range(n):
            t0 = time.perf_counter()
            resp = await client.range(prefix, prefix_end(prefix))
            latencies.append(time.perf_counter() - t0)
            assert resp.count == 1000
        cpu = tree_cpu(pid) - cpu0
    return {
        "p50_ms": pct(latencies, 0.5) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
        "server_cpu_ms": cpu / n * 1000,
    }


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
    """RSS summed over the process tree; peak (VmHWM) of the main process."""
    rss = 0
    for p in _tree(pid):
        try:
            rss += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    peak = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"rss_mb": rss / 2**20, "peak_rss_mb": peak / 2**20}


@dataclass
class Target:
    name: str
    endpoint: str
    pid: int


async def run_all(
    targets: list[Target], load: LoadProcesses, seconds: float, repeats: int, quick: bool
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"target": t.name, "rss_idle": rss_mb(t.pid)} for t in targets]
    for workers in CONCURRENCY:
        runs: list[list[dict[str, float]]] = [[] for _ in targets]
        for _ in range(repeats):
            for i, t in enumerate(targets):
                runs[i].append(await asyncio.to_thread(load.puts, t.endpoint, t.pid, workers, seconds))
        for i, t in enumerate(targets):
            r = out[i][f"puts_{workers}"] = median_run(runs[i])
            print(
                f"  {t.name}: {workers:>2} clients  {r['puts_per_s']:8.0f} puts/s"
                f"  server {r['server_cpu_us_per_put']:4.0f} us/put  client {r['client_cpu_us_per_put']:4.0f} us/put",
                flush=True,
            )
    for i, t in enumerate(targets):
        out[i]["range_1000"] = await ranges(t.endpoint, t.pid, 50 if quick else 200)
    for i, t in enumerate(targets):
        out[i]["watch"] = await watch_latency(t.endpoint, 100 if quick else 300)
    for i, t in enumerate(targets):
        out[i]["rss"] = rss_mb(t.pid)
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
        rows.append(
            (
                f"  client CPU us per put, {w} clients",
                lambda r, w=w: f"{r[f'puts_{w}']['client_cpu_us_per_put']:.0f}",
            )
        )
    rows += [
        (
            "range 1000 keys p50/p99 ms",
            lambda r: f"{r['range_1000']['p50_ms']:.2f} / {r['range_1000']['p99_ms']:.2f}",
        ),
        ("  server CPU ms per range", lambda r: f"{r['range_1000']['server_cpu_ms']:.2f}"),
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


@dataclass
class BaselineStore(StoreProcess):
    """``pictl store`` from another checkout of this repository (``source``), same interpreter."""

    source: Path = Path()

    def command(self) -> list[str]:
        boot = (
            f"import sys; sys.path.insert(0, {str(self.source)!r}); from master.cli.main import main; main()"
        )
        return [sys.executable, "-c", boot, *super().command()[1:]]


def start_baseline(rev: str, base: Path) -> BaselineStore:
    source = base / "baseline-src"
    source.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "master"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    data = base / "baseline"
    data.mkdir()
    proc = BaselineStore(
        data_dir=data / "store",
        client_port=free_port(),
        metrics_port=free_port(),
        log_path=data / "store.log",
        source=source,
    )
    proc.start()
    return proc


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs, no repeats (about a minute in all)")
    parser.add_argument("--seconds", type=float, default=0.0, help="seconds per put run")
    parser.add_argument("--repeats", type=int, default=0, help="runs per put level (the median is kept)")
    parser.add_argument("--client-procs", type=int, default=2, help="client processes for the put load")
    parser.add_argument("--baseline", metavar="REV", help="also run pictl store from this git revision")
    args = parser.parse_args()
    seconds = args.seconds or (1.5 if args.quick else 4.0)
    repeats = args.repeats or (1 if args.quick else 3)
    if args.client_procs < 1:
        parser.error("--client-procs must be at least 1")
    load = LoadProcesses(args.client_procs)
    stoppers: list[Callable[[], None]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
            base = Path(tmp)
            (base / "etcd").mkdir()
            store = start_store(base / "ours")
            stoppers.append(store.stop)
            targets = [Target("picluster store", store.endpoint, store.pid)]
            if args.baseline:
                baseline = start_baseline(args.baseline, base)
                stoppers.append(baseline.stop)
                targets.append(Target(f"store @ {args.baseline}", baseline.endpoint, baseline.pid))
            etcd = start_etcd(base / "etcd")
            stoppers.append(etcd.stop)
            targets.append(Target("etcd 3.4", etcd.endpoint, etcd.process.pid))
            print("; ".join(f"{t.name} on {t.endpoint}" for t in targets), flush=True)
            load_before = os.getloadavg()
            results = await run_all(targets, load, seconds, repeats, args.quick)
            for stop in reversed(stoppers):
                stop()
            stoppers.clear()
    finally:
        for stop in reversed(stoppers):
            stop()
        load.close()
    print()
    print(table(results))
    ours, theirs = results[0], results[-1]
    ratio = ours["puts_64"]["puts_per_s"] / theirs["puts_64"]["puts_per_s"]
    print(f"\nputs/s at 64 clients, ours / etcd: {ratio:.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "seconds_per_run": seconds,
                "repeats": repeats,
                "client_procs": args.client_procs,
                "baseline": args.baseline,
                "load_avg_before": load_before,
                "load_avg": os.getloadavg(),
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())
