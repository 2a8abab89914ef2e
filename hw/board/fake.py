"""FakeBoard: a Board whose facts and readings a test sets."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hw.board.types import BoardInfo, Readings, Throttling

__all__ = ["FakeBoard", "healthy_readings", "pi4_info"]


def pi4_info(**overrides: Any) -> BoardInfo:
    """A Raspberry Pi 4 with 4 GB, running Raspberry Pi OS Bookworm."""
    info = BoardInfo(
        model="Raspberry Pi 4 Model B Rev 1.4",
        machine="aarch64",
        cpu_count=4,
        memory_total_bytes=3_997_921_280,
        kernel_version="6.6.31+rpt-rpi-v8",
        os_image="Debian GNU/Linux 12 (bookworm)",
        machine_id="6a1f0c2e8b9d4f7a9c3e5b1d2f4a6c8e",
        boot_id="0b8e7d6c-5a4f-4e3d-9c2b-1a0f9e8d7c6b",
        serial="10000000abcdef01",
    )
    return replace(info, **overrides)


def healthy_readings(**overrides: Any) -> Readings:
    """A Pi 4 at rest: 2.5 GB of 3.7 GB free, a 32 GB card half full, 52 °C, never throttled."""
    readings = Readings(
        memory_total_bytes=3_997_921_280,
        memory_available_bytes=2_684_354_560,
        disk_total_bytes=31_000_000_000,
        disk_available_bytes=15_500_000_000,
        disk_inodes_total=1_900_000,
        disk_inodes_free=1_700_000,
        pids_max=4_194_304,
        pids_in_use=180,
        cpu_usage_ratio=0.07,
        load_average=(0.31, 0.25, 0.2),
        temperature_celsius=52.1,
        throttling=Throttling(0),
    )
    return replace(readings, **overrides)


class FakeBoard:
    def __init__(self, info: BoardInfo | None = None, readings: Readings | None = None) -> None:
        self._info = info or pi4_info()
        self.readings = readings or healthy_readings()
        self.reads = 0

    def info(self) -> BoardInfo:
        return self._info

    def read(self) -> Readings:
        self.reads += 1
        return self.readings

    def set(self, **changes: Any) -> None:
        """Change some readings: ``board.set(memory_available_bytes=50 << 20)``."""
        self.readings = replace(self.readings, **changes)
