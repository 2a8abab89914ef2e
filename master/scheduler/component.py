"""The scheduler as a start/stop component of ``pictl master`` (in process with the apiserver,
or alone against a remote one).

With leader election (the default) every copy keeps its informers warm and campaigns for the
Lease ``kube-system/kube-scheduler``; only the leader schedules. A leader that cannot renew
stops scheduling and campaigns again (kube-scheduler exits instead; in a process shared with
the apiserver that would take the apiserver down too). A clean stop releases the lease, so a
standby takes over at its next retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry

from master.client.config import ClientConfig
from master.client.informer import SharedInformerFactory
from master.client.leaderelection import LeaderElectionSettings, LeaderElector
from master.client.rest import ApiClient
from master.scheduler import config as schedconfig
from master.scheduler.config import SchedulerConfig
from master.scheduler.framework.runtime import Framework
from master.scheduler.framework.types import NodeInfo
from master.scheduler.metrics import SchedulerMetrics
from master.scheduler.plugins import IN_TREE
from master.scheduler.scheduler import Scheduler
from master.util.clock import Clock, RealClock

__all__ = ["SchedulerComponent", "SchedulerOptions"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SchedulerOptions:
    config_file: Path | None = None
    leader_elect: bool = True
    leader_election: LeaderElectionSettings = field(default_factory=LeaderElectionSettings)
    lease_name: str = "kube-scheduler"
    lease_namespace: str = "kube-system"
    # Empty: "<hostname>_<random uuid>", as kube-scheduler.
    identity: str = ""

    def load_config(self) -> SchedulerConfig:
        """The configuration file's contents (defaults without one), every profile's plugins
        built once to check them; ``ConfigError`` (one line) if anything is wrong."""
        config = schedconfig.load(self.config_file) if self.config_file is not None else SchedulerConfig()
        for profile in config.profiles:
            Framework(profile, IN_TREE, _NoCluster())
        return config


class _NoCluster:
    """A Handle for building plugins outside a running scheduler (nothing is scheduled with it)."""

    api = None

    def node_infos(self) -> list[NodeInfo]:
        return []

    def node_info(self, name: str) -> NodeInfo | None:
        return None

    def image_node_count(self, image: str) -> int:
        return 0


class SchedulerComponent:
    name = "scheduler"

    def __init__(
        self,
        client_config: ClientConfig,
        options: SchedulerOptions | None = None,
        *,
        registry: CollectorRegistry | None = None,
        step: Callable[[str], None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.client_config = client_config
        self.options = options or SchedulerOptions()
        self.step = step or (lambda msg: log.info("%s", msg))
        self.clock = clock or RealClock()
        self.metrics = SchedulerMetrics(registry)
        self.identity = self.options.identity or f"{socket.gethostname()}_{uuid.uuid4()}"
        self.api: ApiClient | None = None
        self.informers: SharedInformerFactory | None = None
        self.config: SchedulerConfig | None = None
        self.scheduler: Scheduler | None = None
        self.elector: LeaderElector | None = None
        self._next: Scheduler | None = None
        self._task: asyncio.Task[None] | None = None

    def is_leader(self) -> bool:
        return self.scheduler is not None

    async def start(self) -> None:
        self.config = self.options.load_config()
        self.api = ApiClient(dataclasses.replace(self.client_config, user_agent="picluster-scheduler"))
        self.informers = SharedInformerFactory(self.api, clock=self.clock)
        # Building the first instance checks every profile (plugins, args) before we go on.
        self._next = self._new_scheduler()
        self.informers.start()
        profiles = ", ".join(self.config.profile_names())
        self.step(f"scheduler: profiles {profiles} (config {self.config.source})")
        if self.options.leader_elect:
            o = self.options
            self.step(f"scheduler: leader election on {o.lease_namespace}/{o.lease_name} as {self.identity}")
        self._task = asyncio.create_task(self._run(), name="scheduler")

    def _new_scheduler(self) -> Scheduler:
        assert self.api is not None and self.informers is not None
        return Scheduler(self.api, config=self.config, informers=self.informers, metrics=self.metrics, clock=self.clock)

    async def _run(self) -> None:
        if not self.options.leader_elect:
            await self._lead()
            return
        o = self.options
        while True:
            assert self.api is not None
            self.elector = LeaderElector(
                self.api,
                name=o.lease_name,
                namespace=o.lease_namespace,
                identity=self.identity,
                on_started_leading=self._lead,
                on_new_leader=lambda holder: log.info("scheduler: the leader is %s", holder),
                settings=o.leader_election,
                clock=self.clock,
            )
            await self.elector.run()
            log.warning("scheduler: lost the lease %s/%s; standing by", o.lease_namespace, o.lease_name)

    async def _lead(self) -> None:
        sched = self._next or self._new_scheduler()
        self._next = None
        self.scheduler = sched
        log.info("scheduler: %s is scheduling", self.identity)
        try:
            await sched.run()
        finally:
            self.scheduler = None

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.informers is not None:
            await self.informers.stop()
        if self.api is not None:
            await self.api.close()
            self.api = None

