"""ServiceProxy on the fake Netfilter: state in, minimal batches out, failures and metrics."""

from __future__ import annotations

import asyncio
import errno

import pytest
from prometheus_client import CollectorRegistry
from proxy_helpers import ep, svc

from agent.proxy import (
    ApplyError,
    EndpointSliceInfo,
    FakeNetfilter,
    ProxyConfig,
    ProxyMetrics,
    ServicePortInfo,
    ServiceProxy,
    SyncSettings,
)
from agent.proxy.nft import ops
from master.api.codec import convert
from master.api.core import Service
from master.api.discovery import EndpointSlice
from master.util.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def nf() -> FakeNetfilter:
    return FakeNetfilter()


@pytest.fixture
def proxy(nf, clock, registry) -> ServiceProxy:
    return ServiceProxy(
        ProxyConfig(node_name="pi-1"),
        nf,
        settings=SyncSettings(clock=clock, min_sync_period=0.5),
        metrics=ProxyMetrics(registry),
    )


def slice_of(name: str, *endpoints, service: str = "web", trigger: float | None = None) -> EndpointSliceInfo:
    return EndpointSliceInfo("default", name, service, tuple(endpoints), trigger)


def table(nf: FakeNetfilter):
    state = nf.dump("picluster")
    assert state is not None
    return state


async def test_first_sync_recreates_then_updates_touch_only_the_change(proxy, nf):
    proxy.update_service(svc())
    proxy.update_service(svc("other", "10.96.0.20"))
    first = await proxy.sync()
    assert first.mode == "recreate" and first.services_rebuilt == 2
    assert isinstance(nf.batches[0][1], ops.DeleteTable)  # stale state from an earlier run goes

    proxy.update_endpoint_slice(slice_of("web-1", ep("10.244.1.5")))
    second = await proxy.sync()
    assert second.mode == "update" and second.services_rebuilt == 1
    touched = {
        getattr(op, "name", getattr(op, "chain", getattr(op, "set_name", ""))) for op in nf.batches[-1]
    }
    assert all("default/web" in n or n in ("service-ips", "no-endpoint-services") for n in touched), touched

    third = await proxy.sync()
    assert third.ops == 0 and len(nf.batches) == 2  # nothing changed, no batch


async def test_same_input_twice_is_not_a_change(proxy, nf):
    proxy.update_service(svc())
    proxy.update_endpoint_slice(slice_of("web-1", ep("10.244.1.5")))
    await proxy.sync()
    proxy.update_service(svc())
    proxy.update_endpoint_slice(slice_of("web-1", ep("10.244.1.5")))
    assert (await proxy.sync()).services_rebuilt == 0


async def test_slices_merge_and_deletes(proxy, nf):
    proxy.update_service(svc())
    proxy.update_endpoint_slice(slice_of("web-1", ep("10.244.1.5")))
    proxy.update_endpoint_slice(slice_of("web-2", ep("10.244.2.5")))
    await proxy.sync()
    eps = [c for c in table(nf).chains if c.startswith("ep-")]
    assert len(eps) == 2
    proxy.delete_endpoint_slice("default", "web-1")
    proxy.delete_endpoint_slice("default", "nope")
    await proxy.sync()
    assert [c for c in table(nf).chains if c.startswith("ep-")] == [e for e in eps if "10.244.2.5" in e]
    proxy.delete_service("default", "web")
    await proxy.sync()
    state = table(nf)
    assert not [c for c in state.chains if c.startswith(("svc-", "ep-"))]
    assert all(not elems for elems in state.elements.values())


async def test_slice_moving_to_another_service(proxy, nf):
    proxy.update_service(svc())
    proxy.update_service(svc("api", "10.96.0.30"))
    proxy.update_endpoint_slice(slice_of("s-1", ep("10.244.1.5")))
    await proxy.sync()
    proxy.update_endpoint_slice(slice_of("s-1", ep("10.244.1.5"), service="api"))
    await proxy.sync()
    chains = table(nf).chains
    assert any(c.startswith("svc-") and "default/api/" in c for c in chains)
    assert not any(c.startswith("svc-") and "default/web/" in c for c in chains)


async def test_failed_batch_leads_to_a_recreate(proxy, nf):
    proxy.update_service(svc())
    await proxy.sync()
    proxy.update_endpoint_slice(slice_of("web-1", ep("10.244.1.5")))
    nf.fail_next = errno.ENOMEM
    with pytest.raises(ApplyError, match="Cannot allocate memory"):
        await proxy.sync()
    result = await proxy.sync()
    assert result.mode == "recreate"
    assert any(c.startswith("ep-") for c in table(nf).chains)


async def test_kernel_state_lost_behind_our_back_is_repaired_by_a_full_sync(proxy, nf):
    proxy.update_service(svc())
    proxy.update_endpoint_slice(slice_of("web-1", ep("10.244.1.5")))
    await proxy.sync()
    want = table(nf)
    svc_chain = next(c for c in want.chains if c.startswith("svc-"))
    nf.apply([ops.FlushChain("picluster", svc_chain)])
    assert (await proxy.sync(full=True)).mode == "resync"
    assert table(nf) == want


async def test_conflicting_cluster_ips_do_not_break_the_batch(proxy, nf):
    proxy.update_service(svc("a", "10.96.0.10"))
    proxy.update_service(svc("b", "10.96.0.10"))  # same clusterIP:port/proto
    proxy.update_endpoint_slice(slice_of("a-1", ep("10.244.1.5"), service="a"))
    proxy.update_endpoint_slice(slice_of("b-1", ep("10.244.1.6"), service="b"))
    await proxy.sync()
    entries = table(nf).elements["service-ips"]
    assert len(entries) == 1
    (verdict,) = entries.values()
    assert verdict is not None and "default/a/" in (verdict.chain or "")
    proxy.delete_service("default", "a")
    await proxy.sync()
    (verdict,) = table(nf).elements["service-ips"].values()
    assert verdict is not None and "default/b/" in (verdict.chain or "")


async def test_config_change_rebuilds(proxy, nf):
    proxy.update_service(svc())
    await proxy.sync()
    proxy.set_config(ProxyConfig(node_name="pi-1", pod_cidr="10.244.1.0/24"))
    result = await proxy.sync()
    assert result.services_rebuilt == 1
    texts = [str(r.exprs) for r in table(nf).chains["nat-postrouting"].rules]
    assert len(texts) == 2  # the pod egress masquerade appeared


async def test_metrics(proxy, nf, clock, registry):
    proxy.update_service(
        svc("web", "10.96.0.10", ServicePortInfo("http", "TCP", 80, "web", 30080), type="NodePort")
    )
    proxy.update_service(svc("empty", "10.96.0.11"))
    proxy.update_endpoint_slice(slice_of("web-1", ep("10.244.1.5"), trigger=clock.time() - 2.0))
    await clock.advance(0.5)
    await proxy.sync()

    def value(name: str, **labels: str) -> float:
        v = registry.get_sample_value(name, labels)
        assert v is not None, name
        return v

    assert value("kubeproxy_network_programming_duration_seconds_count") == 1
    assert value("kubeproxy_network_programming_duration_seconds_sum") == pytest.approx(2.5)
    assert value("kubeproxy_sync_proxy_rules_duration_seconds_count") == 1
    assert value("kubeproxy_sync_full_proxy_rules_duration_seconds_count") == 1
    assert value("picluster_proxy_services_programmed", endpoints="yes") == 1
    assert value("picluster_proxy_services_programmed", endpoints="no") == 1
    state = table(nf)
    assert value("picluster_proxy_nftables_objects", kind="chains") == len(state.chains)
    assert value("picluster_proxy_nftables_objects", kind="rules") == sum(
        len(c.rules) for c in state.chains.values()
    )
    assert value("kubeproxy_sync_proxy_rules_service_changes_total") == 2
    assert value("kubeproxy_sync_proxy_rules_endpoint_changes_total") == 1

    nf.fail_next = errno.EPERM
    proxy.update_endpoint_slice(slice_of("web-1", ep("10.244.1.6")))
    with pytest.raises(ApplyError):
        await proxy.sync()
    assert value("kubeproxy_sync_proxy_rules_nftables_sync_failures_total") == 1


async def test_api_object_handlers(proxy, nf):
    web = convert(
        {
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"clusterIP": "10.96.0.10", "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
        },
        Service,
    )
    es = convert(
        {
            "metadata": {
                "name": "web-x",
                "namespace": "default",
                "labels": {"kubernetes.io/service-name": "web"},
            },
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080}],
            "endpoints": [{"addresses": ["10.244.1.5"]}],
        },
        EndpointSlice,
    )
    proxy.on_service(web)
    proxy.on_endpoint_slice(es)
    await proxy.sync()
    assert len(table(nf).elements["service-ips"]) == 1
    proxy.on_endpoint_slice_deleted(es)
    await proxy.sync()
    assert len(table(nf).elements["no-endpoint-services"]) == 1
    headless = convert(
        {"metadata": {"name": "web", "namespace": "default"}, "spec": {"clusterIP": "None"}}, Service
    )
    proxy.on_service(headless)  # became headless: no rules any more
    await proxy.sync()
    assert not table(nf).elements["no-endpoint-services"]
    proxy.on_service_deleted(web)
    await proxy.sync()


async def test_run_syncs_on_changes(nf, clock, registry):
    proxy = ServiceProxy(
        ProxyConfig(node_name="pi-1"),
        nf,
        settings=SyncSettings(clock=clock, min_sync_period=1.0),
        metrics=ProxyMetrics(registry),
    )
    task = asyncio.create_task(proxy.run())
    try:
        for _ in range(200):
            await asyncio.sleep(0.005)
            if nf.batches:
                break
        assert len(nf.batches) == 1
        proxy.update_service(svc())
        await clock.advance(1.0)
        for _ in range(200):
            await asyncio.sleep(0.005)
            if len(nf.batches) == 2:
                break
        assert len(nf.batches) == 2
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_persistent_conflicts_do_not_loop(proxy, nf):
    for name in ("a", "b", "c"):
        proxy.update_service(svc(name, "10.96.0.10"))
    await proxy.sync()
    proxy.update_endpoint_slice(slice_of("a-1", ep("10.244.1.5"), service="a"))
    proxy.update_endpoint_slice(slice_of("b-1", ep("10.244.1.6"), service="b"))
    result = await asyncio.wait_for(proxy.sync(), 10)
    assert result.services_rebuilt <= 4
    (verdict,) = table(nf).elements["service-ips"].values()
    assert verdict is not None and "default/a/" in (verdict.chain or "")
    proxy.delete_service("default", "a")
    await proxy.sync()
    (verdict,) = table(nf).elements["service-ips"].values()
    assert verdict is not None and "default/b/" in (verdict.chain or "")
