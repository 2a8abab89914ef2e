"""Endpoints and EndpointSlice controllers: subsets, slices, named ports, readiness, staleness."""

from __future__ import annotations

from typing import Any

import pytest

from master.api import core, discovery, meta, timefmt
from master.controllers import servicepods
from master.controllers.endpoints import EndpointsController, build_subsets
from master.controllers.endpointslice import (
    MANAGED_BY,
    SERVICE_NAME_LABEL,
    EndpointSliceController,
    desired_endpoints,
)
from tests.unit.master.controllers.harness import START, harness, node, pod

WEB = {"app": "web"}


def svc(*ports: core.ServicePort, selector: dict[str, str] | None = None, **spec: Any) -> core.Service:
    return core.Service(
        metadata=meta.ObjectMeta(name="web", namespace="default", uid="uid-service-web", labels={"team": "a"}),
        spec=core.ServiceSpec(selector=WEB if selector is None else selector,
                              ports=list(ports) or [core.ServicePort(name="http", port=80, target_port=8080)], **spec),
    )


def web_pod(name: str, ip: str, *, ready: bool = True, port_name: str = "", number: int = 0,
            terminating: bool = False, phase: str = "Running", **kw: Any) -> core.Pod:
    container = {"ports": [core.ContainerPort(name=port_name, container_port=number)]} if port_name else {}
    p = pod(name, labels=WEB, node="n1", phase=phase, ready=ready, ip=ip, container=container, **kw)
    if terminating:
        p.metadata.deletion_timestamp = timefmt.format_time(START)
    return p


@pytest.mark.parametrize(
    ("pods", "service", "want"),
    [
        pytest.param([web_pod("a", "10.0.0.2"), web_pod("b", "10.0.0.1", ready=False)], svc(),
                     [(["10.0.0.2"], ["10.0.0.1"], [("http", 8080)])], id="ready-and-not"),
        pytest.param([web_pod("a", "10.0.0.2", ready=False)], svc(publish_not_ready_addresses=True),
                     [(["10.0.0.2"], [], [("http", 8080)])], id="publish-not-ready"),
        pytest.param([web_pod("a", "10.0.0.2", terminating=True), web_pod("b", "")], svc(), [],
                     id="terminating-and-no-ip-skipped"),
        pytest.param([web_pod("a", "10.0.0.1", port_name="web", number=9000),
                      web_pod("b", "10.0.0.2", port_name="web", number=9001), web_pod("c", "10.0.0.3")],
                     svc(core.ServicePort(name="http", port=80, target_port="web")),
                     [(["10.0.0.1"], [], [("http", 9000)]), (["10.0.0.2"], [], [("http", 9001)])],
                     id="named-ports-per-pod"),
        pytest.param([web_pod("a", "10.0.0.1", restart_policy="Never", phase="Succeeded")], svc(), [],
                     id="finished-never-restart"),
    ],
)
def test_build_subsets(pods: list[core.Pod], service: core.Service,
                       want: list[tuple[list[str], list[str], list[tuple[str, int]]]]) -> None:
    got = build_subsets(service, pods)
    assert [([a.ip for a in s.addresses], [a.ip for a in s.not_ready_addresses], [(p.name, p.port) for p in s.ports])
            for s in got] == want


def test_find_port_and_hostname() -> None:
    p = web_pod("a", "10.0.0.1", port_name="dns", number=53)
    assert servicepods.find_port(p, core.ServicePort(port=53, target_port="dns", protocol="UDP")) is None
    assert servicepods.find_port(p, core.ServicePort(port=53, target_port="dns")) == 53
    assert servicepods.find_port(p, core.ServicePort(port=80, target_port=0)) == 80
    p.spec.hostname, p.spec.subdomain = "h0", "web"
    assert servicepods.hostname_of(p, svc()) == "h0"


def test_desired_slice_endpoints_conditions() -> None:
    pods = [web_pod("a", "10.0.0.2"), web_pod("b", "10.0.0.1", ready=False),
            web_pod("c", "10.0.0.3", terminating=True)]
    groups = desired_endpoints(svc(), pods, lambda n: "zone-a" if n == "n1" else None)
    (eps,) = groups.values()
    got = {e.addresses[0]: (e.conditions.ready, e.conditions.serving, e.conditions.terminating, e.zone) for e in eps}
    assert got == {"10.0.0.1": (False, False, False, "zone-a"), "10.0.0.2": (True, True, False, "zone-a"),
                   "10.0.0.3": (False, True, True, "zone-a")}
    assert [e.addresses[0] for e in eps] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]


async def test_endpoints_sync_create_update_noop_delete() -> None:
    h = harness()
    ctl = EndpointsController(h.ctx)
    h.load(svc(), web_pod("a", "10.0.0.1"))
    await ctl.sync("default/web")
    ep = h.api.get_now(core.Endpoints, "web", "default")
    assert ep is not None and ep.subsets[0].addresses[0].target_ref is not None
    assert ep.metadata.labels == {"team": "a"}
    h.sync_caches()
    await ctl.sync("default/web")
    assert h.api.verbs("Endpoints") == ["create"], "nothing changed, nothing written"
    h.load(web_pod("b", "10.0.0.2"))
    await ctl.sync("default/web")
    assert h.api.verbs("Endpoints") == ["create", "update"]
    h.sync_caches()
    await h.api.delete(core.Service, "web", namespace="default")
    h.sync_caches()
    await ctl.sync("default/web")
    assert h.api.get_now(core.Endpoints, "web", "default") is None


async def test_services_without_selector_are_left_alone() -> None:
    h = harness()
    ctl = EndpointsController(h.ctx)
    sctl = EndpointSliceController(h.ctx)
    h.load(svc(selector={}), core.Endpoints(metadata=meta.ObjectMeta(name="web", namespace="default"),
                                            subsets=[core.EndpointSubset(addresses=[core.EndpointAddress(ip="1.2.3.4")])]))
    await ctl.sync("default/web")
    await sctl.sync("default/web")
    assert h.api.writes() == []


async def test_slices_chunked_and_reconciled() -> None:
    h = harness(max_endpoints_per_slice=2)
    ctl = EndpointSliceController(h.ctx)
    h.load(svc(), node("n1", labels={"topology.kubernetes.io/zone": "z"}),
           *(web_pod(f"p{i}", f"10.0.0.{i + 1}") for i in range(5)))
    await ctl.sync("default/web")
    slices = h.api.all(discovery.EndpointSlice)
    assert sorted(len(s.endpoints) for s in slices) == [1, 2, 2]
    s = slices[0]
    assert s.metadata.labels[SERVICE_NAME_LABEL] == "web" and s.metadata.labels["endpointslice.kubernetes.io/managed-by"] == MANAGED_BY
    assert s.metadata.owner_references[0].uid == "uid-service-web"
    # Until the cache shows our writes, a sync waits instead of creating duplicates.
    assert await ctl.sync("default/web") == 0.1
    h.sync_caches()
    assert await ctl.sync("default/web") is None
    assert len(h.api.all(discovery.EndpointSlice)) == 3
    # Pods go away: surplus slices are deleted, the rest rewritten.
    for i in range(3):
        await h.api.delete(core.Pod, f"p{i}", namespace="default")
    h.sync_caches()
    await ctl.sync("default/web")
    h.sync_caches()
    remaining = h.api.all(discovery.EndpointSlice)
    assert sum(len(s.endpoints) for s in remaining) == 2 and len(remaining) == 1


async def test_service_without_endpoints_gets_one_empty_slice_and_deleted_service_none() -> None:
    h = harness()
    ctl = EndpointSliceController(h.ctx)
    h.load(svc())
    await ctl.sync("default/web")
    (s,) = h.api.all(discovery.EndpointSlice)
    assert s.endpoints == [] and s.ports == []
    h.sync_caches()
    await h.api.delete(core.Service, "web", namespace="default")
    h.sync_caches()
    await ctl.sync("default/web")
    assert h.api.all(discovery.EndpointSlice) == []
