"""What every controller is built from: the API client, shared informers, settings, clock, events, metrics.

A controller module exposes ``new(ctx) -> Runnable``; it asks ``ctx.informers`` for the
informers it reads (shared with the other controllers of the process), and ``ctx.loop(...)``
for its work queue and workers (instrumented with the sync metrics). The manager starts the
informers after every controller was built, waits for their caches, then runs the controllers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from master.api import core, meta, registry
from master.api import helpers as api_helpers
from master.client.controller import Controller, SyncFunc
from master.client.events import EventRecorder
from master.client.informer import Informer, SharedInformerFactory
from master.client.rest import ApiClient
from master.controllers.metrics import ControllerMetrics
from master.controllers.settings import ControllerManagerSettings
from master.util.clock import Clock

__all__ = [
    "BY_CONTROLLER_UID",
    "BY_NODE",
    "ControllerContext",
    "Runnable",
    "ensure_index",
    "pods_by_controller",
    "pods_by_node",
]

T = TypeVar("T", bound=meta.Object)

# Shared cache indexes (added once per informer, whichever controller asks first).
BY_NODE = "picluster.io/node"
BY_CONTROLLER_UID = "picluster.io/controller-uid"


class Runnable(Protocol):
    name: str

    async def run(self) -> None:
        """Work until cancelled (caches are synced before this is called)."""
        ...


@dataclass
class ControllerContext:
    api: ApiClient
    informers: SharedInformerFactory
    settings: ControllerManagerSettings
    clock: Clock
    recorder: EventRecorder
    metrics: ControllerMetrics = field(default_factory=ControllerMetrics)
    resources: registry.Registry = field(default_factory=lambda: registry.DEFAULT)

    def loop(self, name: str, sync: SyncFunc, *, workers: int = 1) -> Controller:
        """The work queue and workers of controller ``name`` (metrics labelled with it)."""
        return Controller(name, self.metrics.instrument(name, sync), workers=workers, clock=self.clock)

    def pods(self) -> Informer[core.Pod]:
        """The shared pod informer, indexed by node and by controller uid."""
        inf = self.informers.informer(core.Pod)
        ensure_index(inf, BY_NODE, _pod_node)
        ensure_index(inf, BY_CONTROLLER_UID, _controller_uid)
        return inf

    def nodes(self) -> Informer[core.Node]:
        return self.informers.informer(core.Node)

    def indexed(self, cls: type[T]) -> Informer[T]:
        """The shared informer of ``cls``, indexed by controller uid."""
        inf = self.informers.informer(cls)
        ensure_index(inf, BY_CONTROLLER_UID, _controller_uid)
        return inf


def ensure_index(informer: Informer[T], name: str, fn: Callable[[T], Iterable[str]]) -> None:
    try:
        informer.add_indexers({name: fn})
    except ValueError:  # another controller of the process added it already
        pass


def _pod_node(pod: core.Pod) -> list[str]:
    return [pod.spec.node_name] if pod.spec.node_name else []


def _controller_uid(obj: meta.Object) -> list[str]:
    ref = api_helpers.controller_ref(obj)
    return [ref.uid] if ref is not None else []


def pods_by_node(informer: Informer[core.Pod], node: str) -> list[core.Pod]:
    return informer.cache.by_index(BY_NODE, node)


def pods_by_controller(informer: Informer[core.Pod], uid: str) -> list[core.Pod]:
    return informer.cache.by_index(BY_CONTROLLER_UID, uid)
