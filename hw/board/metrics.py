"""Board readings as Prometheus metrics, read fresh on every scrape (no background sampling).

    picluster_node_info{model,machine,kernel_version,os_image}      1
    picluster_node_temperature_celsius                            (absent without a sensor)
    picluster_node_throttled{condition,when}                      0/1 (absent off a Pi)
        condition: under_voltage, frequency_capped, throttled, soft_temperature_limit
        when: now, since_boot
    picluster_node_cpu_usage_ratio                                0.0-1.0 since the last scrape
    picluster_node_load_average{period}                           1m, 5m, 15m
    picluster_node_memory_total_bytes, picluster_node_memory_available_bytes
    picluster_node_filesystem_size_bytes, picluster_node_filesystem_available_bytes (nodefs)
    picluster_node_pids_in_use, picluster_node_pids_max

Register once per registry: ``registry.register(BoardCollector(board))``.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from hw.board.board import Board

__all__ = ["BoardCollector"]

_THROTTLE_BITS = {
    "under_voltage": 0x1,
    "frequency_capped": 0x2,
    "throttled": 0x4,
    "soft_temperature_limit": 0x8,
}


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


class BoardCollector(Collector):
    def __init__(self, board: Board) -> None:
        self._board = board

    def collect(self) -> Iterator[GaugeMetricFamily]:
        info, r = self._board.info(), self._board.read()
        family = GaugeMetricFamily(
            "picluster_node_info",
            "The board's model, architecture, kernel and OS (always 1).",
            labels=["model", "machine", "kernel_version", "os_image"],
        )
        family.add_metric([info.model, info.machine, info.kernel_version, info.os_image], 1)
        yield family
        if r.temperature_celsius is not None:
            yield _gauge("picluster_node_temperature_celsius", "SoC temperature.", r.temperature_celsius)
        if r.throttling is not None:
            family = GaugeMetricFamily(
                "picluster_node_throttled",
                "Firmware throttling flags (vcgencmd get_throttled), now and since boot.",
                labels=["condition", "when"],
            )
            for condition, bit in _THROTTLE_BITS.items():
                family.add_metric([condition, "now"], 1 if r.throttling.raw & bit else 0)
                family.add_metric([condition, "since_boot"], 1 if r.throttling.raw & (bit << 16) else 0)
            yield family
        yield _gauge(
            "picluster_node_cpu_usage_ratio",
            "CPU busy ratio over all cores since the last scrape.",
            r.cpu_usage_ratio,
        )
        family = GaugeMetricFamily("picluster_node_load_average", "Load average.", labels=["period"])
        for period, value in zip(("1m", "5m", "15m"), r.load_average, strict=True):
            family.add_metric([period], value)
        yield family
        yield _gauge("picluster_node_memory_total_bytes", "Memory installed.", r.memory_total_bytes)
        yield _gauge(
            "picluster_node_memory_available_bytes",
            "Memory available (MemAvailable).",
            r.memory_available_bytes,
        )
        yield _gauge(
            "picluster_node_filesystem_size_bytes",
            "Size of the agent data dir's filesystem.",
            r.disk_total_bytes,
        )
        yield _gauge(
            "picluster_node_filesystem_available_bytes",
            "Space available to unprivileged writers on the agent data dir's filesystem.",
            r.disk_available_bytes,
        )
        yield _gauge("picluster_node_pids_in_use", "Tasks (processes and threads) in use.", r.pids_in_use)
        yield _gauge("picluster_node_pids_max", "The kernel's pid_max.", r.pids_max)
