"""The kubelet's resource metrics (``GET /metrics/resource`` on port 10250): what ``pictl top`` reads.

Prometheus text with millisecond timestamps, under the kubelet's names::

    node_cpu_usage_seconds_total 357.35491 1633253812125
    node_memory_working_set_bytes 1616629760 1633253812125
    pod_cpu_usage_seconds_total{namespace="default",pod="web-1"} 6.9 1633253807658
    pod_memory_working_set_bytes{namespace="default",pod="web-1"} 13000000 1633253807658
    container_cpu_usage_seconds_total{container="c",namespace="default",pod="web-1"} 6.85 1633253807658
    container_memory_working_set_bytes{container="c",namespace="default",pod="web-1"} 13000000 1633253807658
    scrape_error 0

Node values are the machine's: busy CPU time from ``/proc/stat`` (everything but idle and
iowait) and memory in use (MemTotal - MemAvailable). Container values come from the runtime's
``ListContainerStats`` (containers without readings, i.e. not running, are left out; of two
attempts of one container the later counts); a pod's are the sums of its containers'.
``scrape_error`` is 1 when the runtime could not be asked (then only node values are there).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from agent.kubelet import keys
from agent.kubelet.cri import CRIError, Runtime
from agent.kubelet.cri.types import ContainerStats

__all__ = ["NodeUsage", "node_usage", "render"]

_HELP = {
    "node_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed by the node in core-seconds"),
    "node_memory_working_set_bytes": ("gauge", "Current working set of the node in bytes"),
    "pod_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed by the pod in core-seconds"),
    "pod_memory_working_set_bytes": ("gauge", "Current working set of the pod in bytes"),
    "container_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed by the container in core-seconds"),
    "container_memory_working_set_bytes": ("gauge", "Current working set of the container in bytes"),
    "scrape_error": ("gauge", "1 if there was an error while getting container metrics, 0 otherwise"),
}


@dataclass(frozen=True, slots=True)
class NodeUsage:
    cpu_seconds: float
    memory_working_set_bytes: int


def node_usage() -> NodeUsage:
    cpu = psutil.cpu_times()
    busy = cpu.user + cpu.nice + cpu.system + getattr(cpu, "irq", 0.0) + getattr(cpu, "softirq", 0.0) \
        + getattr(cpu, "steal", 0.0)
    mem = psutil.virtual_memory()
    return NodeUsage(busy, mem.total - mem.available)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items())) + "}"


def _sample(out: list[str], name: str, labels: str, value: float | int, ts_ms: int) -> None:
    out.append(f"{name}{labels} {value!r} {ts_ms}")


async def render(runtime: Runtime, *, node: Callable[[], NodeUsage] = node_usage,
                 now: Callable[[], float] = time.time) -> bytes:
    """The ``/metrics/resource`` body."""
    stamp = int(now() * 1000)
    lines: dict[str, list[str]] = {name: [] for name in _HELP}
    usage = node()
    _sample(lines["node_cpu_usage_seconds_total"], "node_cpu_usage_seconds_total", "",
            round(usage.cpu_seconds, 6), stamp)
    _sample(lines["node_memory_working_set_bytes"], "node_memory_working_set_bytes", "",
            usage.memory_working_set_bytes, stamp)
    try:
        stats = await runtime.list_container_stats()
        error = 0
    except CRIError:
        stats, error = [], 1
    latest: dict[tuple[str, str, str], ContainerStats] = {}
    for s in stats:
        if s.cpu_usage_core_nanoseconds is None or s.memory_working_set_bytes is None:
            continue
        key = (s.labels.get(keys.POD_NAMESPACE, ""), s.labels.get(keys.POD_NAME, ""),
               s.labels.get(keys.CONTAINER_NAME, s.name))
        if not key[0] or not key[1]:
            continue  # not one of our pods' containers
        if key not in latest or s.attempt > latest[key].attempt:
            latest[key] = s
    pods: dict[tuple[str, str], tuple[int, int, int]] = {}
    for (ns, pod, container), s in sorted(latest.items()):
        cpu_ns, mem = s.cpu_usage_core_nanoseconds or 0, s.memory_working_set_bytes or 0
        ts = s.timestamp // 1_000_000 if s.timestamp else stamp
        labels = _labels(container=container, namespace=ns, pod=pod)
        _sample(lines["container_cpu_usage_seconds_total"], "container_cpu_usage_seconds_total", labels,
                cpu_ns / 1e9, ts)
        _sample(lines["container_memory_working_set_bytes"], "container_memory_working_set_bytes", labels, mem, ts)
        p_cpu, p_mem, p_ts = pods.get((ns, pod), (0, 0, 0))
        pods[(ns, pod)] = (p_cpu + cpu_ns, p_mem + mem, max(p_ts, ts))
    for (ns, pod), (cpu_ns, mem, ts) in pods.items():
        labels = _labels(namespace=ns, pod=pod)
        _sample(lines["pod_cpu_usage_seconds_total"], "pod_cpu_usage_seconds_total", labels, cpu_ns / 1e9, ts)
        _sample(lines["pod_memory_working_set_bytes"], "pod_memory_working_set_bytes", labels, mem, ts)
    lines["scrape_error"].append(f"scrape_error {error}")
    text: list[str] = []
    for name, (kind, help_text) in _HELP.items():
        if lines[name]:
            text += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *lines[name]]
    return ("\n".join(text) + "\n").encode()
