"""Checks both runtimes apply before a request reaches containerd (or the fake's state).

Containerd's own answers to malformed configs are uneven (some are accepted and fail later at
runc); checking here gives one clear InvalidArgumentError with the field's name.
"""

from __future__ import annotations

from agent.kubelet.cri.errors import InvalidArgumentError
from agent.kubelet.cri.reference import normalize_image
from agent.kubelet.cri.types import ContainerConfig, SandboxConfig

__all__ = ["check_container_config", "check_sandbox_config"]

PROTOCOLS = ("TCP", "UDP", "SCTP")


def check_sandbox_config(config: SandboxConfig) -> None:
    for field in ("name", "uid", "namespace"):
        if not getattr(config, field):
            raise InvalidArgumentError(f"sandbox config: metadata.{field} is required")
    if config.attempt < 0:
        raise InvalidArgumentError("sandbox config: metadata.attempt must be >= 0")
    for i, m in enumerate(config.port_mappings):
        if m.protocol not in PROTOCOLS:
            raise InvalidArgumentError(
                f"sandbox config: port_mappings[{i}].protocol {m.protocol!r} is not one of {', '.join(PROTOCOLS)}"
            )
        if not 0 < m.container_port < 65536 or not 0 <= m.host_port < 65536:
            raise InvalidArgumentError(f"sandbox config: port_mappings[{i}] has a port out of range")


def check_container_config(config: ContainerConfig) -> None:
    if not config.name:
        raise InvalidArgumentError("container config: metadata.name is required")
    if config.attempt < 0:
        raise InvalidArgumentError("container config: metadata.attempt must be >= 0")
    normalize_image(config.image)
    for i, m in enumerate(config.mounts):
        if not m.container_path.startswith("/") or not m.host_path.startswith("/"):
            raise InvalidArgumentError(f"container config: mounts[{i}] paths must be absolute")
    r = config.resources
    if r is not None and min(r.cpu_shares, r.cpu_period, r.cpu_quota, r.memory_limit_bytes) < 0:
        raise InvalidArgumentError("container config: resources must not be negative")
