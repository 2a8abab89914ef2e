from prometheus_client import CollectorRegistry, generate_latest

from hw.board import FakeBoard, Throttling
from hw.board.metrics import BoardCollector


def test_collector_reads_on_scrape() -> None:
    board = FakeBoard()
    registry = CollectorRegistry()
    registry.register(BoardCollector(board))
    board.set(temperature_celsius=71.5, throttling=Throttling(0x50005), memory_available_bytes=1 << 30)
    get = registry.get_sample_value
    assert get("picluster_node_temperature_celsius") == 71.5
    assert get("picluster_node_memory_available_bytes") == 1 << 30
    assert get("picluster_node_throttled", {"condition": "under_voltage", "when": "now"}) == 1
    assert get("picluster_node_throttled", {"condition": "frequency_capped", "when": "since_boot"}) == 0
    assert get("picluster_node_load_average", {"period": "5m"}) == 0.25
    info = {
        "model": "Raspberry Pi 4 Model B Rev 1.4",
        "machine": "aarch64",
        "kernel_version": "6.6.31+rpt-rpi-v8",
        "os_image": "Debian GNU/Linux 12 (bookworm)",
    }
    assert get("picluster_node_info", info) == 1


def test_no_sensor_no_series() -> None:
    board = FakeBoard()
    board.set(temperature_celsius=None, throttling=None)
    registry = CollectorRegistry()
    registry.register(BoardCollector(board))
    text = generate_latest(registry).decode()
    assert "picluster_node_temperature_celsius" not in text and "picluster_node_throttled" not in text
    assert "picluster_node_pids_in_use 180.0" in text
