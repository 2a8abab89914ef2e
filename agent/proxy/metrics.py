"""The proxy's Prometheus metrics, kube-proxy's names where kube-proxy has one.

Pass a ``CollectorRegistry`` (tests use a fresh one each); the agent passes the registry
it serves on ``/metrics``.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["ProxyMetrics"]

# From a millisecond to several minutes: a Pi with thousands of Services is slow, a small
# change is fast.
_SYNC_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_PROGRAMMING_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.0,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
)


class ProxyMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        reg = REGISTRY if registry is None else registry
        self.sync_duration = Histogram(
            "kubeproxy_sync_proxy_rules_duration_seconds",
            "Time to compute and program the proxy rules, one observation per sync.",
            buckets=_SYNC_BUCKETS,
            registry=reg,
        )
        self.full_sync_duration = Histogram(
            "kubeproxy_sync_full_proxy_rules_duration_seconds",
            "Time of syncs that rewrote the whole table.",
            buckets=_SYNC_BUCKETS,
            registry=reg,
        )
        self.partial_sync_duration = Histogram(
            "kubeproxy_sync_partial_proxy_rules_duration_seconds",
            "Time of syncs that changed only what differed.",
            buckets=_SYNC_BUCKETS,
            registry=reg,
        )
        self.network_programming = Histogram(
            "kubeproxy_network_programming_duration_seconds",
            "From an endpoint change (its trigger time, or when we saw it) to its rules being in the kernel.",
            buckets=_PROGRAMMING_BUCKETS,
            registry=reg,
        )
        self.last_sync = Gauge(
            "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
            "When the rules were last programmed successfully (seconds since the epoch).",
            registry=reg,
        )
        self.sync_failures = Counter(
            "kubeproxy_sync_proxy_rules_nftables_sync_failures_total",
            "Syncs the kernel refused.",
            registry=reg,
        )
        self.endpoint_changes = Counter(
            "kubeproxy_sync_proxy_rules_endpoint_changes_total",
            "EndpointSlice changes seen.",
            registry=reg,
        )
        self.service_changes = Counter(
            "kubeproxy_sync_proxy_rules_service_changes_total",
            "Service changes seen.",
            registry=reg,
        )
        self.objects = Gauge(
            "picluster_proxy_nftables_objects",
            "Objects in our nftables table after the last sync, by kind (chains, rules, sets, elements).",
            ["kind"],
            registry=reg,
        )
        self.services = Gauge(
            "picluster_proxy_services_programmed",
            "Service ports programmed, by whether they have endpoints.",
            ["endpoints"],
            registry=reg,
        )
