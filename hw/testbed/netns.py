"""Named network namespaces (``/var/run/netns/NAME``, the same place ``ip netns`` uses).

Namespaces are made and entered from a short-lived thread rather than a forked child:
``unshare`` and ``setns`` act on the calling thread only, and not forking keeps this safe in
processes that already run gRPC or asyncio threads (tests do). A function run "in" a
namespace with ``run_in`` opens its sockets there; they stay there after the thread ends.
"""

from __future__ import annotations

import ctypes
import errno
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from hw.testbed.errors import TestbedError

__all__ = ["NETNS_DIR", "create", "exists", "inode", "path", "remove", "run_in"]

NETNS_DIR = Path("/var/run/netns")

_CLONE_NEWNET = 0x40000000
_MS_BIND = 0x1000
_MS_REC = 0x4000
_MS_SHARED = 0x100000
_MNT_DETACH = 2

_libc = ctypes.CDLL(None, use_errno=True)
_T = TypeVar("_T")


def path(name: str) -> Path:
    return NETNS_DIR / name


def exists(name: str) -> bool:
    return os.path.ismount(path(name))


def inode(name: str) -> tuple[int, int] | None:
    """(st_dev, st_ino) of the namespace, as /proc/PID/ns/net of its processes shows it."""
    if not exists(name):
        return None
    try:
        st = os.stat(path(name))
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _oserror(what: str, target: str | Path) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, f"{what} {target}: {os.strerror(err)}")


def _in_thread(fn: Callable[[], _T]) -> _T:
    out: dict[str, object] = {}

    def body() -> None:
        try:
            out["result"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread
            out["error"] = exc

    t = threading.Thread(target=body, name="netns", daemon=True)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]  # type: ignore[misc]
    return out["result"]  # type: ignore[return-value]


def _share_rundir() -> None:
    # What iproute2 does: make the directory a shared mount, so namespaces bound here are
    # visible in every mount namespace that later forks off (containerd's shims, say).
    NETNS_DIR.mkdir(parents=True, exist_ok=True)
    d = bytes(NETNS_DIR)
    if _libc.mount(b"", d, b"none", _MS_SHARED | _MS_REC, None) == 0:
        return
    if _libc.mount(d, d, b"none", _MS_BIND | _MS_REC, None) != 0:
        raise _oserror("cannot bind-mount", NETNS_DIR)
    if _libc.mount(b"", d, b"none", _MS_SHARED | _MS_REC, None) != 0:
        raise _oserror("cannot share", NETNS_DIR)


def create(name: str) -> None:
    """Create namespace ``name``; an existing one is left alone."""
    if exists(name):
        return
    try:
        _share_rundir()
        target = path(name)
        fd = os.open(target, os.O_RDONLY | os.O_CREAT, 0)
        os.close(fd)

        def body() -> None:
            if _libc.unshare(_CLONE_NEWNET) != 0:
                raise _oserror("cannot unshare the network namespace for", name)
            src = f"/proc/self/task/{threading.get_native_id()}/ns/net".encode()
            if _libc.mount(src, bytes(target), b"none", _MS_BIND, None) != 0:
                raise _oserror("cannot bind", target)

        _in_thread(body)
    except OSError as exc:
        raise TestbedError(f"netns: cannot create {name}: {exc.strerror or exc}") from exc


def remove(name: str) -> None:
    """Unbind and delete namespace ``name`` (it dies with its last process); idempotent."""
    target = path(name)
    if os.path.ismount(target) and _libc.umount2(bytes(target), _MNT_DETACH) != 0:
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOENT):
            raise TestbedError(f"netns: cannot unmount {target}: {os.strerror(err)}")
    try:
        target.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise TestbedError(f"netns: cannot remove {target}: {exc.strerror}") from exc


def run_in(name: str, fn: Callable[[], _T]) -> _T:
    """Run ``fn`` in a thread that has entered namespace ``name``; return its result."""

    def body() -> _T:
        try:
            fd = os.open(path(name), os.O_RDONLY)
        except OSError as exc:
            raise TestbedError(f"netns: {name} does not exist") from exc
        try:
            if _libc.setns(fd, _CLONE_NEWNET) != 0:
                raise _oserror("cannot enter", name)
        finally:
            os.close(fd)
        return fn()

    return _in_thread(body)
