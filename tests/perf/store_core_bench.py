"""The store core in-process (no gRPC): durable puts/s, range latency, watch latency, memory.

    .venv/bin/python tests/perf/store_core_bench.py [--quick]

Prints a table and writes tests/perf/results/store_core_bench.json. Numbers are medians where
repeated; nothing here is a test. The gRPC face against a real etcd is tests/perf/store_bench.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from master.store.settings import StoreSettings
from master.store.store import Store
from master.store.types import OpPut, OpRange, prefix_end

RESULTS = Path(__file__).resolve().parent / "results" / "store_core_bench.json"
VALUE = os.urandom(1024)


async def puts_per_second(store: Store, clients: int, seconds: float) -> tuple[float, float]:
    before = store.stats()
    done = 0
    stop = time.perf_counter() + seconds

    async def client(i: int) -> None:
        nonlocal done
        k = 0
        while time.perf_counter() < stop:
            await store.put(OpPut(b"/registry/bench/c%d-%d" % (i, k % 100), VALUE))
            done += 1
            k += 1

    t0 = time.perf_counter()
    await asyncio.gather(*[client(i) for i in range(clients)])
    elapsed = time.perf_counter() - t0
    after = store.stats()
    per_commit = (after.batches_total - before.batches_total) / max(1, after.commits_total - before.commits_total)
    return done / elapsed, per_commit


async def range_latency(store: Store, keys: int, rounds: int) -> tuple[float, float]:
    prefix = b"/registry/ranged/"
    await asyncio.gather(*[store.put(OpPut(prefix + b"%05d" % i, VALUE)) for i in range(keys)])
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        resp = store.range(OpRange(prefix, prefix_end(prefix)))
        samples.append(time.perf_counter() - t0)
        assert resp.count == keys
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


async def watch_latency(store: Store, rounds: int) -> tuple[float, float]:
    w = store.watch(b"/registry/watched/", prefix_end(b"/registry/watched/"))
    samples = []
    for i in range(rounds):
        t0 = time.perf_counter()
        await store.put(OpPut(b"/registry/watched/%d" % (i % 10), VALUE))
        resp = await w.next()
        samples.append(time.perf_counter() - t0)
        assert resp is not None and resp.events
    w.cancel()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


async def index_memory(path: Path, keys: int) -> tuple[float, float]:
    async with Store(StoreSettings(data_dir=path, compaction_retain_seconds=0)) as store:
        for i in range(0, keys, 1000):
            await asyncio.gather(*[store.put(OpPut(b"/registry/pods/ns/pod-%06d" % j, VALUE)) for j in range(i, i + 1000)])
    tracemalloc.start()
    t0 = time.perf_counter()
    async with Store(StoreSettings(data_dir=path, compaction_retain_seconds=0)) as store:
        opened = time.perf_counter() - t0
        used, _ = tracemalloc.get_traced_memory()
        assert store.stats().keys_total == keys
    tracemalloc.stop()
    return used / keys, opened


async def main(quick: bool) -> None:
    seconds = 1.0 if quick else 3.0
    rows: list[tuple[str, str]] = []
    result: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with Store(StoreSettings(data_dir=Path(tmp) / "a", compaction_retain_seconds=0)) as store:
            for clients in (1, 16, 64):
                rate, per_commit = await puts_per_second(store, clients, seconds)
                result[f"puts_per_s_{clients}"] = rate
                result[f"batches_per_fsync_{clients}"] = per_commit
                rows.append((f"durable puts/s, {clients} clients", f"{rate:,.0f} ({per_commit:.1f} writes per fsync)"))
            p50, p99 = await range_latency(store, 1000, 30 if quick else 100)
            result.update(range_1000_p50_ms=p50 * 1e3, range_1000_p99_ms=p99 * 1e3)
            rows.append(("range over 1000 keys (1 KiB values)", f"p50 {p50 * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms"))
            p50, p99 = await watch_latency(store, 100 if quick else 500)
            result.update(watch_p50_ms=p50 * 1e3, watch_p99_ms=p99 * 1e3)
            rows.append(("put -> watch event", f"p50 {p50 * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms"))
        keys = 5000 if quick else 20000
        per_key, opened = await index_memory(Path(tmp) / "b", keys)
        result.update(index_bytes_per_key=per_key, open_seconds=opened, open_keys=keys)
        rows.append((f"index memory, {keys} keys", f"{per_key:.0f} B/key, open in {opened:.2f} s"))
    width = max(len(name) for name, _ in rows)
    print(f"store core (sqlite, in-process), {os.cpu_count()} CPUs")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    asyncio.run(main(parser.parse_args().quick))
