"""Builders for kubelet unit tests: pods, and a ``PodSyncer`` over ``FakeRuntime`` + ``FakeClock``."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from agent.kubelet.backoff import Backoff
from agent.kubelet.configsource import StaticConfigSource
from agent.kubelet.cri.fake import FakeRuntime
from agent.kubelet.images import ImageManager
from agent.kubelet.podsync import PodSyncer, SyncResult
from agent.kubelet.prober import Prober
from agent.kubelet.probes import ProbeManager
from agent.kubelet.runtimestate import Inspector
from agent.kubelet.settings import KubeletSettings
from agent.kubelet.volumes import VolumeManager
from master.api import meta
from master.api.core import Container, Pod, PodSpec, PodStatus
from master.api.strategy.podspec import default_pod_spec
from master.util.clock import FakeClock

__all__ = ["SyncHarness", "container", "make_pod"]


def container(name: str = "app", image: str = "localhost/web:1", **kw: Any) -> Container:
    return msgspec.convert({"name": name, "image": image, **kw}, Container)


def make_pod(
    name: str = "web",
    containers: Iterable[Container] | None = None,
    *,
    namespace: str = "default",
    uid: str | None = None,
    node: str = "pi-1",
    **spec: Any,
) -> Pod:
    cs = list(containers) if containers is not None else [container()]
    s = msgspec.convert({**spec, "containers": []}, PodSpec)
    s = msgspec.structs.replace(s, containers=cs, node_name=node)
    default_pod_spec(s)
    return Pod(
        metadata=meta.ObjectMeta(name=name, namespace=namespace, uid=uid or str(uuid.uuid4()),
                                 resource_version="1", creation_timestamp="2025-01-01T00:00:00Z"),
        spec=s,
        status=PodStatus(phase="Pending"),
    )


@dataclass
class SyncHarness:
    tmp: Path
    clock: FakeClock = field(default_factory=FakeClock)
    runtime: FakeRuntime | None = None  # a new one unless given (a "restarted agent" shares it)
    settings: KubeletSettings = field(init=False)
    config: StaticConfigSource = field(default_factory=StaticConfigSource)
    events: list[tuple[str, str, str, str]] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    syncer: PodSyncer = field(init=False)
    probes: ProbeManager = field(init=False)

    def __post_init__(self) -> None:
        if self.runtime is None:
            self.runtime = FakeRuntime(clock=self.clock)
        self.settings = KubeletSettings(node_name="pi-1", node_ip="10.77.0.11", data_dir=self.tmp / "agent")
        prober = Prober(self.runtime)
        self.probes = ProbeManager(prober, clock=self.clock, on_change=self.changes.append,
                                   on_event=self._event)
        s = self.settings
        self.syncer = PodSyncer(
            runtime=self.runtime,
            settings=s,
            clock=self.clock,
            inspector=Inspector(self.runtime),
            volumes=VolumeManager(s.pods_dir, self.config),
            images=ImageManager(self.runtime, backoff=Backoff(initial=10, maximum=300, clock=self.clock),
                                clock=self.clock),
            probes=self.probes,
            prober=prober,
            crash_backoff=Backoff(initial=10, maximum=300, clock=self.clock),
            config=self.config,
            on_event=self._event,
            runtime_name="fake",
        )

    def _event(self, pod: Pod, type_: str, reason: str, message: str) -> None:
        self.events.append((pod.metadata.name, type_, reason, message))

    def reasons(self) -> list[str]:
        return [e[2] for e in self.events]

    async def sync(self, pod: Pod | None, uid: str | None = None) -> SyncResult:
        assert pod is not None or uid is not None
        return await self.syncer.sync(pod, uid or pod.metadata.uid)  # type: ignore[union-attr]

    async def settle(self, seconds: float = 0.0) -> None:
        """Let fake containers run (and time pass)."""
        await self.clock.advance(seconds)

    async def close(self) -> None:
        await self.probes.stop()
        await self.runtime.close()
