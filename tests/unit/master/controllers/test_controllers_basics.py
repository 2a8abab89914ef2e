"""--controllers parsing, settings validation, metrics, expectations, taints, hashes, small helpers."""

from __future__ import annotations

import dataclasses

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from master.api import core
from master.client import errors
from master.client.workqueue import WorkQueue
from master.controllers import taints
from master.controllers.expectations import Expectations
from master.controllers.hashing import compute_hash
from master.controllers.metrics import ControllerMetrics
from master.controllers.registry import CONTROLLERS, ControllerSpec, enabled_controllers
from master.controllers.settings import ControllerManagerSettings
from master.controllers.util import scaled_value, slow_start_batch
from master.util.clock import FakeClock

KNOWN = {"a": ControllerSpec("x.a"), "b": ControllerSpec("x.b"), "c": ControllerSpec("x.c", on_by_default=False)}


@pytest.mark.parametrize(
    ("selection", "want"),
    [
        pytest.param(["*"], ["a", "b"], id="star-is-defaults"),
        pytest.param(["*,c"], ["a", "b", "c"], id="star-plus-off-by-default"),
        pytest.param(["*", "-a"], ["b"], id="minus-wins-over-star"),
        pytest.param(["c"], ["c"], id="only-named"),
        pytest.param(["a", "-a"], [], id="minus-wins-over-name"),
        pytest.param([""], [], id="empty"),
        pytest.param(["*, -b ,"], ["a"], id="spaces-and-trailing-comma"),
    ],
)
def test_enabled_controllers(selection: list[str], want: list[str]) -> None:
    assert enabled_controllers(selection, KNOWN) == want


@pytest.mark.parametrize("selection", [["nope"], ["*,-nope"]])
def test_unknown_controller_is_a_clear_error(selection: list[str]) -> None:
    with pytest.raises(ValueError, match=r'"nope" is not in the list of known controllers \(known: a, b, c\)'):
        enabled_controllers(selection, KNOWN)


def test_the_real_registry() -> None:
    core_set = {"replicaset", "deployment", "daemonset", "endpoint", "endpointslice", "namespace", "garbagecollector",
                "nodeipam", "nodelifecycle", "serviceaccount", "podgc"}
    assert core_set <= set(enabled_controllers(["*"])) <= set(CONTROLLERS)
    assert enabled_controllers(["*", "-nodeipam"]) == [n for n in enabled_controllers(["*"]) if n != "nodeipam"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"node_monitor_period": 0}, "--node-monitor-period 0: must be positive", id="period"),
        pytest.param({"node_eviction_rate": -1}, "--node-eviction-rate -1: must not be negative", id="rate"),
        pytest.param({"unhealthy_zone_threshold": 1.5}, "--unhealthy-zone-threshold", id="threshold"),
        pytest.param({"concurrent_gc_syncs": 0}, "--concurrent-gc-syncs 0: must be at least 1", id="workers"),
        pytest.param({"cluster_cidr": "10.244.0.1/16"}, "--cluster-cidr '10.244.0.1/16'", id="host-bits"),
        pytest.param({"cluster_cidr": "banana"}, "--cluster-cidr 'banana'", id="not-a-cidr"),
        pytest.param({"node_cidr_mask_size": 8}, "--node-cidr-mask-size 8", id="mask-too-short"),
    ],
)
def test_settings_validation(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match="invalid " + message.replace("(", r"\(").replace(")", r"\)")):
        dataclasses.replace(ControllerManagerSettings(), **change).validate()


def test_default_settings_are_valid_and_follow_the_course() -> None:
    s = ControllerManagerSettings()
    s.validate()
    assert (s.node_monitor_period, s.node_monitor_grace_period, s.pod_eviction_timeout) == (5.0, 40.0, 300.0)
    assert (s.cluster_cidr, s.node_cidr_mask_size, s.terminated_pod_gc_threshold) == ("10.244.0.0/16", 24, 12500)


async def test_metrics_instrument_and_exposition() -> None:
    m = ControllerMetrics()

    async def ok(key: str) -> None:
        return None

    async def bad(key: str) -> None:
        raise RuntimeError("x")

    async def gone(key: str) -> None:
        raise errors.NotFound("gone", code=404)

    await m.instrument("unit-ok", ok)("k")
    with pytest.raises(RuntimeError):
        await m.instrument("unit-bad", bad)("k")
    with pytest.raises(errors.NotFound):
        await m.instrument("unit-gone", gone)("k")
    WorkQueue("unit-ok").add("k")
    WorkQueue("someone-else").add("k")
    reg = CollectorRegistry()
    reg.register(m.exposition())
    text = generate_latest(reg).decode()
    assert 'controller_sync_duration_seconds_count{controller="unit-ok"} 1.0' in text
    assert 'controller_sync_errors_total{controller="unit-bad"} 1.0' in text
    assert 'controller_sync_errors_total{controller="unit-gone"} 0.0' in text
    assert 'workqueue_adds_total{name="unit-ok"}' in text
    assert "someone-else" not in text


def test_expectations() -> None:
    clock = FakeClock()
    e = Expectations(clock, ttl=10)
    assert e.satisfied("rs")
    e.expect_creations("rs", 2)
    e.creation_observed("rs")
    assert not e.satisfied("rs")
    e.creation_observed("rs")
    assert e.satisfied("rs")
    e.expect_deletions("rs", ["ns/a", "ns/b"])
    e.deletion_observed("rs", "ns/a")
    e.deletion_observed("rs", "ns/a")
    assert not e.satisfied("rs")
    e.lower_expectations("rs", deletes=["ns/b"])
    assert e.satisfied("rs")
    e.expect_creations("rs", 5)
    assert not e.satisfied("rs")
    clock._now += 11
    assert e.satisfied("rs"), "expired expectations do not block forever"


UNREACHABLE = core.Taint(key=taints.UNREACHABLE, effect="NoExecute")
DEDICATED = core.Taint(key="dedicated", value="gpu", effect="NoSchedule")


def test_with_taints() -> None:
    base = [DEDICATED]
    assert taints.with_taints(base, add=[DEDICATED]) is None
    assert taints.with_taints(base, remove=[(taints.UNREACHABLE, "NoExecute")]) is None
    assert taints.with_taints(base, add=[UNREACHABLE]) == [DEDICATED, UNREACHABLE]
    assert taints.with_taints([*base, UNREACHABLE], remove=[(taints.UNREACHABLE, "NoExecute")]) == [DEDICATED]


def test_hash_is_stable_and_changes_with_template_and_collisions() -> None:
    t1 = core.PodTemplateSpec(spec=core.PodSpec(containers=[core.Container(name="c", image="a")]))
    t2 = core.PodTemplateSpec(spec=core.PodSpec(containers=[core.Container(name="c", image="b")]))
    h = compute_hash(t1)
    assert h == compute_hash(t1) and h != compute_hash(t2) and h != compute_hash(t1, 1)
    assert compute_hash(core.PodTemplateSpec()) == "767f54bcf8"
    assert set(h) <= set("bcdfghjklmnpqrstvwxz2456789")


@pytest.mark.parametrize(
    ("value", "total", "up", "want"),
    [
        pytest.param(3, 10, True, 3, id="int"),
        pytest.param("25%", 10, True, 3, id="percent-up"),
        pytest.param("25%", 10, False, 2, id="percent-down"),
        pytest.param("0%", 10, True, 0, id="zero"),
        pytest.param(None, 10, True, 0, id="none"),
        pytest.param("7", 10, True, 7, id="int-string"),
    ],
)
def test_scaled_value(value: int | str | None, total: int, up: bool, want: int) -> None:
    assert scaled_value(value, total, round_up=up) == want


def test_scaled_value_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="invalid value for IntOrString"):
        scaled_value("lots", 10, round_up=True)


async def test_slow_start_batch_stops_after_a_failed_batch() -> None:
    calls = 0

    async def fn() -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise RuntimeError("quota")

    ok, err = await slow_start_batch(20, fn)
    # Batches 1, 2, 4: the fifth call (in the third batch) fails; the batch finishes, no more.
    assert (ok, calls, str(err)) == (6, 7, "quota")
    calls = 0
    assert await slow_start_batch(3, fn) == (3, None)
    assert calls == 3
