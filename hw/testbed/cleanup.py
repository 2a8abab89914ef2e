"""Traces a node's containerd leaves outside the node's own directory, and their removal.

When containerd, its shims and their containers die at once (a power-off, or ``down``), they
leave behind what a clean shutdown would have removed:

- mounts under the node's state dir (container rootfs overlays, sandbox /dev/shm, pod netns);
- shim sockets in /run/containerd/s/ (named by a hash; each bundle's ``address`` file names
  its socket, so read them before the state dir goes);
- CNI result cache files in /var/lib/cni/results/ named ``<network>-<sandbox id>-<ifname>``;
- the containers' cgroups (empty directories once their processes are dead).

On a real Pi a power cut clears all of that (it lives in tmpfs or in the dead kernel); here
the host keeps running, so the testbed clears it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "CNI_CACHE",
    "remove_cgroup",
    "remove_cgroups",
    "remove_cni_cache",
    "remove_shim_sockets",
    "sandbox_ids",
    "shim_sockets",
    "unmount_under",
    "wipe_dir",
]

CNI_CACHE = Path("/var/lib/cni/results")
CGROUP_ROOT = Path("/sys/fs/cgroup")
SHIM_SOCKET_DIR = Path("/run/containerd/s")
_MNT_DETACH = 2
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_libc = ctypes.CDLL(None, use_errno=True)


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo.
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mounts_under(root: Path) -> list[str]:
    prefix = str(root).rstrip("/")
    found = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                point = _unescape(line.split()[4])
                if point == prefix or point.startswith(prefix + "/"):
                    found.append(point)
    except OSError:
        return []
    return found


def unmount_under(root: Path) -> None:
    """Lazily unmount everything mounted at or below ``root``, deepest first."""
    for _ in range(5):
        points = mounts_under(root)
        if not points:
            return
        for point in sorted(points, key=lambda p: p.count("/"), reverse=True):
            _libc.umount2(point.encode(), _MNT_DETACH)


def shim_sockets(state_dir: Path) -> list[Path]:
    """Socket paths of the shims of a containerd whose state dir is ``state_dir``."""
    out = []
    for address in state_dir.glob("io.containerd.runtime.v2.task/*/*/address"):
        with contextlib.suppress(OSError):
            sock = Path(address.read_text().strip().removeprefix("unix://"))
            if sock.parent == SHIM_SOCKET_DIR:
                out.append(sock)
    return out


def remove_shim_sockets(sockets: Iterable[Path]) -> None:
    for sock in sockets:
        with contextlib.suppress(FileNotFoundError):
            sock.unlink()


def sandbox_ids(*dirs: Path) -> set[str]:
    """Pod sandbox ids the CRI of a containerd with these root/state dirs has known."""
    ids: set[str] = set()
    for d in dirs:
        with contextlib.suppress(OSError):
            ids |= {p.name for p in (d / "io.containerd.grpc.v1.cri" / "sandboxes").iterdir()
                    if _HEX64.match(p.name)}
    return ids


def remove_cni_cache(ids: set[str], cache: Path = CNI_CACHE) -> None:
    if not ids:
        return
    with contextlib.suppress(OSError):
        for entry in cache.iterdir():
            parts = entry.name.split("-")
            if any(p in ids for p in parts):
                with contextlib.suppress(OSError):
                    entry.unlink()


def _own_cgroups() -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    with contextlib.suppress(OSError), open("/proc/self/cgroup") as f:
        for line in f.read().splitlines():
            _, controllers, path = line.split(":", 2)
            out.add((controllers, path))
    return out


def _hierarchy_dir(controllers: str) -> Path | None:
    if controllers == "":
        return CGROUP_ROOT / "unified" if (CGROUP_ROOT / "unified").is_dir() else CGROUP_ROOT
    for name in (controllers, controllers.removeprefix("name=")):
        d = CGROUP_ROOT / name
        if d.is_dir():
            return d
    return None


def _removable(name: str) -> bool:
    # A container's cgroup is named by its id; a pod's contains "pod" (cgroupfs "pod<uid>",
    # systemd "kubepods-...-pod<uid>.slice"). Shared parents (kubepods, QoS classes) stay.
    return bool(_HEX64.match(name)) or name.startswith("pod") or "-pod" in name


def remove_cgroups(cgroups: Iterable[tuple[str, str]]) -> None:
    """rmdir the (now empty) cgroups of dead containers and of their pods.

    Never touches a cgroup this process (or an ancestor of its cgroups) lives in, nor one
    whose name does not look like a container or pod.
    """
    own = _own_cgroups()
    protected = {(c, p) for c, path in own for p in [path, *_ancestors(path)]}
    for controllers, path in cgroups:
        base = _hierarchy_dir(controllers)
        if base is None:
            continue
        for cg in [path, *_ancestors(path)]:
            if cg == "/" or (controllers, cg) in protected or not _removable(cg.rsplit("/", 1)[-1]):
                break
            try:
                os.rmdir(base / cg.lstrip("/"))
            except FileNotFoundError:
                continue
            except OSError:
                break


def remove_cgroup(path: str) -> None:
    """rmdir cgroup ``path`` (e.g. "/kubepods/pod1234") in every hierarchy it exists in."""
    rel = path.strip("/")
    if not rel or not CGROUP_ROOT.is_dir():
        return
    for base in [CGROUP_ROOT, *CGROUP_ROOT.iterdir()]:
        with contextlib.suppress(OSError):
            os.rmdir(base / rel)


def _ancestors(path: str) -> list[str]:
    """"/a/b/c" -> ["/a/b", "/a", "/"] (and the path itself is not included)."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) if i else "/" for i in range(len(parts) - 1, -1, -1)]


def wipe_dir(path: Path) -> None:
    """Empty ``path`` (keep the directory), after unmounting anything below it."""
    unmount_under(path)
    if not path.exists():
        return
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                child.unlink()
