"""Kernel settings the pod network needs, through ``/proc/sys`` (never the ``sysctl`` tool).

``/proc/sys/net`` shows the network namespace of the thread that opens the file, so these
work inside a ``NetnsWorker`` as well.

- ``net.ipv4.ip_forward = 1``: the node routes between its pods, the LAN and other nodes.
- ``net.bridge.bridge-nf-call-iptables = 1`` (needs ``br_netfilter``): bridged traffic
  between two pods on one node passes the ip hooks, so a reply from a pod that was
  reached through a Service is un-DNATed even though it never leaves the bridge. Without
  the module the file does not exist; ``enable_bridge_netfilter`` then returns ``None``.
"""

from __future__ import annotations

import errno
from pathlib import Path

__all__ = [
    "PROC_SYS",
    "SysctlError",
    "enable_bridge_netfilter",
    "enable_forwarding",
    "get_sysctl",
    "set_sysctl",
]

PROC_SYS = Path("/proc/sys")


class SysctlError(OSError):
    pass


def _path(name: str, proc_sys: Path) -> Path:
    if not name or name.startswith(".") or ".." in name or "/" in name:
        raise SysctlError(errno.EINVAL, f"sysctl: bad name {name!r}")
    return proc_sys / name.replace(".", "/")


def get_sysctl(name: str, *, proc_sys: Path = PROC_SYS) -> str | None:
    """The value, or None if the setting does not exist."""
    path = _path(name, proc_sys)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SysctlError(exc.errno, f"sysctl: cannot read {name}: {exc.strerror}") from exc


def set_sysctl(name: str, value: str, *, proc_sys: Path = PROC_SYS) -> bool:
    """Write ``value`` unless it is already set; returns whether it changed."""
    current = get_sysctl(name, proc_sys=proc_sys)
    if current is None:
        raise SysctlError(errno.ENOENT, f"sysctl: {name} does not exist")
    if current == value:
        return False
    try:
        _path(name, proc_sys).write_text(value + "\n")
    except OSError as exc:
        raise SysctlError(exc.errno, f"sysctl: cannot set {name}={value}: {exc.strerror}") from exc
    return True


def enable_forwarding(*, proc_sys: Path = PROC_SYS) -> bool:
    return set_sysctl("net.ipv4.ip_forward", "1", proc_sys=proc_sys)


def enable_bridge_netfilter(*, proc_sys: Path = PROC_SYS) -> bool | None:
    """True/False whether it changed; None when br_netfilter is not loaded."""
    if get_sysctl("net.bridge.bridge-nf-call-iptables", proc_sys=proc_sys) is None:
        return None
    return set_sysctl("net.bridge.bridge-nf-call-iptables", "1", proc_sys=proc_sys)
