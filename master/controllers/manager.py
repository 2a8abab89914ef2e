"""The controller-manager: the enabled controllers, their shared informers, and leader election.

``ControllerManager.run()``:

- with leader election (the default), campaign for the Lease
  ``kube-system/kube-controller-manager``; while leading, run the controllers; when the lease
  is lost, stop them (their informers too) and campaign again. Two managers against one
  apiserver so have exactly one active; a killed leader's lease expires and the other takes
  over, a stopped one releases it at once;
- a term: build every enabled controller (each asks the shared factory for its informers),
  start the informers, wait for their caches, then run the controllers until the term ends.

A controller that crashes is logged and restarted after a pause; the others keep running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from master.client.events import EventRecorder
from master.client.informer import InformerSettings, SharedInformerFactory
from master.client.leaderelection import LeaderElectionSettings, LeaderElector
from master.client.rest import ApiClient
from master.controllers.context import ControllerContext, Runnable
from master.controllers.metrics import ControllerMetrics
from master.controllers.registry import CONTROLLERS, enabled_controllers
from master.controllers.settings import ControllerManagerSettings
from master.util.clock import Clock, RealClock
from master.util.tasks import cancel_and_wait

__all__ = ["COMPONENT", "LEASE_NAME", "ControllerManager", "LeaderElection", "default_identity"]

log = logging.getLogger(__name__)

COMPONENT = "kube-controller-manager"
LEASE_NAME = "kube-controller-manager"
LEASE_NAMESPACE = "kube-system"
# Pause before a crashed controller is started again.
RESTART_DELAY = 5.0


def default_identity() -> str:
    """``<hostname>_<uuid>``, as kube-controller-manager names itself in the Lease."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


@dataclass(frozen=True, slots=True)
class LeaderElection:
    enabled: bool = True
    settings: LeaderElectionSettings = field(default_factory=LeaderElectionSettings)
    name: str = LEASE_NAME
    namespace: str = LEASE_NAMESPACE


class ControllerManager:
    def __init__(
        self,
        api: ApiClient,
        settings: ControllerManagerSettings | None = None,
        *,
        leader_election: LeaderElection | None = None,
        identity: str = "",
        clock: Clock | None = None,
        metrics: ControllerMetrics | None = None,
        informer_settings: InformerSettings | None = None,
    ) -> None:
        self.api = api
        self.settings = settings or ControllerManagerSettings()
        self.settings.validate()
        self.names: Sequence[str] = enabled_controllers(self.settings.controllers)
        self.leader_election = leader_election or LeaderElection()
        self.identity = identity or default_identity()
        self.clock = clock or RealClock()
        self.metrics = metrics or ControllerMetrics()
        self.informer_settings = informer_settings or InformerSettings()
        self.elector: LeaderElector | None = None
        self.running: dict[str, Runnable] = {}
        self.terms = 0  # how many times this manager became active
        self._active = asyncio.Event()

    def is_active(self) -> bool:
        return self._active.is_set()

    async def wait_active(self) -> None:
        await self._active.wait()

    async def run(self) -> None:
        """Run until cancelled."""
        le = self.leader_election
        if not le.enabled:
            await self._term()
            return
        while True:
            self.elector = LeaderElector(
                self.api,
                name=le.name,
                namespace=le.namespace,
                identity=self.identity,
                on_started_leading=self._term,
                settings=le.settings,
                clock=self.clock,
            )
            await self.elector.run()
            log.warning("%s: lost the lease %s/%s; campaigning again", self.identity, le.namespace, le.name)

    async def _term(self) -> None:
        self.terms += 1
        factory = SharedInformerFactory(self.api, settings=self.informer_settings, clock=self.clock)
        recorder = EventRecorder(self.api, component=COMPONENT, host=self.identity.split("_")[0], clock=self.clock)
        ctx = ControllerContext(
            api=self.api, informers=factory, settings=self.settings, clock=self.clock,
            recorder=recorder, metrics=self.metrics,
        )
        tasks: list[asyncio.Task[None]] = []
        try:
            self.running = {name: CONTROLLERS[name].build(ctx) for name in self.names}
            factory.start()
            await factory.wait_for_cache_sync()
            log.info("controller-manager: caches synced; starting %s", ", ".join(self.running) or "nothing")
            self.metrics.leader.set(1)
            self._active.set()
            tasks = [
                asyncio.create_task(self._supervise(name, runnable), name=f"controller-{name}")
                for name, runnable in self.running.items()
            ]
            await asyncio.Event().wait()
        finally:
            self._active.clear()
            self.metrics.leader.set(0)
            await cancel_and_wait(tasks)
            await factory.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(recorder.aclose(), 5.0)
            self.running = {}

    async def _supervise(self, name: str, runnable: Runnable) -> None:
        while True:
            try:
                await runnable.run()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("controller %s crashed; restarting in %.0fs", name, RESTART_DELAY)
                await self.clock.sleep(RESTART_DELAY)
