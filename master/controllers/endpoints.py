"""The Endpoints controller: one core/v1 Endpoints per Service with a selector, from its pods.

``sync("ns/service")``: pods the selector picks that have an IP and are not being deleted give
an address per Service port they resolve (``servicepods.find_port``): ready pods under
``addresses``, the others under ``notReadyAddresses`` (all under ``addresses`` with
``publishNotReadyAddresses``). Addresses with the same ports share a subset; subsets,
addresses and ports are sorted, so equal content compares equal and nothing is written.

Services without a selector (the ``kubernetes`` Service, whose Endpoints the apiserver
keeps, and user-managed ones) and ExternalName Services are left alone. A deleted Service's
Endpoints are deleted.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from master.api import core, meta
from master.api import helpers as api_helpers
from master.client import errors
from master.client.cache import NAMESPACE_INDEX, split_key
from master.controllers import servicepods
from master.controllers.context import ControllerContext

__all__ = ["EndpointsController", "build_subsets", "new"]

NAME = "endpoint"


def new(ctx: ControllerContext) -> EndpointsController:
    return EndpointsController(ctx)


class EndpointsController:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        self.api = ctx.api
        self.services = ctx.informers.informer(core.Service)
        self.pods = ctx.pods()
        self.endpoints = ctx.informers.informer(core.Endpoints)
        self.loop = ctx.loop(NAME, self.sync, workers=ctx.settings.concurrent_endpoint_syncs)
        self.services.add_event_handler(
            on_add=self.loop.enqueue, on_update=lambda _o, n: self.loop.enqueue(n), on_delete=self.loop.enqueue
        )
        servicepods.enqueue_services_of_pods(self.pods, self.services, self.loop.enqueue)
        self.endpoints.add_event_handler(on_delete=self.loop.enqueue)

    async def run(self) -> None:
        await self.loop.run()

    async def sync(self, key: str) -> None:
        ns, name = split_key(key)
        svc = self.services.cache.get(key)
        if svc is None:
            if self.endpoints.cache.get(key) is not None:
                try:
                    await self.api.delete(core.Endpoints, name, namespace=ns)
                except errors.NotFound:
                    pass
            return
        if not svc.spec.selector or svc.spec.type == "ExternalName":
            return
        pods = [p for p in self.pods.cache.by_index(NAMESPACE_INDEX, ns) if servicepods.selects(svc, p)]
        subsets = build_subsets(svc, pods)
        lbls = dict(svc.metadata.labels)
        if servicepods.is_headless(svc):
            lbls[servicepods.HEADLESS_LABEL] = ""
        current = self.endpoints.cache.get(key)
        if current is None:
            ep = core.Endpoints(metadata=meta.ObjectMeta(name=name, namespace=ns, labels=lbls), subsets=subsets)
            await self.api.create(ep)
            return
        if canonical(current.subsets) == subsets and current.metadata.labels == lbls:
            return
        await self.api.update(msgspec.structs.replace(
            current, metadata=msgspec.structs.replace(current.metadata, labels=lbls), subsets=subsets
        ))


def build_subsets(svc: core.Service, pods: Iterable[core.Pod]) -> list[core.EndpointSubset]:
    tolerate_unready = svc.spec.publish_not_ready_addresses
    groups: dict[tuple[tuple[str, int, str], ...], tuple[list[core.EndpointAddress], list[core.EndpointAddress]]] = {}
    for pod in pods:
        if not servicepods.should_be_in_endpoints(pod, include_terminating=tolerate_unready):
            continue
        addr = core.EndpointAddress(
            ip=pod.status.pod_ip,
            hostname=servicepods.hostname_of(pod, svc),
            node_name=pod.spec.node_name or None,
            target_ref=servicepods.pod_ref(pod),
        )
        ports: list[tuple[str, int, str]] = []
        for sp in svc.spec.ports:
            number = servicepods.find_port(pod, sp)
            if number is not None:
                ports.append((sp.name, number, sp.protocol or "TCP"))
        if not ports and (svc.spec.ports or not servicepods.is_headless(svc)):
            continue
        ready, not_ready = groups.setdefault(tuple(sorted(ports)), ([], []))
        if tolerate_unready or api_helpers.is_pod_ready(pod):
            ready.append(addr)
        else:
            not_ready.append(addr)
    subsets = [
        core.EndpointSubset(
            addresses=sorted(ready, key=_addr_key),
            not_ready_addresses=sorted(not_ready, key=_addr_key),
            ports=[core.EndpointPort(name=n, port=p, protocol=proto) for n, p, proto in ports],
        )
        for ports, (ready, not_ready) in sorted(groups.items())
    ]
    return subsets


def _addr_key(a: core.EndpointAddress) -> tuple[str, str]:
    return (a.ip, a.target_ref.name if a.target_ref is not None else "")


def canonical(subsets: list[core.EndpointSubset]) -> list[core.EndpointSubset]:
    """Subsets in ``build_subsets``' order (what another writer stored may be in any order)."""
    out = [
        core.EndpointSubset(
            addresses=sorted(s.addresses, key=_addr_key),
            not_ready_addresses=sorted(s.not_ready_addresses, key=_addr_key),
            ports=sorted(s.ports, key=lambda p: (p.name, p.port, p.protocol)),
        )
        for s in subsets
    ]
    return sorted(out, key=lambda s: [(p.name, p.port, p.protocol) for p in s.ports])
