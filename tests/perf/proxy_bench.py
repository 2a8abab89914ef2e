"""Benchmark: programming Services into the kernel, in a throwaway network namespace.

For each size (1, 100, 1000, 5000 Services; 2 endpoints each):

- *from scratch*: one sync into an empty namespace (the table is created with every chain,
  rule, map and element), split into building the ruleset (Python) and the netlink batch
  (encoding + the kernel's transaction);
- *one endpoint change*: replace one endpoint of one Service, then time from the change
  being handed to the proxy until a fresh netlink dump of that Service's chain shows the
  new endpoint (a second socket reads it back), repeated and reported as median and p90.
  In the running agent a change also waits for the runner's minimum sync period (1 s by
  default) when changes come faster than that; that batching delay is by design and not
  included here.

Run as root: ``.venv/bin/python tests/perf/proxy_bench.py [--quick]``. Prints a table and
writes ``tests/perf/results/proxy_bench.json``. Numbers are medians on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from agent.proxy import (
    EndpointInfo,
    EndpointPortInfo,
    EndpointSliceInfo,
    KernelNetfilter,
    ProxyConfig,
    ServiceInfo,
    ServicePortInfo,
    ServiceProxy,
)
from agent.proxy.rules import service_chain_name

RESULTS = Path(__file__).parent / "results" / "proxy_bench.json"
PORTS = (EndpointPortInfo("http", 8080),)


def service(i: int) -> ServiceInfo:
    return ServiceInfo(
        "bench",
        f"svc-{i}",
        f"10.{96 + i // 65000}.{i // 250 % 256}.{i % 250 + 1}",
        (ServicePortInfo("http", "TCP", 80, "web", 30000 + i if i < 2700 else None),),
        type="NodePort" if i < 2700 else "ClusterIP",
    )


def endpoint_slice(i: int, generation: int = 0) -> EndpointSliceInfo:
    base = 2 + (generation * 2) % 200
    eps = tuple(
        EndpointInfo(f"10.{244 + k}.{i // 250 % 256}.{(i + base) % 250 + 2}", PORTS, node_name=f"pi-{k + 1}")
        for k in range(2)
    )
    return EndpointSliceInfo("bench", f"svc-{i}-x", f"svc-{i}", eps)


class Namespace:
    def __init__(self) -> None:
        self.name = f"pcbench{os.getpid()}"
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True)

    def close(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


async def bench_size(n: int, changes: int) -> dict[str, Any]:
    ns = Namespace()
    writer = KernelNetfilter(ns.name)
    reader = KernelNetfilter(ns.name)
    try:
        proxy = ServiceProxy(ProxyConfig(node_name="pi-1", pod_cidr="10.244.1.0/24"), writer)
        t0 = time.perf_counter()
        for i in range(n):
            proxy.update_service(service(i))
            proxy.update_endpoint_slice(endpoint_slice(i))
        t_feed = time.perf_counter() - t0

        # From scratch, split into the model and the kernel by timing the netlink apply.
        apply_time = 0.0
        real_apply = writer.apply

        def timed_apply(ops: Any) -> None:
            nonlocal apply_time
            t = time.perf_counter()
            real_apply(ops)
            apply_time += time.perf_counter() - t

        writer.apply = timed_apply  # type: ignore[method-assign]
        t0 = time.perf_counter()
        first = await proxy.sync()
        t_scratch = time.perf_counter() - t0
        writer.apply = real_apply  # type: ignore[method-assign]
        counts = proxy.metrics.objects
        objects = {
            k: int(counts.labels(kind=k)._value.get()) for k in ("chains", "rules", "sets", "elements")
        }

        latencies: list[float] = []
        sync_times: list[float] = []
        ops_per_change: list[int] = []
        for c in range(changes):
            i = (c * 7919) % n
            es = endpoint_slice(i, generation=c + 1)
            new_ip = es.endpoints[0].ip
            chain = service_chain_name(service(i), service(i).ports[0])
            t0 = time.perf_counter()
            proxy.update_endpoint_slice(es)
            result = await proxy.sync()
            t_sync = time.perf_counter() - t0
            while True:
                if _references(reader.chain_rules("picluster", chain) or (), new_ip):
                    break
                if time.perf_counter() - t0 > 30:
                    raise RuntimeError(f"change of svc-{i} not visible after 30 s")
            latencies.append(time.perf_counter() - t0)
            sync_times.append(t_sync)
            ops_per_change.append(result.ops)

        return {
            "services": n,
            "endpoints_per_service": 2,
            "objects": objects,
            "feed_seconds": round(t_feed, 4),
            "scratch_seconds": round(t_scratch, 4),
            "scratch_build_seconds": round(t_scratch - apply_time, 4),
            "scratch_kernel_seconds": round(apply_time, 4),
            "scratch_ops": first.ops,
            "change_samples": len(latencies),
            "change_visible_median_ms": round(statistics.median(latencies) * 1000, 2),
            "change_visible_p90_ms": round(_p90(latencies) * 1000, 2),
            "change_sync_median_ms": round(statistics.median(sync_times) * 1000, 2),
            "change_ops_median": int(statistics.median(ops_per_change)),
        }
    finally:
        writer.close()
        reader.close()
        ns.close()


def _references(rules: Any, ip: str) -> bool:
    """Whether a chain's rules send traffic to an endpoint chain of ``ip``."""
    needle = f"__{ip}/"
    for r in rules:
        for e in r.exprs:
            chain = getattr(e, "chain", None)
            if chain and needle in chain:
                return True
            for _, verdict in getattr(e, "elements", ()):
                if verdict.chain and needle in verdict.chain:
                    return True
    return False


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'services':>8} {'chains':>7} {'rules':>7} {'elems':>6} {'scratch s':>10} {'(model':>8} {'kernel)':>8}"
        f" {'change ms':>10} {'p90 ms':>7} {'sync ms':>8} {'ops':>4}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        o = r["objects"]
        lines.append(
            f"{r['services']:>8} {o['chains']:>7} {o['rules']:>7} {o['elements']:>6} {r['scratch_seconds']:>10.3f}"
            f" {r['scratch_build_seconds']:>8.3f} {r['scratch_kernel_seconds']:>8.3f}"
            f" {r['change_visible_median_ms']:>10.2f} {r['change_visible_p90_ms']:>7.2f}"
            f" {r['change_sync_median_ms']:>8.2f} {r['change_ops_median']:>4}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes 1, 100, 1000 and fewer samples")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], help="e.g. 1,100,1000")
    parser.add_argument("--changes", type=int, help="endpoint changes timed per size")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("proxy_bench: needs root (network namespaces, nftables)", file=sys.stderr)
        return 2
    sizes = args.sizes or ([1, 100, 1000] if args.quick else [1, 100, 1000, 5000])
    changes = args.changes or (10 if args.quick else 30)
    rows = []
    for n in sizes:
        rows.append(asyncio.run(bench_size(n, changes)))
        print(f"  {n} services done", file=sys.stderr)
    print(table(rows))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "proxy_bench",
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "kernel": platform.release(),
            "python": platform.python_version(),
        },
        "target": "one endpoint change visible in the kernel in < 50 ms at 1000 Services",
        "results": rows,
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
