"""The store's Prometheus metrics, with etcd's names where etcd has one.

Gauges and counters are read from ``Store.stats()`` at scrape time (nothing on the hot path);
commit durations come from the ``Store.observe_fsync`` hook; gRPC counters come from the
gRPC service. Names::

    etcd_mvcc_db_total_size_in_bytes           gauge      database file size (with WAL)
    etcd_mvcc_db_total_size_in_use_in_bytes    gauge      size minus free pages
    etcd_debugging_mvcc_keys_total             gauge      keys that exist now
    etcd_debugging_mvcc_watcher_total          gauge      open watchers
    etcd_debugging_mvcc_current_revision       gauge
    etcd_debugging_mvcc_compact_revision       gauge
    etcd_debugging_lease_total                 gauge      picluster: live leases
    etcd_mvcc_put_total, etcd_mvcc_delete_total,
    etcd_mvcc_range_total, etcd_mvcc_txn_total counter
    etcd_server_has_leader, etcd_server_is_leader  gauge  always 1: one member, its own leader
    etcd_disk_wal_fsync_duration_seconds       histogram  one observation per group commit
    picluster_store_group_commits_total        counter    commits (= fsyncs)
    picluster_store_group_commit_batches_total counter    write batches those commits carried
    picluster_store_watchers_slow_canceled_total counter  watchers cancelled by the slow-watcher policy
    grpc_server_started_total, grpc_server_handled_total{grpc_type,grpc_service,grpc_method[,grpc_code]}
    process_*                                  the store process (RSS, CPU, fds)

Each ``StoreMetrics`` has its own registry (``serve_metrics(host, port, metrics.registry)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from master.store.store import Store

__all__ = ["GrpcMetrics", "StoreMetrics"]

# etcd's buckets for disk latencies: 1 ms .. 8 s, doubling.
FSYNC_BUCKETS = tuple(0.001 * 2**i for i in range(14))


class _StoreCollector(Collector):
    def __init__(self, store: Store) -> None:
        self._store = store

    def collect(self) -> Iterator[Metric]:
        s = self._store.stats()
        gauges = (
            (
                "etcd_mvcc_db_total_size_in_bytes",
                "Total size of the underlying database in bytes.",
                s.db_size_bytes,
            ),
            (
                "etcd_mvcc_db_total_size_in_use_in_bytes",
                "Size of the underlying database logically in use, in bytes.",
                s.db_size_in_use_bytes,
            ),
            ("etcd_debugging_mvcc_keys_total", "Total number of keys.", s.keys_total),
            ("etcd_debugging_mvcc_watcher_total", "Total number of watchers.", s.watchers),
            ("etcd_debugging_mvcc_current_revision", "The current revision of the store.", s.revision),
            (
                "etcd_debugging_mvcc_compact_revision",
                "The revision of the last compaction.",
                s.compact_revision,
            ),
            ("etcd_debugging_lease_total", "Number of live leases.", s.leases),
            ("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.", 1),
            ("etcd_server_is_leader", "Whether or not this member is a leader.", 1),
        )
        for name, doc, value in gauges:
            yield GaugeMetricFamily(name, doc, value=value)
        counters = (
            ("etcd_mvcc_put", "Total number of puts seen by this member.", s.puts_total),
            ("etcd_mvcc_delete", "Total number of deletes seen by this member.", s.deletes_total),
            ("etcd_mvcc_range", "Total number of ranges seen by this member.", s.ranges_total),
            ("etcd_mvcc_txn", "Total number of txns seen by this member.", s.txns_total),
            ("picluster_store_group_commits", "Backend commits, each one fsync.", s.commits_total),
            (
                "picluster_store_group_commit_batches",
                "Write batches carried by those commits.",
                s.batches_total,
            ),
            (
                "picluster_store_watchers_slow_canceled",
                "Watchers cancelled because they fell too far behind.",
                s.watchers_slow_canceled_total,
            ),
        )
        for name, doc, value in counters:
            yield CounterMetricFamily(name, doc, value=value)


class GrpcMetrics:
    """go-grpc-prometheus's server counters, which etcd exports."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ("grpc_type", "grpc_service", "grpc_method")
        self.started = Counter(
            "grpc_server_started_total",
            "Total number of RPCs started on the server.",
            labels,
            registry=registry,
        )
        self.handled = Counter(
            "grpc_server_handled_total",
            "Total number of RPCs completed on the server, regardless of success or failure.",
            (*labels, "grpc_code"),
            registry=registry,
        )

        # Labelled children by label values: prometheus_client's labels() costs more than the
        # increment, and these are bumped twice per RPC.
        self._started: dict[tuple[str, str, str], Any] = {}
        self._handled: dict[tuple[str, str, str, grpc.StatusCode], Any] = {}

    def start(self, kind: str, service: str, method: str) -> None:
        key = (kind, service, method)
        child = self._started.get(key)
        if child is None:
            child = self._started[key] = self.started.labels(kind, service, method)
        child.inc()

    def done(self, kind: str, service: str, method: str, code: grpc.StatusCode) -> None:
        key = (kind, service, method, code)
        child = self._handled.get(key)
        if child is None:
            child = self._handled[key] = self.handled.labels(kind, service, method, _CODE_NAMES[code])
        child.inc()


# grpc-go's spelling of status codes ("OK", "InvalidArgument", ...), which the metrics use.
_CODE_NAMES = {code: "".join(part.capitalize() for part in code.name.split("_")) for code in grpc.StatusCode}
_CODE_NAMES[grpc.StatusCode.OK] = "OK"
_CODE_NAMES[grpc.StatusCode.CANCELLED] = "Canceled"


class StoreMetrics:
    """Every metric of a store process, in one registry of its own."""

    def __init__(self, store: Store, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.registry.register(_StoreCollector(store))
        self.fsync = Histogram(
            "etcd_disk_wal_fsync_duration_seconds",
            "The latency distributions of fsync called by WAL.",
            buckets=FSYNC_BUCKETS,
            registry=self.registry,
        )
        store.observe_fsync(self.fsync.observe)
        self.grpc = GrpcMetrics(self.registry)
        ProcessCollector(registry=self.registry)
