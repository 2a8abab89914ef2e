import pytest

from hw.board import FakeBoard, Throttling


@pytest.mark.parametrize(
    ("raw", "now", "occurred"),
    [
        pytest.param(0x0, set(), set(), id="healthy"),
        pytest.param(0x50005, {"under_voltage", "throttled"}, {"under_voltage", "throttled"}, id="brown-out"),
        pytest.param(0x80000, set(), {"soft_temperature_limit"}, id="was-hot"),
        pytest.param(0xA, {"frequency_capped", "soft_temperature_limit"}, set(), id="hot-now"),
    ],
)
def test_throttling_bits(raw: int, now: set[str], occurred: set[str]) -> None:
    t = Throttling(raw)
    names = ("under_voltage", "frequency_capped", "throttled", "soft_temperature_limit")
    assert {n for n in names if getattr(t, n)} == now
    assert {n for n in names if getattr(t, f"{n}_occurred")} == occurred
    assert t.any_now == bool(now)


def test_fake_board() -> None:
    board = FakeBoard()
    assert board.info().is_raspberry_pi
    board.set(memory_available_bytes=50 << 20, temperature_celsius=None)
    r = board.read()
    assert (r.memory_available_bytes, r.temperature_celsius, board.reads) == (50 << 20, None, 1)
