"""Testbed life cycle times on this machine, as a table.

    sudo .venv/bin/python tests/perf/bench_testbed.py [--rounds 5] [--nodes 3] [--master]

Each round builds a testbed of ``--nodes`` Pis (containerd + the standard images imported;
``--master`` adds ``pictl master``; never agents), power-cycles pi-1, partitions and heals it,
and takes the testbed down. The image archive is built once before the rounds (it is cached
by content). Prints the median and p90 of each step in seconds and writes
tests/perf/results/testbed.json. A benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from hw import images
from hw.testbed import Testbed

RESULTS = Path(__file__).parent / "results" / "testbed.json"
STEPS = ("up", "power-off", "power-on", "partition", "heal", "down")


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--master", action="store_true", help="also run pictl master")
    args = parser.parse_args()

    t0 = time.perf_counter()
    images.standard_archive()
    first_build = time.perf_counter() - t0

    samples: dict[str, list[float]] = {s: [] for s in STEPS}
    for _ in range(args.rounds):
        tb = Testbed(f"bench{secrets.token_hex(3)}")
        try:
            samples["up"].append(_timed(lambda tb=tb: tb.up(args.nodes, master=args.master, agents=False)))
            for step in STEPS[1:-1]:
                samples[step].append(_timed(lambda tb=tb, step=step: tb.fault("pi-1", step)))
        finally:
            samples["down"].append(_timed(tb.down))

    rows = []
    print(f"testbed, {args.nodes} nodes{' + master' if args.master else ''}, {args.rounds} rounds "
          f"(image archive: {first_build:.2f}s, cached afterwards)")
    print(f"{'step':<12}{'median s':>10}{'p90 s':>10}")
    for step in STEPS:
        xs = sorted(samples[step])
        med, p90 = statistics.median(xs), xs[min(len(xs) - 1, int(0.9 * len(xs)))]
        rows.append({"step": step, "median_s": round(med, 4), "p90_s": round(p90, 4)})
        print(f"{step:<12}{med:>10.3f}{p90:>10.3f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "testbed",
        "nodes": args.nodes,
        "master": args.master,
        "rounds": args.rounds,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "image_archive_first_build_s": round(first_build, 4),
        "steps": rows,
    }, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
