"""Power drivers: the registry and the in-memory fake against the shared contract."""

from __future__ import annotations

import pytest

from hw.power import DRIVERS, FakePower, PowerError, PowerState, make_driver
from tests.fixtures.power_contract import check_power_driver


def test_fake_keeps_the_contract() -> None:
    check_power_driver(FakePower(["pi-1", "pi-2"]), "pi-1", "pi-9")


def test_fake_records_switches() -> None:
    fake = FakePower(["pi-1"])
    fake.power_off("pi-1")
    fake.power_on("pi-1")
    assert fake.log == [("off", "pi-1"), ("on", "pi-1")]
    assert fake.state("pi-1") is PowerState.ON


def test_registry_makes_drivers_by_name() -> None:
    assert {"testbed", "fake"} <= set(DRIVERS)
    driver = make_driver("fake", targets=["pi-1"])
    assert driver.state("pi-1") == PowerState.ON


@pytest.mark.parametrize(
    ("name", "options", "match"),
    [
        pytest.param("pdu-9000", {}, "unknown driver", id="unknown"),
        pytest.param("fake", {"voltage": 5}, "bad options", id="bad-option"),
    ],
)
def test_registry_errors(name: str, options: dict[str, object], match: str) -> None:
    with pytest.raises(PowerError, match=match):
        make_driver(name, **options)
