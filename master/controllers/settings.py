"""The controller-manager's settings: one frozen dataclass, field names after kube-controller-manager's flags.

``pictl master`` fills it from ``--node-monitor-period`` and friends (the flag of a field is its
name with dashes); tests shrink the periods. ``validate()`` reports the first bad value as one
line naming the flag.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, fields

__all__ = ["ControllerManagerSettings", "flag_name"]


def flag_name(field_name: str) -> str:
    """``node_monitor_period`` -> ``--node-monitor-period``."""
    return "--" + field_name.replace("_", "-")


@dataclass(frozen=True, slots=True)
class ControllerManagerSettings:
    # --controllers: "*" all on-by-default ones, "foo" enables, "-foo" disables.
    controllers: tuple[str, ...] = ("*",)

    # Node lifecycle (seconds). A node whose Lease and Ready heartbeat are not renewed within the
    # grace period (startup grace for a node that never posted status) is Unknown.
    node_monitor_period: float = 5.0
    node_monitor_grace_period: float = 40.0
    node_startup_grace_period: float = 60.0
    # Kept for the flag's sake: eviction is taint based, timed by each pod's tolerationSeconds.
    pod_eviction_timeout: float = 300.0
    # NoExecute tainting rate per zone (nodes per second), and in a partially disrupted large zone.
    node_eviction_rate: float = 0.1
    secondary_node_eviction_rate: float = 0.01
    unhealthy_zone_threshold: float = 0.55
    large_cluster_size_threshold: int = 50

    # nodeipam: a /node_cidr_mask_size per node out of cluster_cidr.
    allocate_node_cidrs: bool = True
    cluster_cidr: str = "10.244.0.0/16"
    node_cidr_mask_size: int = 24

    # Workers per controller.
    concurrent_deployment_syncs: int = 5
    concurrent_replicaset_syncs: int = 5
    concurrent_daemonset_syncs: int = 2
    concurrent_endpoint_syncs: int = 5
    concurrent_service_endpoint_syncs: int = 5
    concurrent_namespace_syncs: int = 10
    concurrent_gc_syncs: int = 20

    # podgc: keep at most this many terminated pods (0: never collect them).
    terminated_pod_gc_threshold: int = 12500
    pod_gc_period: float = 20.0
    # A pod bound to a node the cache does not know waits this long before the node is re-checked.
    orphaned_pod_quarantine: float = 40.0

    max_endpoints_per_slice: int = 100

    # csrsigning: the CA that signs agents' certificates (PEM files; empty: none, unless the
    # apiserver runs in the same process, whose pki/ca.crt and ca.key are used), and for how long.
    cluster_signing_cert_file: str = ""
    cluster_signing_key_file: str = ""
    cluster_signing_duration: float = 365 * 24 * 3600.0
    # How often a terminating namespace whose contents are still going away is looked at again.
    namespace_recheck_period: float = 1.0

    def validate(self) -> None:
        """Raise ValueError naming the flag of the first bad value."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if value < 0:
                raise ValueError(f"invalid {flag_name(f.name)} {value}: must not be negative")
        for name in ("node_monitor_period", "node_monitor_grace_period", "pod_gc_period",
                     "namespace_recheck_period"):
            if getattr(self, name) <= 0:
                raise ValueError(f"invalid {flag_name(name)} {getattr(self, name)}: must be positive")
        for name in ("concurrent_deployment_syncs", "concurrent_replicaset_syncs", "concurrent_daemonset_syncs",
                     "concurrent_endpoint_syncs", "concurrent_service_endpoint_syncs",
                     "concurrent_namespace_syncs", "concurrent_gc_syncs", "max_endpoints_per_slice"):
            if getattr(self, name) < 1:
                raise ValueError(f"invalid {flag_name(name)} {getattr(self, name)}: must be at least 1")
        if not 0 < self.unhealthy_zone_threshold <= 1:
            raise ValueError(
                f"invalid --unhealthy-zone-threshold {self.unhealthy_zone_threshold}: want a fraction in (0, 1]"
            )
        self.cluster_network()

    def cluster_network(self) -> ipaddress.IPv4Network:
        try:
            net = ipaddress.IPv4Network(self.cluster_cidr, strict=True)
        except ValueError as exc:
            raise ValueError(f"invalid --cluster-cidr {self.cluster_cidr!r}: {exc}") from None
        if not net.prefixlen <= self.node_cidr_mask_size <= 32:
            raise ValueError(
                f"invalid --node-cidr-mask-size {self.node_cidr_mask_size}: must be between the cluster "
                f"CIDR's prefix length ({net.prefixlen}) and 32"
            )
        return net
