"""The apiserver's settings: one frozen dataclass, built by ``pictl master`` and by tests."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from master.apiserver.audit import AuditSettings
from master.util.clock import Clock, RealClock

__all__ = ["ApiServerSettings", "parse_node_port_range", "parse_service_cidr"]

MAX_BODY_BYTES = 3 * 1024 * 1024


def parse_service_cidr(text: str) -> ipaddress.IPv4Network:
    """``10.96.0.0/12`` -> network. Raises ValueError with a readable message."""
    try:
        net = ipaddress.ip_network(text.strip(), strict=True)
    except ValueError as exc:
        raise ValueError(f"invalid --service-cluster-ip-range {text!r}: {exc}") from exc
    if not isinstance(net, ipaddress.IPv4Network):
        raise ValueError(f"invalid --service-cluster-ip-range {text!r}: only IPv4 is supported")
    if net.num_addresses < 8:
        raise ValueError(f"invalid --service-cluster-ip-range {text!r}: too small (want /29 or larger)")
    return net


def parse_node_port_range(text: str) -> tuple[int, int]:
    """``30000-32767`` -> (30000, 32767), both ends included."""
    try:
        lo_s, _, hi_s = text.strip().partition("-")
        lo, hi = int(lo_s), int(hi_s or lo_s)
    except ValueError as exc:
        raise ValueError(f"invalid --service-node-port-range {text!r}: want LOW-HIGH") from exc
    if not (1 <= lo <= hi <= 65535):
        raise ValueError(f"invalid --service-node-port-range {text!r}: want 1 <= LOW <= HIGH <= 65535")
    return lo, hi


@dataclass(frozen=True)
class ApiServerSettings:
    data_dir: Path
    bind_address: str = "0.0.0.0"
    secure_port: int = 6443
    # The address other components (and the ``kubernetes`` Service's Endpoints) use to reach us.
    advertise_address: str = ""
    service_cidr: ipaddress.IPv4Network = field(default_factory=lambda: parse_service_cidr("10.96.0.0/12"))
    node_port_range: tuple[int, int] = (30000, 32767)
    extra_sans: tuple[str, ...] = ()
    max_body_bytes: int = MAX_BODY_BYTES
    # A connection with no request under way is closed after this many seconds: an idle
    # keep-alive one, and one that never finishes its request's head (kube-apiserver's
    # IdleTimeout; aiohttp's default of an hour let half-sent requests hold connections).
    idle_timeout: float = 90.0
    # A request body must arrive within this many seconds, else 408.
    body_timeout: float = 60.0
    # Events kept per resource for watch resume; older resourceVersions get 410 Gone.
    watch_cache_events: int = 1024
    # A watcher whose unsent backlog exceeds this many events is closed (it relists or resumes).
    watcher_queue: int = 1000
    bookmark_interval: float = 60.0
    # A read at a resourceVersion the watch cache has not seen waits this long for it, then 504
    # ResourceVersionTooLarge (kube-apiserver's 3 s in waitUntilFreshAndBlock).
    fresh_cache_wait: float = 3.0
    # Events expire this many seconds after their last write (kube-apiserver's --event-ttl); 0: never.
    event_ttl: float = 3600.0
    default_watch_timeout: float = 1800.0
    kubelet_port: int = 10250
    kubelet_timeout: float = 10.0
    clock: Clock = field(default_factory=RealClock)
    # Security (issue 8): authentication, authorization, admission, encryption at rest, audit.
    authorization_modes: tuple[str, ...] = ("Node", "RBAC")
    anonymous_auth: bool = True
    enable_admission_plugins: tuple[str, ...] = ()
    disable_admission_plugins: tuple[str, ...] = ()
    token_auth_file: Path | None = None
    # Empty: <data dir>/pki/sa.key, made on first start (its public half always verifies).
    service_account_signing_key_file: Path | None = None
    service_account_key_files: tuple[Path, ...] = ()
    service_account_issuer: str = "https://kubernetes.default.svc.cluster.local"
    encryption_provider_config: Path | None = None
    audit: AuditSettings = field(default_factory=AuditSettings)
