"""Container lifecycle hooks: postStart right after a start, preStop before TERM.

A handler is ``exec`` (ExecSync in the container), ``httpGet`` (from the node, like a probe) or
``sleep``. ``run`` returns None on success or the failure's message: a failed postStart kills
the container (FailedPostStartHook), a failed preStop is only reported (FailedPreStopHook) and
the container is stopped anyway. A preStop hook runs inside the pod's grace period.
"""

from __future__ import annotations

from agent.kubelet.cri import CRIError, Runtime
from agent.kubelet.prober import Prober, Result
from master.api.core import Container, LifecycleHandler, Probe
from master.util.clock import Clock

__all__ = ["run"]


async def run(
    handler: LifecycleHandler,
    *,
    runtime: Runtime,
    prober: Prober,
    clock: Clock,
    container: Container,
    container_id: str,
    pod_ip: str,
    budget: float,
) -> str | None:
    if handler.exec is not None:
        cmd = handler.exec.command
        if not cmd:
            return "exec hook has no command"
        try:
            r = await runtime.exec_sync(container_id, cmd, max(1.0, budget))
        except CRIError as exc:
            return f"Exec lifecycle hook ({cmd}) for Container {container.name!r} failed: {exc}"
        if r.exit_code != 0:
            out = (r.stdout + r.stderr).decode("utf-8", "replace").strip()
            return f"Exec lifecycle hook ({cmd}) for Container {container.name!r} failed - error: command exited with {r.exit_code}, message: {out!r}"
        return None
    if handler.http_get is not None:
        outcome = await prober.probe(
            Probe(http_get=handler.http_get, timeout_seconds=max(1, int(budget))), container, container_id, pod_ip
        )
        if outcome.result is Result.SUCCESS:
            return None
        return f"HTTP lifecycle hook ({handler.http_get.path}) for Container {container.name!r} failed - error: {outcome.message}"
    if handler.sleep is not None:
        await clock.sleep(min(float(handler.sleep.seconds), budget))
        return None
    return None
