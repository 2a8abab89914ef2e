"""master.client against the in-process apiserver, as a table: verbs, informer sync, watch delivery.

    .venv/bin/python tests/perf/client_bench.py [--pods 1000] [--page 500]

Starts the real apiserver in process (in-memory store, admin kubeconfig) and measures with one
ApiClient: create and get latency (p50/p99), an Informer's list+cache sync of ``--pods`` pods
(time; bytes a cached pod holds), watch delivery latency (create answered -> the informer's
handler sees ADDED; server and client share one event loop, so this is the client's and the
watch cache's overhead, not a network's), client-side watch event decoding (µs/event), and
WorkQueue add/get/done cycles. Writes tests/perf/results/client.json. A benchmark, not a test: nothing
here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from master.api import codec, core, meta
from master.client import kubeconfig
from master.client.informer import Informer, InformerSettings
from master.client.rest import ApiClient
from master.client.workqueue import WorkQueue
from tests.fixtures.apiserver import running_apiserver
from tests.perf.stats import pct

RESULTS = Path(__file__).parent / "results" / "client.json"


def pod(i: int) -> core.Pod:
    return core.Pod(
        metadata=meta.ObjectMeta(name=f"bench-{i}", namespace="default", labels={"app": "bench", "i": str(i % 10)}),
        spec=core.PodSpec(
            containers=[
                core.Container(
                    name="web",
                    image="busybox:1.36",
                    command=["sh", "-c", "sleep 3600"],
                    resources=core.ResourceRequirements(requests={"cpu": "100m", "memory": "64Mi"}),
                )
            ],
            node_name=f"pi-{i % 8 + 1}",
        ),
    )


async def bench(n_pods: int, page: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="client-bench-") as tmp:
        async with running_apiserver(Path(tmp)) as server:
            config = kubeconfig.load_client_config(str(server.data_dir / "admin.kubeconfig"))
            async with ApiClient(config) as api:
                lat: list[float] = []
                for i in range(n_pods):
                    t0 = time.perf_counter()
                    await api.create(pod(i))
                    lat.append(time.perf_counter() - t0)
                out["create_ms"] = {"p50": pct(lat, 0.5) * 1e3, "p99": pct(lat, 0.99) * 1e3}
                lat = []
                for i in range(min(n_pods, 300)):
                    t0 = time.perf_counter()
                    await api.get(core.Pod, f"bench-{i}")
                    lat.append(time.perf_counter() - t0)
                out["get_ms"] = {"p50": pct(lat, 0.5) * 1e3, "p99": pct(lat, 0.99) * 1e3}

                inf = Informer(api, core.Pod, settings=InformerSettings(page_size=page))
                seen: dict[str, float] = {}
                arrived = asyncio.Event()

                def on_add(p: core.Pod) -> None:
                    seen[p.metadata.name] = time.perf_counter()
                    arrived.set()

                inf.add_event_handler(on_add=on_add)
                t0 = time.perf_counter()
                task = asyncio.create_task(inf.run())
                await inf.wait_synced()
                out["informer_sync_s"] = time.perf_counter() - t0
                # What the cache holds per pod: the decoded Structs of one list, measured alone
                # (the apiserver shares this process, so whole-process numbers would count it too).
                listed = codec.encode_list(inf.cache.list(), kind="PodList", api_version="v1")
                tracemalloc.start()
                held = codec.decode_list(listed, core.Pod)
                out["cache_bytes_per_pod"] = tracemalloc.get_traced_memory()[0] / len(held.items)
                tracemalloc.stop()
                del held

                lat = []
                for i in range(200):
                    name = f"late-{i}"
                    p = pod(i)
                    p.metadata.name = name
                    arrived.clear()
                    await api.create(p)
                    answered = time.perf_counter()
                    if name not in seen:
                        await arrived.wait()
                    # The event may even beat the create's answer (one loop): count that as 0.
                    lat.append(max(0.0, seen[name] - answered))
                out["watch_delivery_ms"] = {"p50": pct(lat, 0.5) * 1e3, "p99": pct(lat, 0.99) * 1e3}
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    lines = [
        msgspec.json.encode({"type": "MODIFIED", "object": msgspec.Raw(codec.encode(pod(i)))}) for i in range(2000)
    ]
    decoder = msgspec.json.Decoder(meta.WatchEvent)
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        for line in lines:
            ev = decoder.decode(line)
            codec.decode(ev.object, core.Pod)
        runs.append((time.perf_counter() - t0) / len(lines))
    out["watch_decode_us_per_event"] = statistics.median(runs) * 1e6

    q: WorkQueue[str] = WorkQueue("bench")
    keys = [f"ns/k{i}" for i in range(10000)]
    t0 = time.perf_counter()
    for k in keys:
        q.add(k)
    for _ in keys:
        k2 = await q.get()
        assert k2 is not None
        q.done(k2)
    out["workqueue_us_per_cycle"] = (time.perf_counter() - t0) / len(keys) * 1e6
    await q.aclose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=1000)
    ap.add_argument("--page", type=int, default=500)
    args = ap.parse_args()
    res = asyncio.run(bench(args.pods, args.page))
    rows = [
        ("create (ms)", f"p50 {res['create_ms']['p50']:.2f}  p99 {res['create_ms']['p99']:.2f}"),
        ("get (ms)", f"p50 {res['get_ms']['p50']:.2f}  p99 {res['get_ms']['p99']:.2f}"),
        (f"informer sync of {args.pods} pods (s)", f"{res['informer_sync_s']:.3f}"),
        ("cached pod (bytes)", f"{res['cache_bytes_per_pod']:.0f}"),
        (
            "watch delivery (ms)",
            f"p50 {res['watch_delivery_ms']['p50']:.2f}  p99 {res['watch_delivery_ms']['p99']:.2f}",
        ),
        ("watch event decode (µs/event)", f"{res['watch_decode_us_per_event']:.1f}"),
        ("workqueue add+get+done (µs)", f"{res['workqueue_us_per_cycle']:.1f}"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"machine": platform.machine(), "python": platform.python_version(), "pods": args.pods, **res}, indent=2
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
