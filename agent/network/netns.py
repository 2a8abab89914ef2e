"""Run kernel-facing work inside a network namespace, on one dedicated thread.

A network namespace belongs to a thread, not to a process: ``setns(2)`` moves only the
calling thread. ``NetnsWorker`` owns one thread that enters the namespace once and then
runs every callable it is given, so netlink sockets (raw ones and pyroute2's) are opened
and used inside that namespace while the rest of the process stays where it is.

The agent itself runs inside its node's namespace already and passes ``netns=None`` (the
worker then just runs in the current namespace); tests pass the name of a throwaway
namespace. ``netns`` is a name under ``/var/run/netns`` or a path such as
``/proc/<pid>/ns/net``.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import ctypes.util
import os
import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["NetnsError", "NetnsWorker", "netns_path"]

T = TypeVar("T")

_CLONE_NEWNET = 0x40000000


class NetnsError(OSError):
    """The namespace does not exist or cannot be entered."""


def netns_path(netns: str) -> str:
    """``"pi-1"`` -> ``/var/run/netns/pi-1``; paths are returned as given."""
    return netns if "/" in netns else os.path.join("/var/run/netns", netns)


def _enter(netns: str) -> None:
    path = netns_path(netns)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise NetnsError(exc.errno, f"netns: cannot open {path}: {exc.strerror}") from exc
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        if libc.setns(fd, _CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise NetnsError(err, f"netns: cannot enter {path}: {os.strerror(err)}")
    finally:
        os.close(fd)


class NetnsWorker:
    """One thread, inside ``netns`` (or the current namespace), that runs callables in order."""

    def __init__(self, netns: str | None = None, *, name: str = "netns") -> None:
        self.netns = netns
        self._closed = False
        self._lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"{name}-{netns or 'self'}"
        )
        # The pool has exactly one thread and keeps it until shutdown, so entering the
        # namespace in the first task moves every later task there too. Entering now makes
        # a missing namespace fail here, with a clear error, rather than on first use.
        if netns is not None:
            try:
                self.call(_enter, netns)
            except BaseException:
                self.close()
                raise

    def call(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn(*args)`` on the worker thread and return its result (or raise its error)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("netns worker is closed")
            future = self._pool.submit(fn, *args)
        return future.result()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._pool.shutdown(wait=True)
