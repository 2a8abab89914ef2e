"""The runtime's data model: what the kubelet asks the runtime for, and what it gets back.

Plain frozen dataclasses, named after the CRI's ``api.proto`` messages (runtime.v1) but flattened
to what a kubelet uses, so pod workers never touch protobuf. Conventions:

- Timestamps are integers in **nanoseconds since the epoch**, as in the CRI; 0 means "not set"
  (a container that never started has ``started_at == 0``).
- Ids are the runtime's opaque strings (containerd: 64 hex digits).
- Labels and annotations are plain dicts; the runtime returns them exactly as given. The kubelet
  puts its bookkeeping there (pod uid, container name, restart count, spec hash) so that a relist
  after an agent restart can tell which pod and container each runtime object belongs to.
- Image references are normalised as containerd's CRI normalises them (``busybox`` ->
  ``docker.io/library/busybox:latest``); see ``reference.normalize_image``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "Container",
    "ContainerConfig",
    "ContainerState",
    "ContainerStats",
    "ContainerStatus",
    "DNSConfig",
    "ExecResult",
    "FilesystemUsage",
    "Image",
    "Mount",
    "PortMapping",
    "Resources",
    "RuntimeCondition",
    "RuntimeStatus",
    "RuntimeVersion",
    "Sandbox",
    "SandboxConfig",
    "SandboxState",
    "SandboxStatus",
]


class SandboxState(enum.Enum):
    READY = "SANDBOX_READY"
    NOTREADY = "SANDBOX_NOTREADY"


class ContainerState(enum.Enum):
    CREATED = "CONTAINER_CREATED"
    RUNNING = "CONTAINER_RUNNING"
    EXITED = "CONTAINER_EXITED"
    UNKNOWN = "CONTAINER_UNKNOWN"


@dataclass(frozen=True, slots=True)
class RuntimeVersion:
    """``Version``: e.g. runtime_name "containerd", runtime_version "1.6.20~ds1", api "v1"."""

    runtime_name: str
    runtime_version: str
    runtime_api_version: str
    version: str = "0.1.0"

    @property
    def node_string(self) -> str:
        """What a Node's ``status.nodeInfo.containerRuntimeVersion`` shows: "containerd://1.6.20~ds1"."""
        return f"{self.runtime_name}://{self.runtime_version}"


@dataclass(frozen=True, slots=True)
class RuntimeCondition:
    type: str  # "RuntimeReady" or "NetworkReady"
    status: bool
    reason: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class RuntimeStatus:
    conditions: tuple[RuntimeCondition, ...]

    def condition(self, type_: str) -> RuntimeCondition | None:
        return next((c for c in self.conditions if c.type == type_), None)

    @property
    def runtime_ready(self) -> bool:
        c = self.condition("RuntimeReady")
        return c is not None and c.status

    @property
    def network_ready(self) -> bool:
        """False until a CNI config exists (containerd: "cni plugin not initialized")."""
        c = self.condition("NetworkReady")
        return c is not None and c.status


@dataclass(frozen=True, slots=True)
class PortMapping:
    """A pod port published on the node (``hostPort``); only mappings with host_port > 0 matter."""

    container_port: int
    host_port: int = 0
    protocol: str = "TCP"  # TCP, UDP or SCTP
    host_ip: str = ""


@dataclass(frozen=True, slots=True)
class DNSConfig:
    servers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """``PodSandboxConfig``. (name, uid, namespace, attempt) must be unique among live sandboxes.

    ``log_directory`` is the pod's log dir (kubelet: ``/var/log/pods/<ns>_<name>_<uid>``);
    each container's ``log_path`` is relative to it. ``host_network`` puts the sandbox in the
    node's network namespace (no CNI, no pod IP of its own: the IP is the node's, reported as "").
    ``cgroup_parent`` is the pod's cgroup (cgroupfs driver: a path like ``/picluster/pod<uid>``);
    "" lets containerd choose (``/k8s.io/<id>``).
    """

    name: str
    uid: str
    namespace: str
    attempt: int = 0
    hostname: str = ""
    log_directory: str = ""
    dns: DNSConfig | None = None
    port_mappings: tuple[PortMapping, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    cgroup_parent: str = ""
    host_network: bool = False


@dataclass(frozen=True, slots=True)
class Sandbox:
    """One row of ``ListPodSandbox``."""

    id: str
    name: str
    uid: str
    namespace: str
    attempt: int
    state: SandboxState
    created_at: int
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SandboxStatus:
    """``PodSandboxStatus``: a Sandbox plus its network. ``ip`` is "" for host-network sandboxes
    and for sandboxes whose network is torn down (stopped)."""

    id: str
    name: str
    uid: str
    namespace: str
    attempt: int
    state: SandboxState
    created_at: int
    ip: str = ""
    additional_ips: tuple[str, ...] = ()
    host_network: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Mount:
    """A bind mount from the node into the container (emptyDir, hostPath, configMap and secret
    volumes all become one of these, pointing at a directory the kubelet prepared)."""

    container_path: str
    host_path: str
    readonly: bool = False


@dataclass(frozen=True, slots=True)
class Resources:
    """``LinuxContainerResources``; 0 means "no limit / runtime default".

    The kubelet's mapping from a container's resources: cpu_shares = max(2, requests.cpu milli *
    1024 // 1000); cpu_period = 100000 and cpu_quota = limits.cpu milli * 100 (when a cpu limit is
    set); memory_limit_bytes = limits.memory.
    """

    cpu_shares: int = 0
    cpu_period: int = 0
    cpu_quota: int = 0
    memory_limit_bytes: int = 0
    oom_score_adj: int = 0


@dataclass(frozen=True, slots=True)
class ContainerConfig:
    """``ContainerConfig``. (sandbox, name, attempt) must be unique among live containers.

    ``command`` replaces the image's entrypoint and ``args`` its cmd, as in a Pod spec; empty
    tuples keep the image's. ``log_path`` is relative to the sandbox's ``log_directory``
    (kubelet: ``<container name>/<restart count>.log``). No tty, no stdin, no devices.
    """

    name: str
    image: str
    attempt: int = 0
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    working_dir: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    mounts: tuple[Mount, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    log_path: str = ""
    resources: Resources | None = None


@dataclass(frozen=True, slots=True)
class Container:
    """One row of ``ListContainers``."""

    id: str
    sandbox_id: str
    name: str
    attempt: int
    image: str
    image_ref: str
    state: ContainerState
    created_at: int
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ContainerStatus:
    """``ContainerStatus``.

    For a process that exits at once, containerd may stamp ``finished_at`` slightly (< 1 ms)
    before ``started_at``: clamp before computing a duration.

    ``reason`` for an exited container is the runtime's: "Completed" (exit code 0), "Error"
    (non-zero), "OOMKilled" (the kernel's OOM killer ended it); "" otherwise. ``log_path`` is
    absolute (the sandbox's log_directory joined with the container's log_path), "" if none.
    """

    id: str
    name: str
    attempt: int
    state: ContainerState
    created_at: int
    started_at: int = 0
    finished_at: int = 0
    exit_code: int = 0
    reason: str = ""
    message: str = ""
    image: str = ""
    image_ref: str = ""
    log_path: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExecResult:
    """``ExecSync``'s answer. A non-zero exit code is a value, not an error."""

    stdout: bytes
    stderr: bytes
    exit_code: int


@dataclass(frozen=True, slots=True)
class Image:
    """``Image``. ``id`` is the image config digest ("sha256:..."); ``size`` in bytes."""

    id: str
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()
    size: int = 0
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class FilesystemUsage:
    """One filesystem of ``ImageFsInfo``: where images live and how much of it they use."""

    mountpoint: str
    used_bytes: int
    inodes_used: int | None = None
    timestamp: int = 0


@dataclass(frozen=True, slots=True)
class ContainerStats:
    """``ContainerStats``; any reading the runtime did not report is None.

    ``cpu_usage_nano_cores`` is a rate (containerd computes it between two samples, so the first
    reading after start may be None or 0); ``cpu_usage_core_nanoseconds`` is cumulative.
    """

    id: str
    name: str
    attempt: int
    timestamp: int
    cpu_usage_core_nanoseconds: int | None = None
    cpu_usage_nano_cores: int | None = None
    memory_working_set_bytes: int | None = None
    memory_usage_bytes: int | None = None
    writable_layer_bytes: int | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
