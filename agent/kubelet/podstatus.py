"""The API status of a pod, computed from its spec, what the runtime has, and probe results.

A pure function (``compute``): the pod worker calls it after every sync, the status manager
writes the result when it differs from what the API has.

Container states::

    no container yet            waiting ContainerCreating (PodInitializing while init runs),
                                or the reason of the last failure (ErrImagePull, ImagePullBackOff,
                                CreateContainerConfigError, ...)
    running                     running{startedAt}; ready from the readiness probe
    exited, will restart        waiting CrashLoopBackOff (lastState: the exit)
    exited, stays               terminated{exitCode, reason Completed|Error|OOMKilled, message}

Phase, the kubelet's rules: Pending while init containers have not all succeeded or a container
has never run; Running while one runs (or all stopped but restartPolicy brings them back);
Succeeded when all exited 0 and none restarts; Failed when all stopped, one failed, and none
restarts. A terminal phase never changes back.

Conditions: PodScheduled (kept from the API), Initialized, ContainersReady and Ready (the
kubelet's reasons and messages; readiness gates must be True for Ready). A condition keeps its
lastTransitionTime while its status stays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from agent.kubelet.runtimestate import PodRuntime, RuntimeContainer
from master.api import timefmt
from master.api.core import (
    Container,
    ContainerState,
    ContainerStateRunning,
    ContainerStateTerminated,
    ContainerStateWaiting,
    ContainerStatus,
    HostIP,
    Pod,
    PodCondition,
    PodIP,
    PodStatus,
)
from master.api.strategy.pod import qos_class

__all__ = ["StatusInput", "compute", "init_done", "phase_of", "terminal"]

# Reasons a container shows while it waits; the last failure's reason replaces the default.
CONTAINER_CREATING = "ContainerCreating"
POD_INITIALIZING = "PodInitializing"


@dataclass(frozen=True, slots=True)
class StatusInput:
    runtime: PodRuntime
    host_ip: str
    now: float
    runtime_name: str = "containerd"
    # container name -> (reason, message) of the last failed attempt to start it
    waiting: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    is_ready: Callable[[Container, str], bool] = lambda c, cid: True
    is_started: Callable[[Container, str], bool] = lambda c, cid: True
    termination_message: Callable[[RuntimeContainer], str] = lambda rc: ""
    # A reason/message for the pod (e.g. DeadlineExceeded) and a forced phase.
    pod_reason: str = ""
    pod_message: str = ""
    forced_phase: str = ""


def terminal(phase: str) -> bool:
    return phase in ("Succeeded", "Failed")


def _time(ns: int) -> str | None:
    return timefmt.format_time(ns / 1e9) if ns else None


def _terminated(rc: RuntimeContainer, message: str, runtime_name: str) -> ContainerStateTerminated:
    st = rc.status
    return ContainerStateTerminated(
        exit_code=st.exit_code,
        reason=st.reason or ("Completed" if st.exit_code == 0 else "Error"),
        message=message or st.message,
        started_at=_time(st.started_at),
        finished_at=_time(max(st.finished_at, st.started_at)),
        container_id=f"{runtime_name}://{rc.id}",
    )


def _container_status(
    c: Container, inp: StatusInput, *, default_waiting: str, init: bool
) -> ContainerStatus:
    rt = inp.runtime
    latest = rt.latest(c.name)
    prev = rt.previous(c.name)
    name = inp.runtime_name
    waiting = inp.waiting.get(c.name)
    last = ContainerState()
    if latest is None:
        reason, message = waiting or (default_waiting, "")
        return ContainerStatus(
            name=c.name,
            state=ContainerState(waiting=ContainerStateWaiting(reason=reason, message=message)),
            ready=False,
            restart_count=0,
            image=c.image,
            image_id="",
            started=False if not init else None,
        )
    if prev is not None and prev.exited:
        last = ContainerState(terminated=_terminated(prev, inp.termination_message(prev), name))
    ready = False
    started: bool | None = None
    if latest.running:
        state = ContainerState(running=ContainerStateRunning(started_at=_time(latest.status.started_at)))
        if not init:
            ready = inp.is_ready(c, latest.id)
            started = inp.is_started(c, latest.id)
    elif latest.exited:
        term = _terminated(latest, inp.termination_message(latest), name)
        if waiting is not None:
            state = ContainerState(waiting=ContainerStateWaiting(reason=waiting[0], message=waiting[1]))
            last = ContainerState(terminated=term)
        else:
            state = ContainerState(terminated=term)
        started = False if not init else None
    else:
        reason, message = waiting or (CONTAINER_CREATING, "")
        state = ContainerState(waiting=ContainerStateWaiting(reason=reason, message=message))
        started = False if not init else None
    if init and latest.exited and latest.status.exit_code == 0:
        ready = True
    return ContainerStatus(
        name=c.name,
        state=state,
        last_state=last,
        ready=ready,
        restart_count=latest.restart_count,
        image=c.image,
        image_id=latest.status.image_ref,
        container_id=f"{name}://{latest.id}",
        started=started,
    )


def init_done(pod: Pod, runtime: PodRuntime) -> bool:
    """Has every init container succeeded (its newest attempt exited 0)?"""
    for c in pod.spec.init_containers:
        rc = runtime.latest(c.name)
        if rc is None or not rc.exited or rc.status.exit_code != 0:
            return False
    return True


def phase_of(pod: Pod, init_statuses: list[ContainerStatus], statuses: list[ContainerStatus]) -> str:
    policy = pod.spec.restart_policy or "Always"
    pending_init = False
    for s in init_statuses:
        t = s.state.terminated
        if t is not None and t.exit_code == 0:
            continue
        last = s.last_state.terminated
        failed = (t is not None and t.exit_code != 0) or (s.state.waiting is not None and last is not None
                                                           and last.exit_code != 0)
        if failed and policy == "Never":
            return "Failed"
        pending_init = True
    running = waiting = stopped = succeeded = unknown = 0
    for s in statuses:
        st = s.state
        if st.running is not None:
            running += 1
        elif st.terminated is not None:
            stopped += 1
            if st.terminated.exit_code == 0:
                succeeded += 1
        elif st.waiting is not None:
            if s.last_state.terminated is not None:
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1
    if pending_init:
        return "Pending"
    if waiting > 0:
        return "Pending"
    if running > 0 and unknown == 0:
        return "Running"
    if running == 0 and stopped > 0 and unknown == 0:
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if policy == "Never":
            return "Failed"
        return "Running"
    return "Pending"


def _conditions(pod: Pod, phase: str, init_statuses: list[ContainerStatus],
                statuses: list[ContainerStatus], now: str) -> list[PodCondition]:
    old = {c.type: c for c in pod.status.conditions}
    out: list[PodCondition] = []

    def put(type_: str, ok: bool, reason: str = "", message: str = "") -> None:
        status = "True" if ok else "False"
        before = old.get(type_)
        since = before.last_transition_time if before is not None and before.status == status else now
        out.append(PodCondition(type=type_, status=status, last_transition_time=since,
                                reason="" if ok else reason, message="" if ok else message))

    kept = [c for c in pod.status.conditions if c.type not in ("Initialized", "ContainersReady", "Ready")]
    if not any(c.type == "PodScheduled" for c in kept):
        kept.insert(0, PodCondition(type="PodScheduled", status="True", last_transition_time=now))
    incomplete = [s.name for s in init_statuses
                  if s.state.terminated is None or s.state.terminated.exit_code != 0]
    if phase == "Succeeded" and not incomplete:
        put("Initialized", True)
    else:
        put("Initialized", not incomplete, "ContainersNotInitialized",
            f"containers with incomplete status: [{' '.join(incomplete)}]")
    unready = [s.name for s in statuses if not s.ready]
    if terminal(phase):
        reason, message = "PodCompleted", ""
        ready = False
    elif incomplete:
        reason, message = "ContainersNotInitialized", f"containers with incomplete status: [{' '.join(incomplete)}]"
        ready = False
    else:
        reason, message = "ContainersNotReady", f"containers with unready status: [{' '.join(unready)}]"
        ready = not unready
    put("ContainersReady", ready, reason, message)
    gates = [g.condition_type for g in pod.spec.readiness_gates]
    failing_gates = [g for g in gates if (old.get(g) is None or old[g].status != "True")]
    if ready and failing_gates:
        put("Ready", False, "ReadinessGatesNotReady",
            f"corresponding condition of pod readiness gate \"{failing_gates[0]}\" does not exist." if
            old.get(failing_gates[0]) is None else
            f"the status of pod readiness gate \"{failing_gates[0]}\" is not \"True\", but {old[failing_gates[0]].status}")
    else:
        put("Ready", ready, reason, message)
    order = {"PodScheduled": 0, "Initialized": 1, "ContainersReady": 2, "Ready": 3}
    merged = kept + out
    return sorted(merged, key=lambda c: order.get(c.type, 4))


def compute(pod: Pod, inp: StatusInput) -> PodStatus:
    now = timefmt.format_time(inp.now)
    rt = inp.runtime
    init_statuses = [
        _container_status(c, inp, default_waiting=POD_INITIALIZING, init=True) for c in pod.spec.init_containers
    ]
    initialized = init_done(pod, rt)
    statuses = [
        _container_status(c, inp, default_waiting=CONTAINER_CREATING if initialized else POD_INITIALIZING,
                          init=False)
        for c in pod.spec.containers
    ]
    old = pod.status
    if inp.forced_phase:
        phase = inp.forced_phase
    elif terminal(old.phase):
        phase = old.phase
    else:
        phase = phase_of(pod, init_statuses, statuses)
    sandbox = rt.sandbox
    if pod.spec.host_network:
        pod_ip = inp.host_ip
    elif sandbox is not None and sandbox.ready and sandbox.ip:
        pod_ip = sandbox.ip
    else:
        pod_ip = old.pod_ip if (terminal(phase) or pod.metadata.deletion_timestamp) else ""
    return PodStatus(
        phase=phase,
        conditions=_conditions(pod, phase, init_statuses, statuses, now),
        message=inp.pod_message or (old.message if terminal(old.phase) else ""),
        reason=inp.pod_reason or (old.reason if terminal(old.phase) else ""),
        nominated_node_name=old.nominated_node_name,
        host_ip=inp.host_ip,
        host_ips=[HostIP(ip=inp.host_ip)] if inp.host_ip else [],
        pod_ip=pod_ip,
        pod_ips=[PodIP(ip=pod_ip)] if pod_ip else [],
        start_time=old.start_time or now,
        init_container_statuses=init_statuses,
        container_statuses=statuses,
        qos_class=old.qos_class or qos_class(pod.spec),
    )
