"""The scheduler's Prometheus metrics, kube-scheduler's names, in a registry passed in (the
apiserver's when they share a process, a listener's of their own otherwise)::

    scheduler_schedule_attempts_total{result,profile}              result: scheduled | unschedulable | error
    scheduler_scheduling_attempt_duration_seconds{result,profile}  one attempt, algorithm + binding
    scheduler_scheduling_algorithm_duration_seconds                filter + score of one attempt
    scheduler_pod_scheduling_sli_duration_seconds{attempts}        first queued -> bound
    scheduler_pending_pods{queue}                                  queue: active | backoff | unschedulable
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["SchedulerMetrics"]

_ATTEMPT_BUCKETS = tuple(0.001 * 2**i for i in range(15))
_SLI_BUCKETS = tuple(0.01 * 2**i for i in range(20))


class _Pending(Collector):
    def __init__(self, metrics: SchedulerMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "scheduler_pending_pods", "Number of pending pods, by the queue type.", labels=["queue"]
        )
        source = self._metrics.pending_source
        counts = source() if source is not None else {}
        for queue in ("active", "backoff", "unschedulable"):
            family.add_metric([queue], counts.get(queue, 0))
        yield family


class SchedulerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self.attempts = Counter(
            "scheduler_schedule_attempts",
            "Number of attempts to schedule pods, by the result.",
            ["result", "profile"],
            registry=self.registry,
        )
        self.attempt_duration = Histogram(
            "scheduler_scheduling_attempt_duration_seconds",
            "Scheduling attempt latency in seconds (scheduling algorithm + binding).",
            ["result", "profile"],
            buckets=_ATTEMPT_BUCKETS,
            registry=self.registry,
        )
        self.algorithm_duration = Histogram(
            "scheduler_scheduling_algorithm_duration_seconds",
            "Scheduling algorithm latency in seconds (filter and score).",
            buckets=_ATTEMPT_BUCKETS,
            registry=self.registry,
        )
        self.sli_duration = Histogram(
            "scheduler_pod_scheduling_sli_duration_seconds",
            "E2e latency for a pod being scheduled, from the time the pod enters the scheduling "
            "queue until it is bound.",
            ["attempts"],
            buckets=_SLI_BUCKETS,
            registry=self.registry,
        )
        self.pending_source: Callable[[], dict[str, int]] | None = None
        self.registry.register(_Pending(self))
