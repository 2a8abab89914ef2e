"""The kubelet's container runtime layer: the ``Runtime`` Protocol, the containerd CRI client
and the in-memory fake.

    runtime.py      the contract (read its docstring first)
    types.py        configs and statuses, as frozen dataclasses
    errors.py       the CRIError tree
    reference.py    image reference normalisation (busybox -> docker.io/library/busybox:latest)
    validation.py   config checks both runtimes share
    containerd.py   ContainerdRuntime: runtime.v1 over containerd's socket (grpc.aio)
    convert.py      types <-> runtime.v1 protobuf, for containerd.py
    metrics.py      kubelet_runtime_operations_* metrics
    fake.py         FakeRuntime: in memory, with fault hooks, for pod-worker tests
"""

from agent.kubelet.cri.errors import (
    AlreadyExistsError,
    CRIError,
    DeadlineExceededError,
    FailedPreconditionError,
    ImagePullError,
    InvalidArgumentError,
    NotFoundError,
    UnavailableError,
)
from agent.kubelet.cri.runtime import Runtime
from agent.kubelet.cri.types import (
    Container,
    ContainerConfig,
    ContainerState,
    ContainerStats,
    ContainerStatus,
    DNSConfig,
    ExecResult,
    FilesystemUsage,
    Image,
    Mount,
    PortMapping,
    Resources,
    RuntimeCondition,
    RuntimeStatus,
    RuntimeVersion,
    Sandbox,
    SandboxConfig,
    SandboxState,
    SandboxStatus,
)

__all__ = [
    "AlreadyExistsError",
    "CRIError",
    "Container",
    "ContainerConfig",
    "ContainerState",
    "ContainerStats",
    "ContainerStatus",
    "DNSConfig",
    "DeadlineExceededError",
    "ExecResult",
    "FailedPreconditionError",
    "FilesystemUsage",
    "Image",
    "ImagePullError",
    "InvalidArgumentError",
    "Mount",
    "NotFoundError",
    "PortMapping",
    "Resources",
    "Runtime",
    "RuntimeCondition",
    "RuntimeStatus",
    "RuntimeVersion",
    "Sandbox",
    "SandboxConfig",
    "SandboxState",
    "SandboxStatus",
    "UnavailableError",
]
