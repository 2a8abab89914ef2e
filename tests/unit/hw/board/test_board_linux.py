"""LinuxBoard on a fake /proc, /sys and /etc tree (``root=``), and once on this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from hw.board import LinuxBoard, Throttling


def write(root: Path, path: str, content: str | bytes) -> None:
    p = root / path.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        p.write_text(content)
    else:
        p.write_bytes(content)


@pytest.fixture
def pi_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    write(root, "/proc/device-tree/model", b"Raspberry Pi 4 Model B Rev 1.4\0")
    write(root, "/proc/device-tree/serial-number", b"10000000abcdef01\0")
    write(root, "/sys/class/thermal/thermal_zone0/type", "gpu-thermal\n")
    write(root, "/sys/class/thermal/thermal_zone0/temp", "60000\n")
    write(root, "/sys/class/thermal/thermal_zone1/type", "cpu-thermal\n")
    write(root, "/sys/class/thermal/thermal_zone1/temp", "48686\n")
    write(root, "/sys/devices/platform/soc/soc:firmware/get_throttled", "50005\n")
    write(root, "/proc/loadavg", "0.52 0.41 0.30 2/213 11206\n")
    write(root, "/proc/sys/kernel/pid_max", "4194304\n")
    write(root, "/etc/os-release", 'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')
    write(root, "/etc/machine-id", "6a1f0c2e8b9d4f7a9c3e5b1d2f4a6c8e\n")
    write(root, "/proc/sys/kernel/random/boot_id", "0b8e7d6c-5a4f-4e3d-9c2b-1a0f9e8d7c6b\n")
    return root


def test_pi_facts(pi_root: Path, tmp_path: Path) -> None:
    info = LinuxBoard(tmp_path, root=str(pi_root)).info()
    assert info.model == "Raspberry Pi 4 Model B Rev 1.4" and info.is_raspberry_pi
    assert info.serial == "10000000abcdef01"
    assert info.os_image == "Debian GNU/Linux 12 (bookworm)"
    assert info.machine_id == "6a1f0c2e8b9d4f7a9c3e5b1d2f4a6c8e"
    assert info.boot_id == "0b8e7d6c-5a4f-4e3d-9c2b-1a0f9e8d7c6b"
    assert info.cpu_count >= 1 and info.memory_total_bytes > 0


def test_pi_readings(pi_root: Path, tmp_path: Path) -> None:
    r = LinuxBoard(tmp_path, root=str(pi_root)).read()
    assert r.temperature_celsius == pytest.approx(48.686)  # the cpu-thermal zone, not the first
    assert r.throttling == Throttling(0x50005)
    assert r.load_average == (0.52, 0.41, 0.30)
    assert (r.pids_in_use, r.pids_max) == (213, 4194304)
    assert 0 < r.memory_available_bytes <= r.memory_total_bytes
    assert 0 < r.disk_available_bytes <= r.disk_total_bytes
    assert 0 <= r.disk_inodes_free <= r.disk_inodes_total
    assert 0.0 <= r.cpu_usage_ratio <= 1.0


def test_a_machine_without_pi_files(tmp_path: Path) -> None:
    root = tmp_path / "bare"
    write(root, "/sys/class/thermal/thermal_zone0/type", "acpitz\n")  # no temp file: unreadable
    board = LinuxBoard(tmp_path / "data/does/not/exist/yet", root=str(root))
    info, r = board.info(), board.read()
    assert info.model == "unknown" and not info.is_raspberry_pi
    assert info.os_image == "Linux"
    assert r.temperature_celsius is None and r.throttling is None
    assert r.pids_max == 32768 and r.pids_in_use > 0  # kernel default; live process count
    assert r.disk_total_bytes > 0  # the nearest existing parent's filesystem


def test_first_readable_zone_when_none_is_cpu_thermal(tmp_path: Path) -> None:
    root = tmp_path / "x86"
    write(root, "/sys/class/thermal/thermal_zone0/type", "acpitz\n")
    write(root, "/sys/class/thermal/thermal_zone0/temp", "27800\n")
    assert LinuxBoard(tmp_path, root=str(root)).read().temperature_celsius == pytest.approx(27.8)


@pytest.mark.parametrize("content", ["garbage\n", ""])
def test_unreadable_throttle_value(tmp_path: Path, content: str) -> None:
    root = tmp_path / "odd"
    write(root, "/sys/devices/platform/soc/soc:firmware/get_throttled", content)
    assert LinuxBoard(tmp_path, root=str(root)).read().throttling is None


def test_this_machine(tmp_path: Path) -> None:
    board = LinuxBoard(tmp_path)
    info, r = board.info(), board.read()
    assert info.machine and info.kernel_version and info.cpu_count >= 1
    assert r.memory_total_bytes == info.memory_total_bytes
    assert r.pids_max > r.pids_in_use > 0
