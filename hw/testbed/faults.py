"""Faults a test (or a person) can inject into a simulated Pi, each with its repair.

A fault is a small object with ``inject(tb, node)`` and ``repair(tb, node)``; ``ACTIONS``
maps the command-line words to a fault and a direction::

    power-off / power-on          everything in the node stops (containerd, shims, containers,
                                  agent), its volatile state and network config are lost; disk
                                  state and the LAN address stay; power-on boots it again
    partition / heal              the node's LAN port leaves / rejoins the bridge
    kill-agent / stop-agent / start-agent              SIGKILL / SIGTERM / start the agent
    kill-containerd / stop-containerd / start-containerd
    kill-master / stop-master / start-master           (node "master" only)

A power-control driver (``hw.power``) drives ``POWER`` the same way a PDU would.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from hw.testbed.testbed import Testbed

__all__ = ["ACTIONS", "PARTITION", "POWER", "Fault", "PartitionFault", "PowerFault", "ProcessFault"]


class Fault(Protocol):
    @property
    def kind(self) -> str: ...

    def inject(self, tb: Testbed, node: str) -> None: ...

    def repair(self, tb: Testbed, node: str) -> None: ...


@dataclass(frozen=True)
class PowerFault:
    kind: str = "power"

    def inject(self, tb: Testbed, node: str) -> None:
        tb.power_off(node)

    def repair(self, tb: Testbed, node: str) -> None:
        tb.power_on(node)


@dataclass(frozen=True)
class PartitionFault:
    kind: str = "partition"

    def inject(self, tb: Testbed, node: str) -> None:
        tb.set_connected(node, False)

    def repair(self, tb: Testbed, node: str) -> None:
        tb.set_connected(node, True)


@dataclass(frozen=True)
class ProcessFault:
    """Stop one component with ``sig`` (SIGTERM waits for a clean exit, then kills)."""

    component: Literal["agent", "containerd", "master"]
    sig: int = signal.SIGKILL

    @property
    def kind(self) -> str:
        return self.component

    def inject(self, tb: Testbed, node: str) -> None:
        tb.stop_component(node, self.component, self.sig)

    def repair(self, tb: Testbed, node: str) -> None:
        tb.start_component(node, self.component)


POWER = PowerFault()
PARTITION = PartitionFault()

Direction = Literal["inject", "repair"]

ACTIONS: dict[str, tuple[Fault, Direction]] = {
    "power-off": (POWER, "inject"),
    "power-on": (POWER, "repair"),
    "partition": (PARTITION, "inject"),
    "heal": (PARTITION, "repair"),
}
for _component in ("agent", "containerd", "master"):
    ACTIONS[f"kill-{_component}"] = (ProcessFault(_component, signal.SIGKILL), "inject")
    ACTIONS[f"stop-{_component}"] = (ProcessFault(_component, signal.SIGTERM), "inject")
    ACTIONS[f"start-{_component}"] = (ProcessFault(_component), "repair")
