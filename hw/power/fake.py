"""An in-memory power driver for unit tests (held to the same contract as the real ones)."""

from __future__ import annotations

from collections.abc import Iterable

from hw.power.driver import PowerError, PowerState

__all__ = ["FakePower"]


class FakePower:
    def __init__(self, targets: Iterable[str] = ()) -> None:
        self.states: dict[str, PowerState] = dict.fromkeys(targets, PowerState.ON)
        # Every switch made, in order: ("off", "pi-1"), ("on", "pi-1"), ...
        self.log: list[tuple[str, str]] = []

    def _known(self, target: str) -> None:
        if target not in self.states:
            raise PowerError(f"power: unknown target {target!r}")

    def power_off(self, target: str) -> None:
        self._known(target)
        self.states[target] = PowerState.OFF
        self.log.append(("off", target))

    def power_on(self, target: str) -> None:
        self._known(target)
        self.states[target] = PowerState.ON
        self.log.append(("on", target))

    def state(self, target: str) -> PowerState:
        self._known(target)
        return self.states[target]
