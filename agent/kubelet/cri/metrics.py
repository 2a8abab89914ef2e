"""CRI operation metrics, under the kubelet's names so existing dashboards work.

    kubelet_runtime_operations_total{operation_type}
    kubelet_runtime_operations_errors_total{operation_type}
    kubelet_runtime_operations_duration_seconds{operation_type}   (histogram)

``operation_type`` is the kubelet's: run_podsandbox, create_container, pull_image, exec_sync, ...
(the containerd client names each call). Metrics live in a registry the agent passes in, so
tests use a fresh ``CollectorRegistry`` each and never collide on names.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

__all__ = ["RuntimeMetrics"]

# Exponential from 5 ms by x2.5 up to ~2 min: exec probes are fast, pulls on a Pi are slow.
_BUCKETS = tuple(0.005 * 2.5**i for i in range(12))


class RuntimeMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.operations = Counter(
            "kubelet_runtime_operations_total",
            "Cumulative number of runtime operations by operation type.",
            ["operation_type"],
            registry=registry,
        )
        self.errors = Counter(
            "kubelet_runtime_operations_errors_total",
            "Cumulative number of runtime operation errors by operation type.",
            ["operation_type"],
            registry=registry,
        )
        self.duration = Histogram(
            "kubelet_runtime_operations_duration_seconds",
            "Duration in seconds of runtime operations, by operation type.",
            ["operation_type"],
            buckets=_BUCKETS,
            registry=registry,
        )

    def observe(self, operation: str, seconds: float, *, failed: bool) -> None:
        self.operations.labels(operation).inc()
        self.duration.labels(operation).observe(seconds)
        if failed:
            self.errors.labels(operation).inc()
