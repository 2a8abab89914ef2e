"""Power control of simulated Pis: the testbed's power-off / power-on faults behind the driver."""

from __future__ import annotations

from pathlib import Path

from hw.power.driver import PowerError, PowerState
from hw.testbed import DEFAULT_NAME, Testbed, TestbedError, TestbedSettings

__all__ = ["TestbedPower"]


class TestbedPower:
    __test__ = False

    def __init__(self, testbed: str = DEFAULT_NAME, root: str | Path | None = None) -> None:
        settings = TestbedSettings(root=Path(root)) if root is not None else TestbedSettings()
        try:
            self._tb = Testbed(testbed, settings)
        except TestbedError as exc:
            raise PowerError(f"power: {exc}") from exc

    def power_off(self, target: str) -> None:
        self._switch(target, "power-off")

    def power_on(self, target: str) -> None:
        self._switch(target, "power-on")

    def state(self, target: str) -> PowerState:
        try:
            rec = self._tb.state.nodes.get(target)
        except TestbedError as exc:
            raise PowerError(f"power: {exc}") from exc
        if rec is None:
            raise PowerError(f"power: testbed {self._tb.name!r} has no node {target!r}")
        return PowerState.ON if rec.powered else PowerState.OFF

    def _switch(self, target: str, action: str) -> None:
        self.state(target)
        try:
            self._tb.fault(target, action)
        except TestbedError as exc:
            raise PowerError(f"power: {target}: {exc}") from exc
