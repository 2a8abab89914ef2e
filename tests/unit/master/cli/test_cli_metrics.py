"""The agents' /metrics/resource text and CPU from two samples."""

from __future__ import annotations

import pytest

from master.cli.kube import metrics

FIRST = """\
# HELP node_cpu_usage_seconds_total Cumulative cpu time consumed by the node in core-seconds
# TYPE node_cpu_usage_seconds_total counter
node_cpu_usage_seconds_total 100.0 1000000
node_memory_working_set_bytes 1.073741824e+09 1000000
pod_cpu_usage_seconds_total{namespace="default",pod="web"} 10 1000000
pod_memory_working_set_bytes{namespace="default",pod="web"} 5.24288e+07 1000000
container_cpu_usage_seconds_total{container="c",namespace="default",pod="web"} 10 1000000
container_memory_working_set_bytes{container="c",namespace="default",pod="web"} 5.24288e+07 1000000
scrape_error 0
"""
SECOND = FIRST.replace("100.0 1000000", "100.5 1002000").replace(
    'pod="web"} 10 1000000', 'pod="web"} 10.25 1002000').replace("1000000", "1002000")


def test_usage_from_two_samples() -> None:
    u = metrics.usage(metrics.parse(FIRST, 0.0), metrics.parse(SECOND, 5.0))
    assert u.node_cpu == 250  # 0.5 core-seconds over the samples' 2 s
    assert u.node_memory == 1 << 30
    assert u.pods == {("default", "web"): (125, 52428800)}
    assert u.containers == {("default", "web", "c"): (125, 52428800)}


def test_without_timestamps_the_read_times_count() -> None:
    a = metrics.parse("node_cpu_usage_seconds_total 1\n", 10.0)
    b = metrics.parse("node_cpu_usage_seconds_total 2\n", 14.0)
    assert metrics.usage(a, b).node_cpu == 250


def test_labels_with_escapes() -> None:
    s = metrics.parse('m{a="x\\"y",b="p\\\\q"} 1\n', 0.0)
    assert s.get("m", a='x"y', b="p\\q") == (1.0, None)


@pytest.mark.parametrize("text", ["not a metric line at all {", 'm{a=x} 1', "m abc"])
def test_bad_text(text: str) -> None:
    with pytest.raises(metrics.MetricsError):
        metrics.parse(text, 0.0)
