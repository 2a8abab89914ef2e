"""The power-control extension point: the Protocol, its errors and the name -> factory registry.

A driver switches the power of targets it knows by name (a Pi's node name, or an outlet
label its options map to). The contract, held by every driver (tests/unit/hw/power):

- ``power_off`` / ``power_on`` are idempotent: switching an "off" target off again is fine;
- ``state`` reports ON or OFF after either call returns (UNKNOWN only when the hardware
  cannot tell);
- an unknown target raises ``PowerError`` and changes nothing.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["DRIVERS", "PowerDriver", "PowerError", "PowerState", "make_driver", "power_cycle"]


class PowerError(Exception):
    """A target the driver does not know, or a switch that failed."""


class PowerState(enum.StrEnum):
    ON = "on"
    OFF = "off"
    UNKNOWN = "unknown"


class PowerDriver(Protocol):
    def power_off(self, target: str) -> None: ...

    def power_on(self, target: str) -> None: ...

    def state(self, target: str) -> PowerState: ...


def power_cycle(
    driver: PowerDriver, target: str, *, off_seconds: float = 5.0, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Off, wait, on: what "power-cycle a dead Pi" means for every driver."""
    driver.power_off(target)
    sleep(off_seconds)
    driver.power_on(target)


def _testbed(**options: Any) -> PowerDriver:
    from hw.power.testbed import TestbedPower

    return TestbedPower(**options)


def _fake(**options: Any) -> PowerDriver:
    from hw.power.fake import FakePower

    return FakePower(**options)


DRIVERS: dict[str, Callable[..., PowerDriver]] = {
    "testbed": _testbed,
    "fake": _fake,
}


def make_driver(name: str, **options: Any) -> PowerDriver:
    factory = DRIVERS.get(name)
    if factory is None:
        raise PowerError(f"power: unknown driver {name!r} (one of: {', '.join(sorted(DRIVERS))})")
    try:
        return factory(**options)
    except TypeError as exc:
        raise PowerError(f"power: bad options for driver {name!r}: {exc}") from exc
