"""The EndpointSlice controller: discovery.k8s.io/v1 EndpointSlices per Service with a selector.

``sync("ns/service")``: every selected pod with an IP that is not finished is an endpoint,
terminating ones included, with conditions::

    ready       = Ready and not terminating (always true with publishNotReadyAddresses)
    serving     = Ready (also while terminating)
    terminating = being deleted

Pods resolve named ports to their own numbers, so endpoints are grouped by their port list;
each group fills slices of at most ``--max-endpoints-per-slice``. Slices are labelled
``kubernetes.io/service-name`` and ``endpointslice.kubernetes.io/managed-by:
endpointslice-controller.k8s.io``, owned by the Service, named ``<service>-<random>``.
Existing slices of a group are rewritten in place, missing ones created, extra ones deleted;
slices of other managers (the apiserver's ``kubernetes`` slice) are never touched.

The informer may not show our own last writes yet; syncing from such a stale cache would
create duplicate slices, so the controller remembers what it wrote per Service and waits
(re-queues) until the cache has caught up (upstream's endpointSliceTracker).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

import msgspec

from master.api import core, discovery, meta
from master.api import helpers as api_helpers
from master.client import errors
from master.client.cache import NAMESPACE_INDEX, split_key
from master.controllers import servicepods
from master.controllers.context import ControllerContext, ensure_index

__all__ = ["MANAGED_BY", "SERVICE_NAME_LABEL", "EndpointSliceController", "desired_endpoints", "new"]

NAME = "endpointslice"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
ZONE_LABEL = "topology.kubernetes.io/zone"
_BY_SERVICE = "picluster.io/endpointslice-service"
# How long to wait for the cache to show our own writes before syncing anyway.
_STALE_TTL = 30.0
_STALE_RECHECK = 0.1

PortKey = tuple[tuple[str, str, int, str], ...]


def new(ctx: ControllerContext) -> EndpointSliceController:
    return EndpointSliceController(ctx)


def _service_of(s: discovery.EndpointSlice) -> list[str]:
    lbls = s.metadata.labels
    if lbls.get(MANAGED_BY_LABEL) != MANAGED_BY or SERVICE_NAME_LABEL not in lbls:
        return []
    return [f"{s.metadata.namespace}/{lbls[SERVICE_NAME_LABEL]}"]


class EndpointSliceController:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        self.api = ctx.api
        self.clock = ctx.clock
        self.max_per_slice = ctx.settings.max_endpoints_per_slice
        self.services = ctx.informers.informer(core.Service)
        self.pods = ctx.pods()
        self.nodes = ctx.nodes()
        self.slices = ctx.informers.informer(discovery.EndpointSlice)
        ensure_index(self.slices, _BY_SERVICE, _service_of)
        # service key -> {slice name: the resourceVersion we wrote, None for deleted}, and since when
        self._written: dict[str, dict[str, str | None]] = {}
        self._written_at: dict[str, float] = {}
        self.loop = ctx.loop(NAME, self.sync, workers=ctx.settings.concurrent_service_endpoint_syncs)
        self.services.add_event_handler(
            on_add=self.loop.enqueue, on_update=lambda _o, n: self.loop.enqueue(n), on_delete=self.loop.enqueue
        )
        servicepods.enqueue_services_of_pods(self.pods, self.services, self.loop.enqueue)
        self.slices.add_event_handler(on_add=self._slice, on_update=lambda _o, n: self._slice(n), on_delete=self._slice)

    async def run(self) -> None:
        await self.loop.run()

    def _slice(self, s: discovery.EndpointSlice) -> None:
        for key in _service_of(s):
            self.loop.enqueue_key(key)

    def _ours(self, key: str) -> list[discovery.EndpointSlice]:
        return self.slices.cache.by_index(_BY_SERVICE, key)

    def _cache_is_stale(self, key: str) -> bool:
        written = self._written.get(key)
        if not written:
            return False
        if self.clock.monotonic() - self._written_at.get(key, 0.0) > _STALE_TTL:
            self._written.pop(key, None)
            return False
        ns, _ = split_key(key)
        for name, rv in list(written.items()):
            cached = self.slices.cache.get(f"{ns}/{name}")
            if rv is None:
                caught_up = cached is None
            else:
                caught_up = cached is not None and _rv(cached.metadata.resource_version) >= _rv(rv)
            if caught_up:
                del written[name]
        return bool(written)

    async def sync(self, key: str) -> float | None:
        if self._cache_is_stale(key):
            return _STALE_RECHECK
        ns, _ = split_key(key)
        svc = self.services.cache.get(key)
        existing = self._ours(key)
        if svc is None or not svc.spec.selector or svc.spec.type == "ExternalName":
            # Deleted (the garbage collector would get there too) or no longer ours to manage.
            await self._delete(key, existing)
            return None
        pods = [p for p in self.pods.cache.by_index(NAMESPACE_INDEX, ns) if servicepods.selects(svc, p)]
        groups = desired_endpoints(svc, pods, self._zone)
        await self._reconcile(key, svc, groups, existing)
        return None

    def _zone(self, node_name: str) -> str | None:
        node = self.nodes.cache.get(node_name) if node_name else None
        return node.metadata.labels.get(ZONE_LABEL) if node is not None else None

    async def _reconcile(
        self,
        key: str,
        svc: core.Service,
        groups: dict[PortKey, list[discovery.Endpoint]],
        existing: list[discovery.EndpointSlice],
    ) -> None:
        by_ports: dict[PortKey, list[discovery.EndpointSlice]] = {}
        for s in sorted(existing, key=lambda s: s.metadata.name):
            by_ports.setdefault(_port_key(s.ports), []).append(s)
        lbls = {**svc.metadata.labels, SERVICE_NAME_LABEL: svc.metadata.name, MANAGED_BY_LABEL: MANAGED_BY}
        if servicepods.is_headless(svc):
            lbls[servicepods.HEADLESS_LABEL] = ""
        writes = []
        leftovers: list[discovery.EndpointSlice] = []
        if not groups:
            # A Service with no endpoints still gets one (empty) slice, as upstream's does.
            groups = {(): []}
        for ports, endpoints in groups.items():
            chunks = [endpoints[i:i + self.max_per_slice] for i in range(0, len(endpoints), self.max_per_slice)] or [[]]
            current = by_ports.pop(ports, [])
            for i, chunk in enumerate(chunks):
                if i < len(current):
                    writes.append(self._update(current[i], chunk, ports, lbls))
                else:
                    writes.append(self._create(svc, chunk, ports, lbls))
            leftovers.extend(current[len(chunks):])
        for rest in by_ports.values():
            leftovers.extend(rest)
        results = await asyncio.gather(*writes, return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                raise r
        await self._delete(key, leftovers)

    def _remember(self, key: str, name: str, rv: str | None) -> None:
        self._written.setdefault(key, {})[name] = rv
        self._written_at[key] = self.clock.monotonic()

    async def _create(
        self, svc: core.Service, endpoints: list[discovery.Endpoint], ports: PortKey, lbls: dict[str, str]
    ) -> None:
        owner = api_helpers.new_controller_ref(svc)
        s = discovery.EndpointSlice(
            metadata=meta.ObjectMeta(
                generate_name=f"{svc.metadata.name}-", namespace=svc.metadata.namespace, labels=lbls,
                owner_references=[owner],
            ),
            address_type="IPv4",
            endpoints=endpoints,
            ports=_ports(ports),
        )
        created = await self.api.create(s)
        self._remember(f"{svc.metadata.namespace}/{svc.metadata.name}", created.metadata.name,
                       created.metadata.resource_version)

    async def _update(
        self, current: discovery.EndpointSlice, endpoints: list[discovery.Endpoint], ports: PortKey,
        lbls: dict[str, str],
    ) -> None:
        want_ports = _ports(ports)
        if current.endpoints == endpoints and current.ports == want_ports and current.metadata.labels == lbls:
            return
        updated = await self.api.update(msgspec.structs.replace(
            current, metadata=msgspec.structs.replace(current.metadata, labels=lbls),
            endpoints=endpoints, ports=want_ports,
        ))
        key = f"{current.metadata.namespace}/{lbls[SERVICE_NAME_LABEL]}"
        self._remember(key, updated.metadata.name, updated.metadata.resource_version)

    async def _delete(self, key: str, slices: Iterable[discovery.EndpointSlice]) -> None:
        for s in slices:
            try:
                await self.api.delete(
                    discovery.EndpointSlice, s.metadata.name, namespace=s.metadata.namespace,
                    preconditions=meta.Preconditions(uid=s.metadata.uid),
                )
            except (errors.NotFound, errors.Conflict):
                pass
            self._remember(key, s.metadata.name, None)


def _rv(rv: str) -> int:
    try:
        return int(rv)
    except ValueError:
        return 0


def _port_key(ports: Iterable[discovery.EndpointPort]) -> PortKey:
    return tuple(sorted((p.name or "", p.protocol or "TCP", p.port or 0, p.app_protocol or "") for p in ports))


def _ports(key: PortKey) -> list[discovery.EndpointPort]:
    return [
        discovery.EndpointPort(name=name, protocol=protocol, port=port, app_protocol=app or None)
        for name, protocol, port, app in key
    ]


def desired_endpoints(
    svc: core.Service, pods: Iterable[core.Pod], zone_of: Callable[[str], str | None] | None = None
) -> dict[PortKey, list[discovery.Endpoint]]:
    """Endpoints by port list, each list sorted by address."""
    publish = svc.spec.publish_not_ready_addresses
    groups: dict[PortKey, list[discovery.Endpoint]] = {}
    for pod in pods:
        if not servicepods.should_be_in_endpoints(pod, include_terminating=True):
            continue
        ports: list[tuple[str, str, int, str]] = []
        for sp in svc.spec.ports:
            number = servicepods.find_port(pod, sp)
            if number is not None:
                ports.append((sp.name, sp.protocol or "TCP", number, sp.app_protocol or ""))
        if svc.spec.ports and not ports:
            continue
        ready = api_helpers.is_pod_ready(pod)
        terminating = bool(pod.metadata.deletion_timestamp)
        zone = zone_of(pod.spec.node_name) if zone_of is not None else None
        ep = discovery.Endpoint(
            addresses=[pod.status.pod_ip],
            conditions=discovery.EndpointConditions(
                ready=publish or (ready and not terminating),
                serving=publish or ready,
                terminating=terminating,
            ),
            hostname=servicepods.hostname_of(pod, svc) or None,
            target_ref=servicepods.pod_ref(pod),
            node_name=pod.spec.node_name or None,
            zone=zone,
        )
        groups.setdefault(tuple(sorted(ports)), []).append(ep)
    for eps in groups.values():
        eps.sort(key=lambda e: (e.addresses[0], e.target_ref.name if e.target_ref else ""))
    return groups
