"""Resource usage from the agents, for ``top``: the kubelet's ``/metrics/resource`` text.

Kubernetes' ``kubectl top`` asks metrics-server; picluster has none, so ``pictl top`` reads each
node's agent through the apiserver (``GET /api/v1/nodes/NODE/proxy/metrics/resource``). The
agent serves the kubelet's Prometheus text format, with millisecond timestamps::

    node_cpu_usage_seconds_total 357.35491 1633253812125
    node_memory_working_set_bytes 1.61662976e+09 1633253812125
    pod_cpu_usage_seconds_total{namespace="default",pod="web-1"} 6.9 1633253807658
    pod_memory_working_set_bytes{namespace="default",pod="web-1"} 1.3e+07 1633253807658
    container_cpu_usage_seconds_total{container="c",namespace="default",pod="web-1"} 6.85 1633253807658
    container_memory_working_set_bytes{container="c",namespace="default",pod="web-1"} 1.3e+07 1633253807658

CPU is a counter of seconds, so usage in cores is the difference of two samples over the time
between them (their timestamps, else the time between the reads); memory is the working set of
the second sample.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["MetricsError", "Sample", "Usage", "parse", "usage"]

_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+(-?\d+))?\s*$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')

NODE_CPU = "node_cpu_usage_seconds_total"
NODE_MEMORY = "node_memory_working_set_bytes"
POD_CPU = "pod_cpu_usage_seconds_total"
POD_MEMORY = "pod_memory_working_set_bytes"
CONTAINER_CPU = "container_cpu_usage_seconds_total"
CONTAINER_MEMORY = "container_memory_working_set_bytes"


class MetricsError(ValueError):
    """Text that is not the Prometheus exposition format."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One scrape: (metric, sorted label pairs) -> (value, timestamp in seconds or None)."""

    values: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, float | None]]
    read_at: float

    def get(self, name: str, **labels: str) -> tuple[float, float | None] | None:
        return self.values.get((name, tuple(sorted(labels.items()))))

    def series(self, name: str) -> list[tuple[dict[str, str], float, float | None]]:
        return [(dict(lbl), v, ts) for (n, lbl), (v, ts) in self.values.items() if n == name]


def _unescape(value: str) -> str:
    return value.replace("\\\\", "\0").replace('\\"', '"').replace("\\n", "\n").replace("\0", "\\")


def parse(text: str, read_at: float) -> Sample:
    values: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, float | None]] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            raise MetricsError(f"line {number}: not a metric sample: {line[:80]!r}")
        name, label_text, value_text, ts_text = m.groups()
        labels: list[tuple[str, str]] = []
        if label_text:
            inner = label_text[1:-1]
            pos = 0
            while pos < len(inner):
                lm = _LABEL.match(inner, pos)
                if not lm:
                    raise MetricsError(f"line {number}: bad labels {label_text!r}")
                labels.append((lm.group(1), _unescape(lm.group(2))))
                pos = lm.end()
        try:
            value = float(value_text)
        except ValueError:
            raise MetricsError(f"line {number}: bad value {value_text!r}") from None
        ts = int(ts_text) / 1000.0 if ts_text else None
        values[(name, tuple(sorted(labels)))] = (value, ts)
    return Sample(values, read_at)


@dataclass(slots=True)
class Usage:
    """CPU in millicores and memory in bytes, per node, pod and container, from two samples."""

    node_cpu: int | None = None
    node_memory: int | None = None
    pods: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    containers: dict[tuple[str, str, str], tuple[int, int]] = field(default_factory=dict)


def _rate(first: tuple[float, float | None] | None, second: tuple[float, float | None] | None,
          first_read: float, second_read: float) -> int | None:
    if first is None or second is None:
        return None
    (v1, t1), (v2, t2) = first, second
    elapsed = (t2 - t1) if t1 is not None and t2 is not None and t2 > t1 else second_read - first_read
    if elapsed <= 0 or v2 < v1:
        return None
    return round((v2 - v1) / elapsed * 1000)


def usage(first: Sample, second: Sample) -> Usage:
    out = Usage()
    out.node_cpu = _rate(first.get(NODE_CPU), second.get(NODE_CPU), first.read_at, second.read_at)
    mem = second.get(NODE_MEMORY)
    out.node_memory = int(mem[0]) if mem is not None else None
    for labels, _, _ in second.series(POD_CPU):
        ns, pod = labels.get("namespace", ""), labels.get("pod", "")
        cpu = _rate(first.get(POD_CPU, **labels), second.get(POD_CPU, **labels), first.read_at, second.read_at)
        pm = second.get(POD_MEMORY, **labels)
        if cpu is not None:
            out.pods[(ns, pod)] = (cpu, int(pm[0]) if pm is not None else 0)
    for labels, _, _ in second.series(CONTAINER_CPU):
        key = (labels.get("namespace", ""), labels.get("pod", ""), labels.get("container", ""))
        cpu = _rate(first.get(CONTAINER_CPU, **labels), second.get(CONTAINER_CPU, **labels),
                    first.read_at, second.read_at)
        cm = second.get(CONTAINER_MEMORY, **labels)
        if cpu is not None:
            out.containers[key] = (cpu, int(cm[0]) if cm is not None else 0)
    return out
