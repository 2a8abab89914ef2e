"""master.api hot paths on one core, as a table: decode, encode, default+validate, selectors, patch.

    .venv/bin/python tests/perf/bench_api.py [--rounds 7] [--objects 1000]

A realistic Deployment-made Pod (two containers, probes, env, volumes, status) is decoded,
encoded, defaulted and validated; a PodList of ``--objects`` pods is decoded and encoded; a label
selector is matched against every pod; a kubectl-apply strategic merge patch is applied. Prints
the median and p90 per operation in microseconds (per object) and writes
tests/perf/results/api.json. A benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from master.api import codec, core, labels, patch
from master.api.registry import DEFAULT

RESULTS = Path(__file__).parent / "results" / "api.json"

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web-6d4cf56db6-x7k2p", "generateName": "web-6d4cf56db6-", "namespace": "default",
        "uid": "4b8e9c1e-8f0e-4b7a-9d61-3f7a1f0b2c11", "resourceVersion": "12345",
        "creationTimestamp": "2026-11-27T04:34:00Z", "labels": {"app": "web", "pod-template-hash": "6d4cf56db6"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-6d4cf56db6",
                             "uid": "a1b2", "controller": True, "blockOwnerDeletion": True}],
    },
    "spec": {
        "containers": [
            {"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80, "name": "http"}],
             "env": [{"name": "MODE", "value": "prod"},
                     {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
             "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}},
             "readinessProbe": {"httpGet": {"path": "/healthz", "port": 80}},
             "livenessProbe": {"tcpSocket": {"port": 80}, "initialDelaySeconds": 5},
             "volumeMounts": [{"name": "cfg", "mountPath": "/etc/web"}]},
            {"name": "log", "image": "busybox:1.36", "command": ["sh", "-c", "tail -f /var/log/web.log"]},
        ],
        "volumes": [{"name": "cfg", "configMap": {"name": "web"}}],
        "nodeName": "pi-3",
        "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                         "tolerationSeconds": 300}],
    },
    "status": {
        "phase": "Running", "podIP": "10.244.3.7", "podIPs": [{"ip": "10.244.3.7"}], "hostIP": "10.77.0.13",
        "startTime": "2026-11-27T04:34:01Z", "qosClass": "Burstable",
        "conditions": [{"type": t, "status": "True", "lastTransitionTime": "2026-11-27T04:34:05Z"}
                       for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")],
        "containerStatuses": [
            {"name": n, "ready": True, "restartCount": 0, "image": i, "imageID": "sha256:ab", "containerID": "containerd://cd",
             "started": True, "state": {"running": {"startedAt": "2026-11-27T04:34:03Z"}}}
            for n, i in (("web", "nginx:1.25"), ("log", "busybox:1.36"))
        ],
    },
}

APPLY_PATCH = {
    "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
    "spec": {"$setElementOrder/containers": [{"name": "web"}, {"name": "log"}],
             "containers": [{"name": "web", "image": "nginx:1.27"}]},
}


def _measure(fn: Callable[[], Any], rounds: int, per: int) -> tuple[float, float]:
    """(median, p90) microseconds per object over ``rounds`` timed batches."""
    n = max(1, 2000 // per)
    fn()
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t0) / (n * per) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.9))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--objects", type=int, default=1000)
    args = ap.parse_args()

    resource = DEFAULT.lookup("pods")
    assert resource is not None
    strategy = resource.strategy
    raw = json.dumps(POD).encode()
    pod = codec.decode(raw, core.Pod)
    pods = [pod] * args.objects
    list_bytes = codec.encode_list(pods, kind="PodList", api_version="v1", resource_version="99")
    selector = labels.parse("app=web,pod-template-hash in (6d4cf56db6,other)")
    doc = codec.to_builtins(pod)
    patch_body = json.dumps(APPLY_PATCH).encode()

    def default_validate() -> None:
        p = codec.decode(raw, core.Pod)
        strategy.default(p)
        strategy.validate(p)

    cases: list[tuple[str, Callable[[], Any], int]] = [
        ("decode pod", lambda: codec.decode(raw, core.Pod), 1),
        ("encode pod", lambda: codec.encode(pod), 1),
        ("decode+default+validate pod", default_validate, 1),
        (f"decode PodList ({args.objects})", lambda: codec.decode_list(list_bytes, core.Pod), args.objects),
        (f"encode PodList ({args.objects})", lambda: codec.encode_list(pods, kind="PodList", api_version="v1"),
         args.objects),
        (f"encode PodList of Raw ({args.objects})",
         lambda: codec.encode_list([msgspec.Raw(raw)] * args.objects, kind="PodList", api_version="v1"), args.objects),
        ("label selector match", lambda: selector.matches(pod.metadata.labels), 1),
        ("field attrs + match", lambda: strategy.field_attrs(pod)["spec.nodeName"] == "pi-3", 1),
        ("to_builtins + SMP + convert", lambda: codec.convert(
            patch.apply(codec.to_builtins(pod), patch_body, patch.STRATEGIC_MERGE_PATCH, core.Pod), core.Pod), 1),
        ("clone pod", lambda: codec.clone(pod), 1),
    ]
    del doc
    rows = []
    print(f"{'operation':40} {'median µs':>12} {'p90 µs':>10}")
    for name, fn, per in cases:
        med, p90 = _measure(fn, args.rounds, per)
        rows.append({"operation": name, "median_us": round(med, 2), "p90_us": round(p90, 2)})
        print(f"{name:40} {med:12.2f} {p90:10.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": platform.machine(), "python": platform.python_version(),
                                   "pod_bytes": len(raw), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
