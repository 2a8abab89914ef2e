"""Every fault action maps to the right primitive, in the right direction."""

from __future__ import annotations

import signal
from typing import Any, cast

import pytest

from hw.testbed.faults import ACTIONS


class RecordingTestbed:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def power_off(self, node: str) -> None:
        self.calls.append(("power_off", node))

    def power_on(self, node: str) -> None:
        self.calls.append(("power_on", node))

    def set_connected(self, node: str, connected: bool) -> None:
        self.calls.append(("set_connected", node, connected))

    def stop_component(self, node: str, component: str, sig: int) -> None:
        self.calls.append(("stop", node, component, sig))

    def start_component(self, node: str, component: str) -> None:
        self.calls.append(("start", node, component))


@pytest.mark.parametrize(
    ("action", "call"),
    [
        ("power-off", ("power_off", "pi-1")),
        ("power-on", ("power_on", "pi-1")),
        ("partition", ("set_connected", "pi-1", False)),
        ("heal", ("set_connected", "pi-1", True)),
        ("kill-agent", ("stop", "pi-1", "agent", signal.SIGKILL)),
        ("stop-agent", ("stop", "pi-1", "agent", signal.SIGTERM)),
        ("start-agent", ("start", "pi-1", "agent")),
        ("kill-containerd", ("stop", "pi-1", "containerd", signal.SIGKILL)),
        ("stop-containerd", ("stop", "pi-1", "containerd", signal.SIGTERM)),
        ("start-containerd", ("start", "pi-1", "containerd")),
        ("kill-master", ("stop", "pi-1", "master", signal.SIGKILL)),
        ("start-master", ("start", "pi-1", "master")),
    ],
)
def test_action(action: str, call: tuple[Any, ...]) -> None:
    tb = RecordingTestbed()
    fault, direction = ACTIONS[action]
    getattr(fault, direction)(cast(Any, tb), "pi-1")
    assert tb.calls == [call]


def test_every_fault_has_both_directions() -> None:
    kinds: dict[str, set[str]] = {}
    for fault, direction in ACTIONS.values():
        kinds.setdefault(fault.kind, set()).add(direction)
    assert kinds == {k: {"inject", "repair"} for k in ("power", "partition", "agent", "containerd", "master")}
