"""pictl start-up and command latency against a real ``pictl master``, beside kubectl, as a table.

    .venv/bin/python tests/perf/cli_bench.py [--runs 11]

Starts ``pictl master`` (sqlite store, loopback ports, temp data dir), then runs each command
``--runs`` times as a fresh process and reports the median and minimum wall time: what a user
waits for at the prompt. The import floor (python + typer + aiohttp + the API registry, with no
request) shows how much of that is start-up. The machine is shared, so medians move with its
load; the minimum is the closest to an idle machine. Writes tests/perf/results/cli_bench.json.
A benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fixtures.apiserver import PICTL, start_master

RESULTS = Path(__file__).parent / "results" / "cli_bench.json"
PYTHON = str(Path(sys.executable))


def _time(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=False, timeout=60)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), min(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="cli-bench-"))
    master = start_master(data_dir / "master")
    try:
        env = {**os.environ, "KUBECONFIG": str(master.kubeconfig)}
        subprocess.run([str(PICTL), "create", "ns", "bench"], env=env, capture_output=True, check=True)
        for i in range(20):
            subprocess.run([str(PICTL), "-n", "bench", "create", "cm", f"cm-{i}", f"--from-literal=i={i}"], env=env,
                           capture_output=True, check=True)
        cases: list[tuple[str, list[str]]] = [
            ("python -c pass", [PYTHON, "-c", "pass"]),
            ("import floor (typer, aiohttp, registry)",
             [PYTHON, "-c", "import typer._adapters, aiohttp, master.api.registry, master.client.rest"]),
            ("pictl version --client", [str(PICTL), "version", "--client"]),
            ("pictl get pods", [str(PICTL), "get", "pods"]),
            ("pictl get cm -n bench (20)", [str(PICTL), "get", "cm", "-n", "bench"]),
            ("pictl get cm -n bench -o yaml", [str(PICTL), "get", "cm", "-n", "bench", "-o", "yaml"]),
            ("pictl describe ns bench", [str(PICTL), "describe", "ns", "bench"]),
            ("pictl --help", [str(PICTL), "--help"]),
        ]
        if shutil.which("kubectl"):
            cases.append(("kubectl get pods", ["kubectl", "get", "pods"]))
            cases.append(("kubectl get cm -n bench (20)", ["kubectl", "get", "cm", "-n", "bench"]))
        rows = []
        for name, cmd in cases:
            med, low = _time(cmd, env, args.runs)
            rows.append({"command": name, "median_s": round(med, 3), "min_s": round(low, 3)})
    finally:
        master.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    width = max(len(r["command"]) for r in rows)
    print(f"{'command':<{width}}   median    min")
    for r in rows:
        print(f"{r['command']:<{width}}   {r['median_s']:6.3f}  {r['min_s']:6.3f}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"python": platform.python_version(), "machine": platform.machine(),
                                   "cpus": os.cpu_count(), "load_1m": load, "runs": args.runs, "rows": rows},
                                  indent=2) + "\n")
    print(f"(load average {load:.2f}; results in {RESULTS})" if load is not None else f"(results in {RESULTS})")


if __name__ == "__main__":
    main()
