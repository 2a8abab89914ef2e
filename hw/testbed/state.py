"""``state.json``: what a testbed is and what runs in it, so any later command (or a cleanup
after a crash) can find its processes, namespaces and links.

Processes are recorded as (pid, start time): a pid alone may have been reused by the time
``down`` runs, the pair may not.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from hw.testbed.errors import TestbedError
from master.util.files import write_atomic

__all__ = ["NodeRecord", "ProcRecord", "TestbedState", "load_state", "save_state"]


class ProcRecord(msgspec.Struct, frozen=True):
    pid: int
    # Start time in clock ticks since boot (field 22 of /proc/PID/stat).
    start: int


class NodeRecord(msgspec.Struct):
    name: str
    ip: str
    netns: str
    veth: str
    powered: bool = True
    # Component name ("containerd", "agent", "master") -> its process.
    procs: dict[str, ProcRecord] = msgspec.field(default_factory=dict)


class TestbedState(msgspec.Struct):
    __test__ = False

    name: str
    index: int
    # "building" until ``up`` finishes; a testbed left "building" by a crash is rebuilt by ``up``.
    phase: str = "building"
    master: bool = True
    agents: bool = True
    master_args: list[str] = msgspec.field(default_factory=list)
    agent_args: list[str] = msgspec.field(default_factory=list)
    # "master" and "pi-1" .. "pi-N".
    nodes: dict[str, NodeRecord] = msgspec.field(default_factory=dict)
    created: float = 0.0
    # Extra image archives imported into every node (and into nodes added later).
    images: list[str] = msgspec.field(default_factory=list)
    # Components the last ``up`` found missing ("agent", "master"): shown by status.
    unavailable: dict[str, str] = msgspec.field(default_factory=dict)


def load_state(path: Path) -> TestbedState | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TestbedError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return msgspec.json.decode(data, type=TestbedState)
    except msgspec.DecodeError as exc:
        raise TestbedError(f"damaged testbed state {path}: {exc} (pictl testbed down removes it)") from exc


def save_state(path: Path, state: TestbedState) -> None:
    write_atomic(path, msgspec.json.format(msgspec.json.encode(state), indent=1) + b"\n")
