"""The controller-manager as a start/stop component of ``pictl master`` (in process with the
apiserver, or alone against a remote one with ``--components controller-manager --kubeconfig``).

``start()`` checks the settings and the ``--controllers`` list, registers the metrics on the
given registry (the apiserver's when in process, the metrics listener's when alone) and runs the
``ControllerManager`` in a task: with leader election only while holding
``kube-system/kube-controller-manager``. ``stop()`` cancels it (a leader releases its lease,
so a standby takes over at its next retry) and closes the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable

from prometheus_client import CollectorRegistry

from master.client.config import ClientConfig
from master.client.leaderelection import LeaderElectionSettings
from master.client.rest import ApiClient
from master.controllers.manager import LEASE_NAME, LEASE_NAMESPACE, ControllerManager, LeaderElection
from master.controllers.metrics import ControllerMetrics
from master.controllers.settings import ControllerManagerSettings
from master.util.clock import Clock

__all__ = ["ControllerManagerComponent"]

log = logging.getLogger(__name__)


class ControllerManagerComponent:
    name = "controller-manager"

    def __init__(
        self,
        client_config: ClientConfig,
        settings: ControllerManagerSettings | None = None,
        *,
        leader_elect: bool = True,
        leader_election: LeaderElectionSettings | None = None,
        identity: str = "",
        registry: CollectorRegistry | None = None,
        step: Callable[[str], None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.client_config = client_config
        self.settings = settings or ControllerManagerSettings()
        self.leader_election = LeaderElection(
            enabled=leader_elect, settings=leader_election or LeaderElectionSettings()
        )
        self.identity = identity
        self.registry = registry
        self.step = step or (lambda msg: log.info("%s", msg))
        self.clock = clock
        self.metrics = ControllerMetrics()
        self._collector = self.metrics.exposition()
        self.api: ApiClient | None = None
        self.manager: ControllerManager | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.api = ApiClient(dataclasses.replace(self.client_config, user_agent="picluster-controller-manager"))
        self.manager = ControllerManager(
            self.api, self.settings, leader_election=self.leader_election, identity=self.identity,
            clock=self.clock, metrics=self.metrics,
        )
        if self.registry is not None:
            self.registry.register(self._collector)
        self.step(f"controller-manager: controllers {', '.join(self.manager.names) or '(none)'}")
        if self.leader_election.enabled:
            self.step(f"controller-manager: leader election on {LEASE_NAMESPACE}/{LEASE_NAME} "
                      f"as {self.manager.identity}")
        self._task = asyncio.create_task(self.manager.run(), name="controller-manager")
        self._task.add_done_callback(_log_crash)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.registry is not None:
            with contextlib.suppress(KeyError):
                self.registry.unregister(self._collector)
        if self.api is not None:
            await self.api.close()
            self.api = None


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("controller-manager stopped: %s", task.exception(), exc_info=task.exception())
