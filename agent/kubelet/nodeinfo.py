"""What the kubelet says about its node: labels, addresses, capacity and allocatable, nodeInfo,
and the pressure and Ready conditions, computed from board readings and the runtime's status.

Capacity is measured; allocatable follows the kubelet's formula::

    allocatable = capacity - system reserved - hard eviction threshold
    e.g. a Pi 4 (4 cores, 3904220Ki, 32 GB card), defaults:
        cpu      4          -> 3900m      (100m reserved)
        memory   3904220Ki  -> 3670748Ki  (128Mi reserved, 100Mi eviction threshold)
        ephemeral-storage   -> 90% of the card (nodefs.available<10%)
        pods     110        -> 110

Conditions use the kubelet's reasons and messages. Pressure conditions apply the hard eviction
thresholds (memory.available<100Mi, nodefs.available<10%, nodefs.inodesFree<5%, and picluster's
pid.available<10%) and, as the kubelet's --eviction-pressure-transition-period, stay True for
5 minutes after the last reading under pressure, so a node does not flap around a threshold.

Labels (the first four are Kubernetes' well-known labels)::

    kubernetes.io/arch       amd64 | arm64 | arm      (from platform.machine())
    kubernetes.io/os         linux
    kubernetes.io/hostname   the node name
    beta.kubernetes.io/arch, beta.kubernetes.io/os    same values, for older selectors
    picluster.io/model       the Pi model, as a label value: Raspberry-Pi-4-Model-B-Rev-1.4
                             (only on boards with a device-tree model)
"""

from __future__ import annotations

import importlib.metadata
import re
from dataclasses import dataclass

from agent.kubelet.cri.types import RuntimeStatus, RuntimeVersion
from hw.board.types import BoardInfo, Readings
from master.api import quantity, timefmt
from master.api.core import NodeAddress, NodeCondition, NodeSystemInfo
from master.util.clock import Clock, RealClock

__all__ = [
    "KUBELET_VERSION",
    "MODEL_LABEL",
    "ConditionTracker",
    "NodeSettings",
    "Pressure",
    "addresses",
    "allocatable",
    "architecture",
    "capacity",
    "node_labels",
    "observe_pressure",
    "system_info",
]

MODEL_LABEL = "picluster.io/model"


def _kubelet_version() -> str:
    try:
        ours = importlib.metadata.version("picluster")
    except importlib.metadata.PackageNotFoundError:
        ours = "0.0.0"
    # The Kubernetes API level we follow, with our version as semver build metadata (like
    # k3s's "v1.32.0+k3s1"): kubectl shows it in VERSION and version-skew checks still parse it.
    return f"v1.32.0+picluster.{ours}"


KUBELET_VERSION = _kubelet_version()

_ARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
    "armv6l": "arm",
    "armv8l": "arm",
    "i386": "386",
    "i686": "386",
    "riscv64": "riscv64",
}


@dataclass(frozen=True, slots=True)
class NodeSettings:
    max_pods: int = 110
    reserved_cpu_milli: int = 100
    reserved_memory_bytes: int = 128 << 20
    reserved_ephemeral_bytes: int = 0
    eviction_memory_available_bytes: int = 100 << 20
    eviction_nodefs_available_ratio: float = 0.10
    eviction_nodefs_inodes_free_ratio: float = 0.05
    eviction_pid_available_ratio: float = 0.10
    pressure_transition_period: float = 300.0
    kubelet_version: str = KUBELET_VERSION


def architecture(machine: str) -> str:
    """GOARCH-style name for ``platform.machine()``: aarch64 -> arm64, armv7l -> arm."""
    return _ARCH.get(machine.lower(), machine.lower())


def _label_value(text: str) -> str:
    """A valid label value: [A-Za-z0-9._-], at most 63 characters, alphanumeric at both ends."""
    value = re.sub(r"[^A-Za-z0-9._-]+", "-", text)[:63]
    return value.strip("-._")


def node_labels(node_name: str, info: BoardInfo) -> dict[str, str]:
    arch = architecture(info.machine)
    labels = {
        "beta.kubernetes.io/arch": arch,
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
        "kubernetes.io/hostname": node_name,
        "kubernetes.io/os": "linux",
    }
    if info.model != "unknown" and _label_value(info.model):
        labels[MODEL_LABEL] = _label_value(info.model)
    return labels


def addresses(node_ip: str, hostname: str) -> list[NodeAddress]:
    return [NodeAddress(type="InternalIP", address=node_ip), NodeAddress(type="Hostname", address=hostname)]


def _bytes(n: int) -> str:
    return str(quantity.from_value(max(0, n), binary=True))


def capacity(info: BoardInfo, readings: Readings, settings: NodeSettings) -> dict[str, str]:
    return {
        "cpu": str(info.cpu_count),
        "ephemeral-storage": _bytes(readings.disk_total_bytes),
        "memory": _bytes(info.memory_total_bytes),
        "pods": str(settings.max_pods),
    }


def allocatable(info: BoardInfo, readings: Readings, settings: NodeSettings) -> dict[str, str]:
    cpu_milli = max(0, info.cpu_count * 1000 - settings.reserved_cpu_milli)
    memory = (
        info.memory_total_bytes - settings.reserved_memory_bytes - settings.eviction_memory_available_bytes
    )
    disk = readings.disk_total_bytes
    ephemeral = (
        disk - settings.reserved_ephemeral_bytes - int(disk * settings.eviction_nodefs_available_ratio)
    )
    return {
        "cpu": str(quantity.from_milli(cpu_milli)),
        "ephemeral-storage": _bytes(ephemeral),
        "memory": _bytes(memory),
        "pods": str(settings.max_pods),
    }


def system_info(info: BoardInfo, runtime: RuntimeVersion | None, settings: NodeSettings) -> NodeSystemInfo:
    return NodeSystemInfo(
        machine_id=info.machine_id,
        system_uuid=info.system_uuid or info.machine_id,
        boot_id=info.boot_id,
        kernel_version=info.kernel_version,
        os_image=info.os_image,
        container_runtime_version=runtime.node_string if runtime is not None else "",
        kubelet_version=settings.kubelet_version,
        kube_proxy_version=settings.kubelet_version,
        operating_system="linux",
        architecture=architecture(info.machine),
    )


@dataclass(frozen=True, slots=True)
class Pressure:
    memory: bool
    disk: bool
    pid: bool


def observe_pressure(readings: Readings, settings: NodeSettings) -> Pressure:
    """Which hard eviction thresholds this reading crosses (no transition period applied)."""
    r = readings
    disk = (
        r.disk_total_bytes > 0
        and r.disk_available_bytes < r.disk_total_bytes * settings.eviction_nodefs_available_ratio
    ) or (
        r.disk_inodes_total > 0
        and r.disk_inodes_free < r.disk_inodes_total * settings.eviction_nodefs_inodes_free_ratio
    )
    return Pressure(
        memory=r.memory_available_bytes < settings.eviction_memory_available_bytes,
        disk=disk,
        pid=r.pids_max - r.pids_in_use < r.pids_max * settings.eviction_pid_available_ratio,
    )


# type -> (reason, message) when under pressure, and when not
_PRESSURE_TEXT = {
    "MemoryPressure": (
        ("KubeletHasInsufficientMemory", "kubelet has insufficient memory available"),
        ("KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ),
    "DiskPressure": (
        ("KubeletHasDiskPressure", "kubelet has disk pressure"),
        ("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ),
    "PIDPressure": (
        ("KubeletHasInsufficientPID", "kubelet has insufficient PID available"),
        ("KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ),
}


def _runtime_problems(runtime: RuntimeStatus | None, runtime_error: str) -> list[str]:
    if runtime is None:
        return [
            f"container runtime is down: {runtime_error}" if runtime_error else "container runtime is down"
        ]
    problems = []
    for kind, label in (
        ("RuntimeReady", "container runtime not ready"),
        ("NetworkReady", "container runtime network not ready"),
    ):
        c = runtime.condition(kind)
        if c is None or not c.status:
            reason, message = (c.reason, c.message) if c is not None else ("", "condition not reported")
            problems.append(f"{label}: {kind}=false reason:{reason} message:{message}")
    return problems


class ConditionTracker:
    """The node's four conditions, kept between status updates.

    ``lastTransitionTime`` changes only when a condition's status flips; ``lastHeartbeatTime``
    is every update's time. Order is the kubelet's: MemoryPressure, DiskPressure, PIDPressure,
    Ready. ``extra_not_ready`` adds reasons of the caller's own (e.g. "PLEG is not healthy").
    """

    def __init__(self, settings: NodeSettings | None = None, clock: Clock | None = None) -> None:
        self._settings = settings or NodeSettings()
        self._clock = clock or RealClock()
        self._last_pressure: dict[str, float] = {}
        self._previous: dict[str, NodeCondition] = {}

    def update(
        self,
        readings: Readings,
        runtime: RuntimeStatus | None,
        *,
        runtime_error: str = "",
        extra_not_ready: tuple[str, ...] = (),
    ) -> list[NodeCondition]:
        now = self._clock.time()
        seen = observe_pressure(readings, self._settings)
        out = []
        for kind, pressed in (
            ("MemoryPressure", seen.memory),
            ("DiskPressure", seen.disk),
            ("PIDPressure", seen.pid),
        ):
            if pressed:
                self._last_pressure[kind] = now
            last = self._last_pressure.get(kind)
            active = last is not None and now - last < self._settings.pressure_transition_period
            (reason, message) = _PRESSURE_TEXT[kind][0 if active else 1]
            out.append(self._condition(kind, active, reason, message, now))
        problems = _runtime_problems(runtime, runtime_error) + list(extra_not_ready)
        if problems:
            out.append(self._condition("Ready", False, "KubeletNotReady", "; ".join(problems), now))
        else:
            out.append(self._condition("Ready", True, "KubeletReady", "kubelet is posting ready status", now))
        return out

    def _condition(self, kind: str, status: bool, reason: str, message: str, now: float) -> NodeCondition:
        text = "True" if status else "False"
        stamp = timefmt.format_time(now)
        before = self._previous.get(kind)
        transition = before.last_transition_time if before is not None and before.status == text else stamp
        condition = NodeCondition(
            type=kind,
            status=text,
            last_heartbeat_time=stamp,
            last_transition_time=transition,
            reason=reason,
            message=message,
        )
        self._previous[kind] = condition
        return condition
