"""What to do to make the runtime run a pod as its spec says: a pure function of the spec and the
runtime's state (the kubelet's computePodActions).

::

    actions = compute(pod, runtime, alive=..., restartable=...)
    actions.create_sandbox   no ready sandbox (none yet, or it died: SandboxChanged)
    actions.kill             containers to stop first: liveness failures, changed specs,
                             leftovers of a dead sandbox
    actions.start            containers to start, each with its restart count
    actions.init_failed      an init container failed and restartPolicy is Never

Rules:

- One sandbox per pod; when the newest is not ready (or has no IP) a new one is made with the
  next attempt number, everything in the old one is killed, and init containers run again;
  unless nothing would run again (restartPolicy Never or OnFailure and every container has
  exited for good).
- Init containers run one at a time, in order, each to success, before any other container.
- A container is (re)started when it has no container in the current sandbox, or its newest
  exited and the restart policy says so: Always; OnFailure when the exit code is not 0; Never
  not at all. A running container that failed its liveness probe, or whose spec hash changed,
  is killed (and then restarted by the same rule).
- The restart count is the newest container's plus one, across sandboxes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from agent.kubelet import keys
from agent.kubelet.cri.types import ContainerState
from agent.kubelet.runtimestate import PodRuntime, RuntimeContainer
from master.api.core import Container, Pod

__all__ = ["Actions", "Kill", "Start", "compute", "should_restart"]


@dataclass(frozen=True, slots=True)
class Start:
    container: Container
    restart_count: int
    init: bool = False
    # The newest exited attempt, when this is a restart: its finish time starts the backoff.
    previous: RuntimeContainer | None = None


@dataclass(frozen=True, slots=True)
class Kill:
    container: RuntimeContainer
    reason: str  # the event message: "Container app failed liveness probe, will be restarted"


@dataclass(slots=True)
class Actions:
    create_sandbox: bool = False
    sandbox_attempt: int = 0
    sandbox_changed: bool = False
    kill: list[Kill] = field(default_factory=list)
    start: list[Start] = field(default_factory=list)
    remove: list[RuntimeContainer] = field(default_factory=list)  # created, never started
    init_failed: str = ""

    @property
    def empty(self) -> bool:
        return not (self.create_sandbox or self.kill or self.start or self.remove)


def should_restart(policy: str, exit_code: int) -> bool:
    if policy == "Never":
        return False
    if policy == "OnFailure":
        return exit_code != 0
    return True


def _count(latest: RuntimeContainer | None) -> int:
    return latest.restart_count + 1 if latest is not None else 0


def _done_for_good(pod: Pod, runtime: PodRuntime) -> bool:
    """Would no container of the pod ever run again (all exited, none restartable)?"""
    policy = pod.spec.restart_policy or "Always"
    if policy == "Always" or not pod.spec.containers:
        return False
    for c in pod.spec.containers:
        rc = runtime.latest(c.name)
        if rc is None or not rc.exited or should_restart(policy, rc.status.exit_code):
            return False
    return True


def compute(
    pod: Pod,
    runtime: PodRuntime,
    *,
    liveness_failed: Callable[[str], str | None] = lambda cid: None,
) -> Actions:
    policy = pod.spec.restart_policy or "Always"
    actions = Actions()
    sandbox = runtime.sandbox
    host_network = pod.spec.host_network
    if sandbox is None or not sandbox.ready or (not host_network and not sandbox.ip):
        if sandbox is not None and _done_for_good(pod, runtime):
            actions.kill = [Kill(rc, f"Stopping container {rc.name}") for rc in runtime.running()]
            return actions
        actions.create_sandbox = True
        actions.sandbox_attempt = sandbox.attempt + 1 if sandbox is not None else 0
        actions.sandbox_changed = sandbox is not None
        actions.kill = [Kill(rc, f"Stopping container {rc.name}") for rc in runtime.running()]
        if pod.spec.init_containers:
            first = pod.spec.init_containers[0]
            actions.start = [Start(first, _count(runtime.latest(first.name)), init=True)]
        else:
            for c in pod.spec.containers:
                latest = runtime.latest(c.name)
                if latest is not None and latest.exited and not should_restart(policy, latest.status.exit_code):
                    continue
                actions.start.append(Start(c, _count(latest)))
        return actions

    def current(name: str) -> RuntimeContainer | None:
        return next((c for c in runtime.attempts(name) if c.sandbox_id == sandbox.id), None)

    for leftover in runtime.running():
        if leftover.sandbox_id != sandbox.id:
            actions.kill.append(Kill(leftover, f"Stopping container {leftover.name}"))

    # Init containers: the first one not yet successful decides.
    for c in pod.spec.init_containers:
        rc = current(c.name)
        if rc is None:
            actions.start.append(Start(c, _count(runtime.latest(c.name)), init=True))
            return actions
        if rc.running:
            return actions
        if rc.exited and rc.status.exit_code == 0:
            continue
        if rc.exited:
            if policy == "Never":
                actions.init_failed = f"init container {c.name} failed with exit code {rc.status.exit_code}"
                return actions
            actions.start.append(Start(c, rc.restart_count + 1, init=True, previous=rc))
            return actions
        actions.remove.append(rc)
        actions.start.append(Start(c, rc.restart_count, init=True))
        return actions

    for c in pod.spec.containers:
        rc = current(c.name)
        latest = runtime.latest(c.name)
        if rc is None:
            if latest is not None and latest.exited and not should_restart(policy, latest.status.exit_code):
                continue
            actions.start.append(Start(c, _count(latest), previous=latest if latest and latest.exited else None))
            continue
        if rc.running or rc.state is ContainerState.UNKNOWN:
            failed = liveness_failed(rc.id)
            want_hash = keys.container_hash(c)
            if failed:
                tail = "will be restarted" if should_restart(policy, 137) else "will not be restarted"
                actions.kill.append(Kill(rc, f"Container {c.name} {failed}, {tail}"))
            elif rc.hash and rc.hash != want_hash:
                actions.kill.append(Kill(rc, f"Container {c.name} definition changed, will be restarted"))
            continue
        if rc.exited:
            if should_restart(policy, rc.status.exit_code):
                actions.start.append(Start(c, rc.restart_count + 1, previous=rc))
            continue
        actions.remove.append(rc)
        actions.start.append(Start(c, rc.restart_count))
    return actions
