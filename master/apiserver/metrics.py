"""The apiserver's Prometheus metrics, in a registry of its own (one per server, so tests can run
several servers in one process).

Names follow kube-apiserver: ``apiserver_request_total{verb,resource,code}``,
``apiserver_request_duration_seconds{verb,resource}``, ``apiserver_registered_watchers{resource}``,
``apiserver_storage_objects{resource}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["ApiMetrics"]

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class _StorageObjects(Collector):
    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "apiserver_storage_objects", "Number of stored objects per resource.", labels=["resource"]
        )
        for resource, n in sorted(self._counts().items()):
            family.add_metric([resource], n)
        yield family


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "apiserver_request_total",
            "Requests by verb, resource and HTTP code.",
            ["verb", "resource", "code"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "apiserver_request_duration_seconds",
            "Request latency by verb and resource (watches: until the stream is set up).",
            ["verb", "resource"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.watchers = Gauge(
            "apiserver_registered_watchers", "Open watches by resource.", ["resource"], registry=self.registry
        )
        self.watch_events = Counter(
            "apiserver_watch_events_total", "Watch events sent, by resource.", ["resource"],
            registry=self.registry,
        )

        # Label children by their label values: ``labels()`` costs more than the update itself.
        self._counted: dict[tuple[str, str, str], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    def request_done(self, verb: str, resource: str, code: int, seconds: float | None) -> None:
        """Count a request; observe its duration unless None (watches)."""
        key = (verb, resource, str(code))
        counter = self._counted.get(key)
        if counter is None:
            counter = self._counted[key] = self.requests.labels(*key)
        counter.inc()
        if seconds is not None:
            timed = self._timed.get(key[:2])
            if timed is None:
                timed = self._timed[(verb, resource)] = self.duration.labels(verb, resource)
            timed.observe(seconds)

    def track_storage(self, counts: Callable[[], dict[str, int]]) -> None:
        self.registry.register(_StorageObjects(counts))
