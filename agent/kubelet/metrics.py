"""The kubelet's own Prometheus metrics, under the kubelet's names where it has one.

    kubelet_pod_start_duration_seconds          first seen -> all containers running (histogram)
    kubelet_pod_worker_duration_seconds{operation}   one pod sync: create, update, sync, kill
    kubelet_running_pods, kubelet_running_containers{container_state}
    kubelet_pleg_relist_duration_seconds, kubelet_pleg_last_seen_seconds
    kubelet_started_containers_total, kubelet_started_containers_errors_total{code}
    kubelet_restarted_containers_total           (picluster) restarts after exits and kills
    kubelet_node_status_updates_total{result}    (picluster) Node status writes
    kubelet_lease_renewals_total{result}         (picluster)

The CRI operation metrics are ``agent.kubelet.cri.metrics``; the board's (CPU, memory,
temperature, throttling) ``hw.board.metrics``; all in the registry the agent serves.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["KubeletMetrics"]

_START_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
_SYNC_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class KubeletMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.pod_start = Histogram(
            "kubelet_pod_start_duration_seconds",
            "Duration in seconds from the kubelet seeing a pod for the first time to the pod starting to run.",
            buckets=_START_BUCKETS,
            registry=registry,
        )
        self.pod_worker = Histogram(
            "kubelet_pod_worker_duration_seconds",
            "Duration in seconds to sync a single pod, by operation.",
            ["operation"],
            buckets=_SYNC_BUCKETS,
            registry=registry,
        )
        self.running_pods = Gauge("kubelet_running_pods", "Number of pods with a running sandbox.", registry=registry)
        self.running_containers = Gauge(
            "kubelet_running_containers", "Number of containers by state.", ["container_state"], registry=registry
        )
        self.relist_duration = Histogram(
            "kubelet_pleg_relist_duration_seconds",
            "Duration in seconds for relisting pods in the PLEG.",
            buckets=_SYNC_BUCKETS,
            registry=registry,
        )
        self.relist_last_seen = Gauge(
            "kubelet_pleg_last_seen_seconds", "Timestamp of the last successful PLEG relist.", registry=registry
        )
        self.started_containers = Counter(
            "kubelet_started_containers_total", "Cumulative number of containers started.", registry=registry
        )
        self.started_container_errors = Counter(
            "kubelet_started_containers_errors_total",
            "Cumulative number of errors when starting containers, by reason.",
            ["code"],
            registry=registry,
        )
        self.restarted_containers = Counter(
            "kubelet_restarted_containers_total", "Cumulative number of container restarts.", registry=registry
        )
        self.node_status_updates = Counter(
            "kubelet_node_status_updates_total", "Node status writes, by result.", ["result"], registry=registry
        )
        self.lease_renewals = Counter(
            "kubelet_lease_renewals_total", "Node lease renewals, by result.", ["result"], registry=registry
        )
