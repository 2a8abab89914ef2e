"""The service proxy: Services and EndpointSlices in, our nftables table kept in step.

How the agent uses it::

    nf = KernelNetfilter()                      # netlink, in the agent's own namespace
    proxy = ServiceProxy(ProxyConfig(node_name="pi-1", pod_cidr=node.spec.pod_cidr), nf,
                         settings=SyncSettings(), metrics=ProxyMetrics(registry))
    # informer handlers (cheap; each marks one Service dirty and asks for a sync):
    proxy.on_service(svc); proxy.on_service_deleted(svc)
    proxy.on_endpoint_slice(es); proxy.on_endpoint_slice_deleted(es)
    proxy.set_config(replace(config, pod_cidr=...))   # e.g. once the Node has its podCIDR
    await proxy.run()                           # until cancelled

``run()`` syncs at once (recreating the table, which clears anything stale from an earlier
run), then whenever something changed, at most once per ``min_sync_period``, and fully
every ``full_sync_period``. ``await proxy.sync()`` does one sync by hand.

A sync rebuilds the fragments of the dirty Services only, diffs against what was applied
last (looking only at fragments that changed) and sends the difference as one batch. If
the kernel refuses a batch, the next sync recreates the whole table.

Two Services claiming the same ``clusterIP:port/protocol`` or node port (the apiserver
should prevent it) would make every batch fail; the Service that claimed it first keeps
it, the other loses that entry until the first lets go.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Literal

from prometheus_client import CollectorRegistry

from agent.proxy import rules
from agent.proxy.errors import NetfilterError
from agent.proxy.metrics import ProxyMetrics
from agent.proxy.model import (
    EndpointSliceInfo,
    ProxyConfig,
    ServiceInfo,
    endpoint_slice_info,
    service_info,
)
from agent.proxy.nft import ops as plans
from agent.proxy.nft.netfilter import Netfilter
from agent.proxy.nft.ruleset import Fragment, Ruleset
from agent.proxy.runner import SyncRunner, SyncSettings
from master.api.core import Service
from master.api.discovery import EndpointSlice

__all__ = ["ServiceProxy", "SyncResult"]

log = logging.getLogger("picluster.agent.proxy")

SyncMode = Literal["recreate", "resync", "update"]

_IP_MAPS = (rules.SERVICE_IPS, rules.NO_ENDPOINT_SERVICES)
_PORT_MAPS = (rules.SERVICE_NODEPORTS, rules.NO_ENDPOINT_NODEPORTS)


@dataclass(frozen=True, slots=True)
class SyncResult:
    mode: SyncMode
    ops: int
    services_rebuilt: int
    seconds: float


@dataclass(frozen=True, slots=True)
class _Stats:
    chains: int = 0
    rules: int = 0
    sets: int = 0
    elements: int = 0
    with_endpoints: int = 0
    without_endpoints: int = 0

    def plus(self, other: _Stats, sign: int = 1) -> _Stats:
        return _Stats(*(getattr(self, f) + sign * getattr(other, f) for f in _Stats.__slots__))


def _stats(fragment: Fragment) -> _Stats:
    return _Stats(
        chains=len(fragment.chains),
        rules=sum(len(c.rules) for c in fragment.chains),
        sets=len(fragment.sets),
        elements=len(fragment.elements),
        with_endpoints=sum(1 for e in fragment.elements if e.set_name == rules.SERVICE_IPS),
        without_endpoints=sum(1 for e in fragment.elements if e.set_name == rules.NO_ENDPOINT_SERVICES),
    )


class ServiceProxy:
    def __init__(
        self,
        config: ProxyConfig,
        netfilter: Netfilter,
        *,
        settings: SyncSettings | None = None,
        metrics: ProxyMetrics | None = None,
    ) -> None:
        self._config = config
        self._nf = netfilter
        self._settings = settings or SyncSettings()
        self._clock = self._settings.clock
        self.metrics = metrics or ProxyMetrics(CollectorRegistry())
        self._runner = SyncRunner(lambda full: self.sync(full=full), self._settings)

        self._services: dict[str, ServiceInfo] = {}
        self._slices: dict[str, dict[str, EndpointSliceInfo]] = {}  # service key -> slice key -> slice
        self._slice_service: dict[str, str] = {}  # slice key -> service key
        self._base = rules.base_fragment(config)
        self._fragments: dict[str, Fragment] = {}
        self._stats: dict[str, _Stats] = {}
        self._totals = _Stats()
        self._set_stats(rules.BASE, _stats(self._base))
        self._claims: dict[tuple[str, bytes], str] = {}  # ("ip"|"port", key) -> service key
        self._lost: dict[str, set[tuple[str, bytes]]] = {}  # service key -> claims it did not get
        self._dirty: set[str] = set()
        self._triggers: dict[str, float] = {}  # service key -> earliest unprogrammed change
        self._applied: Ruleset | None = None
        self._sync_lock = asyncio.Lock()

    # -- input --------------------------------------------------------------------------

    @property
    def config(self) -> ProxyConfig:
        return self._config

    def _changed(self, key: str) -> None:
        self._dirty.add(key)
        self._runner.request()

    def update_service(self, info: ServiceInfo) -> None:
        if self._services.get(info.key) == info:
            return
        self._services[info.key] = info
        self.metrics.service_changes.inc()
        self._changed(info.key)

    def delete_service(self, namespace: str, name: str) -> None:
        key = f"{namespace}/{name}"
        if self._services.pop(key, None) is not None:
            self.metrics.service_changes.inc()
            self._changed(key)

    def update_endpoint_slice(self, info: EndpointSliceInfo) -> None:
        slice_key = f"{info.namespace}/{info.name}"
        service_key = info.service_key
        previous_service = self._slice_service.get(slice_key)
        if previous_service is not None and previous_service != service_key:
            self.delete_endpoint_slice(info.namespace, info.name)
        slices = self._slices.setdefault(service_key, {})
        if slices.get(slice_key) == info:
            return
        slices[slice_key] = info
        self._slice_service[slice_key] = service_key
        self._note_trigger(service_key, info.trigger_time)
        self.metrics.endpoint_changes.inc()
        self._changed(service_key)

    def delete_endpoint_slice(self, namespace: str, name: str) -> None:
        slice_key = f"{namespace}/{name}"
        service_key = self._slice_service.pop(slice_key, None)
        if service_key is None:
            return
        slices = self._slices.get(service_key, {})
        slices.pop(slice_key, None)
        if not slices:
            self._slices.pop(service_key, None)
        self._note_trigger(service_key, None)
        self.metrics.endpoint_changes.inc()
        self._changed(service_key)

    def _note_trigger(self, service_key: str, trigger: float | None) -> None:
        when = self._clock.time() if trigger is None else trigger
        self._triggers[service_key] = min(when, self._triggers.get(service_key, when))

    def set_config(self, config: ProxyConfig) -> None:
        """Change the node's settings (e.g. its podCIDR became known); rebuilds everything."""
        if config == self._config:
            return
        table_changed = config.table != self._config.table
        self._config = config
        self._base = rules.base_fragment(config)
        self._set_stats(rules.BASE, _stats(self._base))
        self._dirty.update(self._services)
        self._dirty.update(self._fragments)
        if table_changed:
            self._applied = None
        self._runner.request()

    # master.api objects, for informer handlers.

    def on_service(self, svc: Service) -> None:
        info = service_info(svc)
        if info is None:
            self.delete_service(svc.metadata.namespace or "default", svc.metadata.name)
        else:
            self.update_service(info)

    def on_service_deleted(self, svc: Service) -> None:
        self.delete_service(svc.metadata.namespace or "default", svc.metadata.name)

    def on_endpoint_slice(self, es: EndpointSlice) -> None:
        info = endpoint_slice_info(es)
        if info is None:
            self.delete_endpoint_slice(es.metadata.namespace or "default", es.metadata.name)
        else:
            self.update_endpoint_slice(info)

    def on_endpoint_slice_deleted(self, es: EndpointSlice) -> None:
        self.delete_endpoint_slice(es.metadata.namespace or "default", es.metadata.name)

    # -- building -----------------------------------------------------------------------

    def _set_stats(self, key: str, stats: _Stats | None) -> None:
        old = self._stats.pop(key, None)
        if old is not None:
            self._totals = self._totals.plus(old, -1)
        if stats is not None:
            self._stats[key] = stats
            self._totals = self._totals.plus(stats)

    def _release(self, key: str) -> None:
        old = self._fragments.get(key)
        if old is not None:
            for e in old.elements:
                claim = ("ip" if e.set_name in _IP_MAPS else "port", e.key)
                if self._claims.get(claim) == key:
                    del self._claims[claim]

    def _claim(self, key: str, fragment: Fragment, lost_before: set[tuple[str, bytes]]) -> Fragment:
        kept = []
        lost: set[tuple[str, bytes]] = set()
        for e in fragment.elements:
            claim = ("ip" if e.set_name in _IP_MAPS else "port", e.key)
            owner = self._claims.setdefault(claim, key)
            if owner == key:
                kept.append(e)
                continue
            lost.add(claim)
            if claim not in lost_before:
                log.warning("service %s: %s is already programmed for %s; skipped", key, e.text, owner)
        if lost:
            self._lost[key] = lost
        if len(kept) == len(fragment.elements):
            return fragment
        return Fragment(chains=fragment.chains, sets=fragment.sets, elements=tuple(kept))

    def _rebuild(self, key: str) -> None:
        self._release(key)
        lost_before = self._lost.pop(key, set())
        svc = self._services.get(key)
        if svc is None:
            self._fragments.pop(key, None)
            self._set_stats(key, None)
            return
        endpoints = rules.merge_endpoints(s.endpoints for s in self._slices.get(key, {}).values())
        fragment = self._claim(key, rules.service_fragment(svc, endpoints, self._config), lost_before)
        self._fragments[key] = fragment
        self._set_stats(key, _stats(fragment))

    def _build(self) -> tuple[Ruleset, int]:
        rebuilt = 0
        dirty, self._dirty = self._dirty, set()
        retried: set[str] = set()
        while dirty:
            for key in sorted(dirty):
                self._rebuild(key)
            rebuilt += len(dirty)
            # A Service that lost a claim gets it once the owner let go; once per build, so a
            # conflict that persists cannot keep us here.
            dirty = {
                k
                for k, claims in self._lost.items()
                if k not in retried and any(c not in self._claims for c in claims)
            }
            retried |= dirty
        fragments: dict[str, Fragment] = {rules.BASE: self._base}
        fragments.update(self._fragments)
        return Ruleset(self._config.table, fragments), rebuilt

    # -- syncing ------------------------------------------------------------------------

    async def sync(self, *, full: bool = False) -> SyncResult:
        """Program the kernel now; ``full`` rewrites every chain and map in place."""
        async with self._sync_lock:
            start = self._clock.monotonic()
            triggers, self._triggers = self._triggers, {}
            ruleset, rebuilt = self._build()
            applied = self._applied
            mode: SyncMode
            if applied is None:
                mode, ops = "recreate", plans.recreate(ruleset)
            elif full:
                mode, ops = "resync", plans.resync(applied, ruleset)
            else:
                try:
                    mode, ops = "update", plans.update(applied, ruleset)
                except plans.RecreateNeeded as exc:
                    log.info("proxy: recreating the table: %s", exc)
                    mode, ops = "recreate", plans.recreate(ruleset)
            try:
                if ops:
                    await asyncio.to_thread(self._nf.apply, ops)
            except NetfilterError:
                self.metrics.sync_failures.inc()
                self._applied = None  # recreate next time
                for key, when in triggers.items():
                    self._triggers[key] = min(when, self._triggers.get(key, when))
                raise
            self._applied = ruleset
            self._observe(mode, start, triggers)
            return SyncResult(mode, len(ops), rebuilt, self._clock.monotonic() - start)

    def _observe(self, mode: SyncMode, start: float, triggers: dict[str, float]) -> None:
        m = self.metrics
        now = self._clock.time()
        for when in triggers.values():
            m.network_programming.observe(max(0.0, now - when))
        seconds = self._clock.monotonic() - start
        m.sync_duration.observe(seconds)
        (m.partial_sync_duration if mode == "update" else m.full_sync_duration).observe(seconds)
        m.last_sync.set(now)
        totals = self._totals
        for kind in ("chains", "rules", "sets", "elements"):
            m.objects.labels(kind=kind).set(getattr(totals, kind))
        m.services.labels(endpoints="yes").set(totals.with_endpoints)
        m.services.labels(endpoints="no").set(totals.without_endpoints)

    async def run(self) -> None:
        """Sync at once, then on every change (bounded) and periodically in full; until cancelled."""
        await self._runner.run()

    def request_sync(self) -> None:
        self._runner.request()
