"""Processes of simulated Pis: start them in a namespace, find them, stop them.

A process belongs to a node when its network namespace is the node's (compare the
``/proc/PID/ns/net`` inode), when it descends from such a process (containers run in pod
namespaces under a shim that runs in the node's), or when its command line names the
node's directory (a shim whose node namespace is already gone). ``victims`` gathers all
three, so a power-off or ``down`` leaves nothing behind even after a crash.

Processes are started with ``nsenter --net=`` (not ``ip netns exec``, which remounts /sys and
hides the cgroup mounts runc needs) in their own session, so they outlive the command that
started them. Popen objects are kept, so processes this one started are reaped when killed.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from hw.testbed import netns
from hw.testbed.state import ProcRecord

__all__ = [
    "adopt_orphans",
    "alive",
    "descendants",
    "kill_all",
    "kill_everything",
    "log_tail",
    "pids_in_netns",
    "pids_naming",
    "proc_cgroups",
    "reap_adopted",
    "record",
    "signal_proc",
    "start",
    "victims",
]

_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
_PR_SET_CHILD_SUBREAPER = 36
_ADOPTING = False


def log_tail(path: Path, lines: int = 3) -> str:
    """The last lines of a log, joined into one line (for one-line error messages)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4000))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, start time) from /proc/PID/stat, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode(errors="replace")
    except OSError:
        return None
    # The command name may hold spaces and parentheses: fields resume after the last ")".
    fields = raw[raw.rfind(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[19])


def _reap(pid: int) -> None:
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        del _CHILDREN[pid]


def record(pid: int) -> ProcRecord | None:
    st = _stat(pid)
    return None if st is None else ProcRecord(pid=pid, start=st[2])


def alive(proc: ProcRecord | None) -> bool:
    if proc is None:
        return False
    _reap(proc.pid)
    st = _stat(proc.pid)
    return st is not None and st[2] == proc.start and st[0] not in ("Z", "X")


def start(
    ns: str,
    argv: Sequence[str],
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ProcRecord:
    """Start ``argv`` in namespace ``ns``, detached, with stdout and stderr appended to ``log``."""
    full_env = dict(os.environ if env is None else env)
    path = full_env.get("PATH", "")
    for d in ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        if d not in path.split(":"):
            path = f"{path}:{d}" if path else d
    full_env["PATH"] = path
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        child = subprocess.Popen(
            ["nsenter", f"--net={netns.path(ns)}", "--", *argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
    _CHILDREN[child.pid] = child
    rec = record(child.pid)
    # nsenter execs the program in place, so the pid is the program's.
    return rec if rec is not None else ProcRecord(pid=child.pid, start=-1)


def signal_proc(proc: ProcRecord, sig: int = signal.SIGTERM, *, timeout: float = 10.0) -> bool:
    """Send ``sig``; wait up to ``timeout`` for the exit, then SIGKILL. False if it was not running."""
    if not alive(proc):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, sig)
    deadline = time.monotonic() + timeout
    while alive(proc):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            deadline = time.monotonic() + 10.0
        time.sleep(0.02)
    return True


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def pids_in_netns(ns_names: Iterable[str]) -> set[int]:
    inodes = {i for i in (netns.inode(n) for n in ns_names) if i is not None}
    if not inodes:
        return set()
    found: set[int] = set()
    me = os.getpid()
    for pid in _all_pids():
        if pid == me:
            continue
        try:
            st = os.stat(f"/proc/{pid}/ns/net")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in inodes:
            found.add(pid)
    return found


def _is_component(pid: int) -> bool:
    """Is this a program the testbed runs (containerd, a shim, runc, pictl/python)?

    A shell that merely tails a node's log must survive ``down``."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            comm = f.read().strip()
    except OSError:
        return False
    return comm.startswith(("containerd", "python", "pictl")) or comm in ("runc", "nsenter")


def pids_naming(paths: Iterable[Path]) -> set[int]:
    """Testbed components with an argument that is (or lies under) one of ``paths``."""
    prefixes = [str(p).rstrip("/") for p in paths]
    found: set[int] = set()
    me = os.getpid()
    for pid in _all_pids():
        if pid == me:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        for arg in args:
            value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
            value = value.removeprefix("unix://")
            if any(value == p or value.startswith(p + "/") for p in prefixes):
                if _is_component(pid):
                    found.add(pid)
                break
    return found


def descendants(roots: set[int]) -> set[int]:
    """``roots`` and every process below them."""
    children: dict[int, list[int]] = {}
    for pid in _all_pids():
        st = _stat(pid)
        if st is not None:
            children.setdefault(st[1], []).append(pid)
    out, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid in out:
            continue
        out.add(pid)
        todo.extend(children.get(pid, ()))
    return out


def victims(ns_names: Iterable[str], dirs: Iterable[Path]) -> set[int]:
    me = os.getpid()
    return descendants(pids_in_netns(ns_names) | pids_naming(dirs)) - {me, os.getppid(), 1}


def proc_cgroups(pids: Iterable[int]) -> set[tuple[str, str]]:
    """(hierarchy, path) of each process's cgroups, e.g. ("memory", "/kubepods/pod.../abc")."""
    out: set[tuple[str, str]] = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cgroup") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for line in lines:
            _, controllers, path = line.split(":", 2)
            out.add((controllers, path))
    return out


def _gone(pid: int) -> bool:
    _reap(pid)
    st = _stat(pid)
    if st is not None and st[0] == "Z" and st[1] == os.getpid() and pid not in _CHILDREN:
        # An orphan we adopted as subreaper (a shim, a container): reap it, nobody else will.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    return st is None or st[0] in ("Z", "X")


def reap_adopted() -> None:
    """Reap exited shims we adopted (they exit when their last container is removed)."""
    if not _ADOPTING:
        return
    me = os.getpid()
    for pid in _all_pids():
        st = _stat(pid)
        if st is None or st[0] != "Z" or st[1] != me or pid in _CHILDREN:
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm.startswith("containerd-shim"):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)


def adopt_orphans() -> None:
    """Make this process the subreaper of what it starts.

    containerd's shims daemonize (their parent exits), and the init of this VM does not reap
    orphans, so without this every killed shim or container would stay a zombie forever. As
    subreaper this process inherits them and ``kill_all`` reaps them by pid (never with
    ``waitpid(-1)``, which would steal other code's children).
    """
    global _ADOPTING
    if _ADOPTING:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0:
        _ADOPTING = True
        atexit.register(reap_adopted)


def kill_all(pids: set[int], *, timeout: float = 10.0) -> None:
    """SIGKILL ``pids`` and wait until they are gone (zombies count as gone)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    pending = set(pids)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        pending = {p for p in pending if not _gone(p)}
        if pending:
            time.sleep(0.01)


def kill_everything(ns_names: Sequence[str], dirs: Sequence[Path], *, rounds: int = 10) -> set[tuple[str, str]]:
    """Kill every process of the namespaces and dirs, again and again until none is left
    (a dying containerd may just have forked a shim). Returns the cgroups they were in."""
    cgroups: set[tuple[str, str]] = set()
    reap_adopted()
    for _ in range(rounds):
        pids = victims(ns_names, dirs)
        if not pids:
            break
        cgroups |= proc_cgroups(pids)
        kill_all(pids)
    return cgroups
