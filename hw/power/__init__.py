"""Power control for Pis: one ``PowerDriver`` Protocol, drivers registered by name.

    driver = power.make_driver("testbed", testbed="picluster")
    driver.power_off("pi-2"); driver.state("pi-2")  # PowerState.OFF
    power.power_cycle(driver, "pi-2", off_seconds=2)

``testbed`` drives the simulated Pis (their power-off/power-on faults); ``fake`` is in memory,
for unit tests. A real PDU, relay board or PoE switch is one more entry in ``DRIVERS``.
"""

from hw.power.driver import DRIVERS, PowerDriver, PowerError, PowerState, make_driver, power_cycle
from hw.power.fake import FakePower
from hw.power.testbed import TestbedPower

__all__ = [
    "DRIVERS",
    "FakePower",
    "PowerDriver",
    "PowerError",
    "PowerState",
    "TestbedPower",
    "make_driver",
    "power_cycle",
]
