"""The controller-manager's Prometheus metrics.

Per controller (label ``controller``):

- ``controller_sync_duration_seconds`` histogram of ``sync(key)`` calls;
- ``controller_sync_errors_total``: syncs that raised (NotFound, which means "done", excluded);
- ``workqueue_*`` (depth, adds, latency, work duration, retries) come from
  ``master.client.workqueue``, labelled ``name=<controller>``;

and ``node_collector_evictions_total{zone}`` (pods the taint manager deleted),
``node_collector_zone_health{zone}`` (percent of ready nodes), ``node_collector_zone_size{zone}``,
``controller_manager_leader`` (1 while this process leads).

The sync and node metrics live in a registry of our own (several managers in one test process
must not collide); the work queues write to prometheus_client's global registry. ``exposition()``
is a collector of both (the global one filtered to our queues' names), to register on the
apiserver's registry when in process, or to serve on the manager's own listener.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from master.client import errors

__all__ = ["ControllerMetrics"]

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_WORKQUEUE_PREFIX = "workqueue_"

SyncFunc = Callable[[str], Awaitable[float | None]]


class ControllerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.sync_duration = Histogram(
            "controller_sync_duration_seconds",
            "Time one sync(key) of a controller takes.",
            ["controller"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.sync_errors = Counter(
            "controller_sync_errors",
            "sync(key) calls that failed (and were retried or dropped).",
            ["controller"],
            registry=self.registry,
        )
        self.evictions = Counter(
            "node_collector_evictions",
            "Pods deleted by the taint manager because their node was tainted NoExecute.",
            ["zone"],
            registry=self.registry,
        )
        self.zone_health = Gauge(
            "node_collector_zone_health",
            "Percentage of healthy nodes in each zone.",
            ["zone"],
            registry=self.registry,
        )
        self.zone_size = Gauge(
            "node_collector_zone_size", "Nodes in each zone.", ["zone"], registry=self.registry
        )
        self.leader = Gauge(
            "controller_manager_leader",
            "1 while this controller-manager holds the leader lease.",
            registry=self.registry,
        )
        self.queue_names: set[str] = set()

    def instrument(self, controller: str, sync: SyncFunc) -> SyncFunc:
        """``sync`` timed into the histogram, failures counted (NotFound is a normal outcome)."""
        self.queue_names.add(controller)
        duration = self.sync_duration.labels(controller)
        failures = self.sync_errors.labels(controller)

        async def timed(key: str) -> float | None:
            start = time.perf_counter()
            try:
                return await sync(key)
            except errors.NotFound:
                raise
            except Exception:
                failures.inc()
                raise
            finally:
                duration.observe(time.perf_counter() - start)

        return timed

    def exposition(self) -> Collector:
        """A collector of our registry plus the work-queue families of our controllers."""
        return _Exposition(self)


class _Exposition(Collector):
    def __init__(self, metrics: ControllerMetrics) -> None:
        self._metrics = metrics

    def describe(self) -> list[Metric]:
        # Nothing to pre-register: the work-queue families belong to the global registry, and
        # another component in the process may expose its own queues under the same names.
        return []

    def collect(self) -> Iterator[Metric]:
        yield from self._metrics.registry.collect()
        names = self._metrics.queue_names
        for family in REGISTRY.collect():
            if not family.name.startswith(_WORKQUEUE_PREFIX):
                continue
            mine = Metric(family.name, family.documentation, family.type, family.unit)
            mine.samples = [s for s in family.samples if s.labels.get("name") in names]
            if mine.samples:
                yield mine
