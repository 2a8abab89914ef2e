"""Board facts (fixed while the agent runs) and readings (cheap, taken every status update)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BoardInfo", "Readings", "Throttling"]


@dataclass(frozen=True, slots=True)
class Throttling:
    """The Pi firmware's ``get_throttled`` bits (what ``vcgencmd get_throttled`` prints).

    Bits 0-3 are "now", bits 16-19 "has occurred since boot"::

        0x50005 -> under-voltage now, throttled now, under-voltage and throttling occurred
    """

    raw: int

    @property
    def under_voltage(self) -> bool:
        return bool(self.raw & 0x1)

    @property
    def frequency_capped(self) -> bool:
        return bool(self.raw & 0x2)

    @property
    def throttled(self) -> bool:
        return bool(self.raw & 0x4)

    @property
    def soft_temperature_limit(self) -> bool:
        return bool(self.raw & 0x8)

    @property
    def under_voltage_occurred(self) -> bool:
        return bool(self.raw & 0x10000)

    @property
    def frequency_capped_occurred(self) -> bool:
        return bool(self.raw & 0x20000)

    @property
    def throttled_occurred(self) -> bool:
        return bool(self.raw & 0x40000)

    @property
    def soft_temperature_limit_occurred(self) -> bool:
        return bool(self.raw & 0x80000)

    @property
    def any_now(self) -> bool:
        return bool(self.raw & 0xF)


@dataclass(frozen=True, slots=True)
class BoardInfo:
    """What does not change while the agent runs.

    ``model`` is the device tree's model string ("Raspberry Pi 4 Model B Rev 1.4") or "unknown"
    on machines without one; ``machine`` is ``platform.machine()`` ("aarch64", "armv7l",
    "x86_64"); ``os_image`` is /etc/os-release's PRETTY_NAME.
    """

    model: str
    machine: str
    cpu_count: int
    memory_total_bytes: int
    kernel_version: str
    os_image: str
    machine_id: str = ""
    system_uuid: str = ""
    boot_id: str = ""
    serial: str = ""

    @property
    def is_raspberry_pi(self) -> bool:
        return self.model.startswith("Raspberry Pi")


@dataclass(frozen=True, slots=True)
class Readings:
    """One sample of the board's state. ``None``: this board has no such sensor.

    ``cpu_usage_ratio`` is busy time over all cores since the previous reading, 0.0-1.0 (0.0 on
    the first). Memory "available" is the kernel's MemAvailable. Disk figures are for the
    filesystem holding the agent's data dir (the kubelet's nodefs); "available" is what an
    unprivileged writer may still use. ``pids_in_use`` counts tasks (threads included), as the
    kernel's ``pid_max`` limits them.
    """

    memory_total_bytes: int
    memory_available_bytes: int
    disk_total_bytes: int
    disk_available_bytes: int
    disk_inodes_total: int
    disk_inodes_free: int
    pids_max: int
    pids_in_use: int
    cpu_usage_ratio: float = 0.0
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)
    temperature_celsius: float | None = None
    throttling: Throttling | None = None
