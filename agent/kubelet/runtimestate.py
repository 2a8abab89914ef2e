"""What the runtime has of one pod: its sandboxes and containers, newest first.

``Inspector.pod(uid)`` asks the runtime (ListPodSandbox and ListContainers filtered by the pod's
uid label, then the status of the newest sandbox and of each container) and returns a
``PodRuntime``. Statuses of exited containers never change, so they are cached by id.

    pr = await inspector.pod(uid)
    pr.sandbox            the newest sandbox (or None)
    pr.latest("app")      the newest attempt of container "app" (or None)
    pr.previous("app")    the attempt before it (what ``logs --previous`` shows)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from agent.kubelet import keys
from agent.kubelet.cri import NotFoundError, Runtime
from agent.kubelet.cri.types import ContainerState, ContainerStatus, SandboxState

__all__ = ["Inspector", "PodRuntime", "RuntimeContainer", "RuntimeSandbox"]


@dataclass(frozen=True, slots=True)
class RuntimeSandbox:
    id: str
    attempt: int
    state: SandboxState
    created_at: int
    ip: str = ""
    host_network: bool = False
    grace_period: float | None = None

    @property
    def ready(self) -> bool:
        return self.state is SandboxState.READY


@dataclass(frozen=True, slots=True)
class RuntimeContainer:
    id: str
    sandbox_id: str
    name: str
    restart_count: int
    hash: str
    status: ContainerStatus

    @property
    def state(self) -> ContainerState:
        return self.status.state

    @property
    def running(self) -> bool:
        return self.status.state is ContainerState.RUNNING

    @property
    def exited(self) -> bool:
        return self.status.state is ContainerState.EXITED

    @property
    def grace_period(self) -> float | None:
        value = self.status.annotations.get(keys.GRACE_PERIOD)
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class PodRuntime:
    uid: str
    sandboxes: tuple[RuntimeSandbox, ...] = ()  # newest first
    containers: tuple[RuntimeContainer, ...] = ()  # newest first

    @property
    def sandbox(self) -> RuntimeSandbox | None:
        return self.sandboxes[0] if self.sandboxes else None

    def attempts(self, name: str) -> list[RuntimeContainer]:
        return [c for c in self.containers if c.name == name]

    def latest(self, name: str) -> RuntimeContainer | None:
        return next((c for c in self.containers if c.name == name), None)

    def previous(self, name: str) -> RuntimeContainer | None:
        found = self.attempts(name)
        return found[1] if len(found) > 1 else None

    def running(self) -> list[RuntimeContainer]:
        return [c for c in self.containers if c.state in (ContainerState.RUNNING, ContainerState.UNKNOWN)]

    @property
    def empty(self) -> bool:
        return not self.sandboxes and not self.containers


def _order(c: RuntimeContainer) -> tuple[int, int]:
    return (c.restart_count, c.status.created_at)


def newest_first(containers: Iterable[RuntimeContainer]) -> tuple[RuntimeContainer, ...]:
    return tuple(sorted(containers, key=_order, reverse=True))


class Inspector:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        # Exited containers never change: their statuses by id, with their pod's uid.
        self._exited: dict[str, tuple[str, ContainerStatus]] = {}

    async def _status(self, uid: str, cid: str) -> ContainerStatus | None:
        cached = self._exited.get(cid)
        if cached is not None:
            return cached[1]
        try:
            st = await self._rt.container_status(cid)
        except NotFoundError:
            return None
        if st.state is ContainerState.EXITED:
            self._exited[cid] = (uid, st)
        return st

    def forget(self, container_ids: Iterable[str]) -> None:
        for cid in container_ids:
            self._exited.pop(cid, None)

    async def pod(self, uid: str) -> PodRuntime:
        sel = {keys.POD_UID: uid}
        sandboxes, containers = await asyncio.gather(
            self._rt.list_sandboxes(labels=sel), self._rt.list_containers(labels=sel)
        )
        sandboxes.sort(key=lambda s: (s.attempt, s.created_at), reverse=True)
        boxes: list[RuntimeSandbox] = []
        for i, s in enumerate(sandboxes):
            grace = _float(s.annotations.get(keys.GRACE_PERIOD))
            ip, host_network = "", False
            if i == 0 and s.state is SandboxState.READY:
                try:
                    sst = await self._rt.sandbox_status(s.id)
                    ip, host_network = sst.ip, sst.host_network
                except NotFoundError:
                    continue
            boxes.append(RuntimeSandbox(s.id, s.attempt, s.state, s.created_at, ip, host_network, grace))
        statuses = await asyncio.gather(*(self._status(uid, c.id) for c in containers))
        out = []
        for c, st in zip(containers, statuses, strict=True):
            if st is None or keys.CONTAINER_NAME not in c.labels:
                continue
            out.append(RuntimeContainer(
                id=c.id,
                sandbox_id=c.sandbox_id,
                name=c.labels[keys.CONTAINER_NAME],
                restart_count=keys.restart_count(st.annotations, c.attempt),
                hash=st.annotations.get(keys.CONTAINER_HASH, ""),
                status=st,
            ))
        live = {c.id for c in containers}
        for cid in [k for k, (owner, _) in self._exited.items() if owner == uid and k not in live]:
            del self._exited[cid]
        return PodRuntime(uid, tuple(boxes), newest_first(out))


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
