"""The kubelet's settings: one frozen dataclass passed down to every part, so tests shrink periods.

Defaults are the kubelet's (``KubeletConfiguration``) where it has one::

    node_status_update_frequency    10 s     how often the node's status is computed
    node_status_report_frequency    5 min    an unchanged status is still written this often
    node_lease_duration_seconds     40       the Lease's duration; renewed every 10 s (a quarter)
    relist_period                   1 s      the PLEG's runtime relist
    sync_frequency                  10 s     every pod worker re-syncs at least this often
    crash_backoff                   10 s doubling to 5 min (CrashLoopBackOff)
    image_backoff                   10 s doubling to 5 min (ImagePullBackOff)
    container log                   10 MiB per file, 5 files per container
    image GC                        above 85 % of the image filesystem, down to 80 %
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agent.kubelet.nodeinfo import NodeSettings

__all__ = ["KubeletSettings"]


@dataclass(frozen=True, slots=True)
class KubeletSettings:
    node_name: str
    node_ip: str
    data_dir: Path = Path("/var/lib/picluster/agent")
    # Where container logs live: <pod_log_dir>/<namespace>_<pod>_<uid>/<container>/<restart>.log.
    # "" means <data_dir>/logs.
    pod_log_dir: Path | None = None
    pod_manifest_path: Path | None = None
    port: int = 10250
    address: str = "0.0.0.0"
    # A CA-signed serving pair in <cert_dir>/kubelet.crt and kubelet.key is used when present;
    # otherwise a self-signed one is made there (the kubelet's --cert-dir behaviour).
    cert_dir: Path | None = None
    cluster_dns: tuple[str, ...] = ()
    cluster_domain: str = "cluster.local"

    node_status_update_frequency: float = 10.0
    node_status_report_frequency: float = 300.0
    node_lease_duration_seconds: int = 40
    node_lease_renew_interval: float = 10.0
    relist_period: float = 1.0
    # The PLEG is unhealthy (node NotReady) when no relist succeeded for this long.
    relist_threshold: float = 180.0
    sync_frequency: float = 10.0
    static_pod_check_period: float = 5.0
    api_retry_initial: float = 0.5
    api_retry_max: float = 10.0

    crash_backoff_initial: float = 10.0
    crash_backoff_max: float = 300.0
    image_backoff_initial: float = 10.0
    image_backoff_max: float = 300.0
    # Grace for orphaned containers (their pod is gone from the API) when none is recorded.
    orphan_grace_period: float = 30.0
    # Never wait longer than this for a container to stop, whatever the pod asks (a Pi should
    # not hang on a pod with a day of grace when the agent shuts it down).
    max_grace_period: float = 3600.0

    housekeeping_period: float = 10.0
    container_gc_period: float = 60.0
    image_gc_period: float = 300.0
    max_dead_per_container: int = 1
    image_gc_high_percent: int = 85
    image_gc_low_percent: int = 80
    image_minimum_gc_age: float = 120.0
    container_log_max_bytes: int = 10 << 20
    container_log_max_files: int = 5

    status_writers: int = 4
    # configMap, secret and downwardAPI volumes of running pods are refreshed this often.
    volume_refresh_period: float = 60.0
    # Pods whose sandbox and containers are being started at once. containerd, runc and the CNI
    # plugins share the node's few cores: past a handful, more parallel starts only make every
    # pod slower; in turn (first come, first started) the early pods run sooner.
    start_concurrency: int = 3
    sandbox_image: str = "localhost/pause:latest"
    node: NodeSettings = field(default_factory=NodeSettings)

    @property
    def log_root(self) -> Path:
        return self.pod_log_dir if self.pod_log_dir is not None else self.data_dir / "logs"

    @property
    def pods_dir(self) -> Path:
        return self.data_dir / "pods"

    @property
    def certs(self) -> Path:
        return self.cert_dir if self.cert_dir is not None else self.data_dir / "pki"
