"""The Board contract and the Linux reader.

    board = LinuxBoard(data_dir="/var/lib/picluster/agent")
    board.info().model            # "Raspberry Pi 4 Model B Rev 1.4", or "unknown"
    board.read().temperature_celsius   # 48.7, or None without a thermal zone

Sources, all cheap (a few small file reads and one statvfs per ``read``):

    model            /proc/device-tree/model (NUL-terminated), else "unknown"
    temperature      /sys/class/thermal/thermal_zone*/temp, millidegrees; the zone whose type
                     is "cpu-thermal" (Pi) or else the first readable one
    throttling       /sys/devices/platform/soc/soc:firmware/get_throttled (hex), when present
    memory           psutil.virtual_memory (MemTotal, MemAvailable)
    disk             statvfs of the data dir (or its nearest existing parent)
    pids             /proc/sys/kernel/pid_max and the task count in /proc/loadavg
    cpu              psutil.cpu_percent since the previous reading; /proc/loadavg

``root`` prefixes every /proc, /sys and /etc path, so tests point the reader at a fake tree.
"""

from __future__ import annotations

import glob
import os
import platform
from pathlib import Path
from typing import Protocol

import psutil

from hw.board.types import BoardInfo, Readings, Throttling

__all__ = ["Board", "LinuxBoard"]

UNKNOWN_MODEL = "unknown"


class Board(Protocol):
    def info(self) -> BoardInfo: ...

    def read(self) -> Readings: ...


def _read_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return None


class LinuxBoard:
    def __init__(
        self, data_dir: str | os.PathLike[str] = "/var/lib/picluster/agent", *, root: str = "/"
    ) -> None:
        self._data_dir = Path(data_dir)
        self._root = Path(root)
        self._info: BoardInfo | None = None
        self._thermal_zone: Path | None = None
        self._thermal_zone_searched = False
        psutil.cpu_percent(interval=None)  # start the interval the first read() measures

    def _path(self, path: str) -> Path:
        return self._root / path.lstrip("/")

    # Facts

    def info(self) -> BoardInfo:
        if self._info is None:
            self._info = BoardInfo(
                model=self._model(),
                machine=platform.machine(),
                cpu_count=psutil.cpu_count(logical=True) or os.cpu_count() or 1,
                memory_total_bytes=psutil.virtual_memory().total,
                kernel_version=platform.release(),
                os_image=self._os_image(),
                machine_id=(_read_text(self._path("/etc/machine-id")) or "").strip(),
                system_uuid=(_read_text(self._path("/sys/class/dmi/id/product_uuid")) or "").strip(),
                boot_id=(_read_text(self._path("/proc/sys/kernel/random/boot_id")) or "").strip(),
                serial=(_read_text(self._path("/proc/device-tree/serial-number")) or "").strip("\0\n "),
            )
        return self._info

    def _model(self) -> str:
        for path in ("/proc/device-tree/model", "/sys/firmware/devicetree/base/model"):
            text = _read_text(self._path(path))
            if text is not None and text.strip("\0\n "):
                return text.strip("\0\n ")
        return UNKNOWN_MODEL

    def _os_image(self) -> str:
        for path in ("/etc/os-release", "/usr/lib/os-release"):
            text = _read_text(self._path(path))
            if text is None:
                continue
            for line in text.splitlines():
                key, _, value = line.partition("=")
                if key == "PRETTY_NAME":
                    return value.strip().strip('"')
        return "Linux"

    # Readings

    def read(self) -> Readings:
        mem = psutil.virtual_memory()
        disk = os.statvfs(self._existing(self._data_dir))
        load, tasks = self._loadavg()
        return Readings(
            memory_total_bytes=mem.total,
            memory_available_bytes=mem.available,
            disk_total_bytes=disk.f_blocks * disk.f_frsize,
            disk_available_bytes=disk.f_bavail * disk.f_frsize,
            disk_inodes_total=disk.f_files,
            disk_inodes_free=disk.f_favail,
            pids_max=self._pid_max(),
            pids_in_use=tasks,
            cpu_usage_ratio=psutil.cpu_percent(interval=None) / 100.0,
            load_average=load,
            temperature_celsius=self._temperature(),
            throttling=self._throttling(),
        )

    @staticmethod
    def _existing(path: Path) -> Path:
        while not path.exists() and path != path.parent:
            path = path.parent
        return path

    def _loadavg(self) -> tuple[tuple[float, float, float], int]:
        # "0.20 0.18 0.12 1/80 11206": three load averages, running/total tasks, last pid
        fields = (_read_text(self._path("/proc/loadavg")) or "").split()
        try:
            load = (float(fields[0]), float(fields[1]), float(fields[2]))
            tasks = int(fields[3].partition("/")[2])
        except (IndexError, ValueError):
            return (0.0, 0.0, 0.0), len(psutil.pids())
        return load, tasks

    def _pid_max(self) -> int:
        try:
            return int((_read_text(self._path("/proc/sys/kernel/pid_max")) or "").strip())
        except ValueError:
            return 32768  # the kernel's default

    def _find_thermal_zone(self) -> Path | None:
        zones = sorted(glob.glob(str(self._path("/sys/class/thermal/thermal_zone*"))))
        readable = [Path(z) for z in zones if _read_text(Path(z) / "temp") is not None]
        for zone in readable:
            if (_read_text(zone / "type") or "").strip() == "cpu-thermal":
                return zone
        return readable[0] if readable else None

    def _temperature(self) -> float | None:
        if not self._thermal_zone_searched:
            self._thermal_zone = self._find_thermal_zone()
            self._thermal_zone_searched = True
        if self._thermal_zone is None:
            return None
        try:
            return int((_read_text(self._thermal_zone / "temp") or "").strip()) / 1000.0
        except ValueError:
            return None

    def _throttling(self) -> Throttling | None:
        text = _read_text(self._path("/sys/devices/platform/soc/soc:firmware/get_throttled"))
        if text is None:
            return None
        try:
            return Throttling(int(text.strip(), 16))
        except ValueError:
            return None
