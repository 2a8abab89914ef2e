"""PodSyncer against FakeRuntime and FakeClock: starting, restarting, backing off, terminating,
adopting, env, volumes, images, probes."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from agent.kubelet import keys
from agent.kubelet.cri import ExecResult, ImagePullError
from agent.kubelet.cri.types import ContainerState, SandboxState
from agent.kubelet.podsync import resources
from master.api import meta
from master.api.core import ConfigMap, Pod, Secret
from tests.fixtures.waiting import eventually
from tests.unit.agent.kubelet.kubelet_helpers import SyncHarness, container, make_pod


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[SyncHarness]:
    harness = SyncHarness(tmp_path)
    yield harness
    await harness.close()


def creates(h: SyncHarness) -> int:
    return sum(1 for op, _ in h.runtime.calls if op in ("run_sandbox", "create_container"))


def state(status: object, name: str = "app") -> object:
    return next(s for s in status.container_statuses if s.name == name)  # type: ignore[attr-defined]


async def test_pod_starts_running_with_ip_and_events(h: SyncHarness) -> None:
    pod = make_pod()
    r = await h.sync(pod)
    assert r.status is not None and r.running
    st = r.status
    assert st.phase == "Running"
    assert st.pod_ip.startswith("10.244.0.") and st.pod_ips[0].ip == st.pod_ip
    assert st.host_ip == "10.77.0.11"
    assert st.start_time
    cs = state(st)
    assert cs.state.running is not None and cs.ready and cs.started
    assert cs.restart_count == 0 and cs.container_id.startswith("fake://") and cs.image == "localhost/web:1"
    assert cs.image_id.startswith("sha256:")
    assert {c.type: c.status for c in st.conditions} == {
        "PodScheduled": "True", "Initialized": "True", "ContainersReady": "True", "Ready": "True"}
    assert h.reasons() == ["Pulled", "Created", "Started"]


async def test_second_sync_changes_nothing(h: SyncHarness) -> None:
    pod = make_pod()
    first = await h.sync(pod)
    before = creates(h)
    second = await h.sync(pod)
    assert creates(h) == before
    assert second.status == first.status


async def test_restarted_agent_adopts_instead_of_duplicating(h: SyncHarness, tmp_path: Path) -> None:
    pod = make_pod()
    await h.sync(pod)
    sandboxes = [s.id for s in await h.runtime.list_sandboxes()]
    containers = [c.id for c in await h.runtime.list_containers()]
    # A new agent: nothing in memory, the same runtime and data dir.
    again = SyncHarness(tmp_path, clock=h.clock, runtime=h.runtime)
    calls = len(h.runtime.calls)
    r = await again.sync(pod)
    assert r.running
    assert [s.id for s in await h.runtime.list_sandboxes()] == sandboxes
    assert [c.id for c in await h.runtime.list_containers()] == containers
    assert not any(op in ("run_sandbox", "create_container", "stop_container") for op, _ in h.runtime.calls[calls:])
    await again.probes.stop()


async def test_crashing_container_backs_off_then_restarts(h: SyncHarness) -> None:
    pod = make_pod(containers=[container(image="localhost/busybox:latest", command=["sh", "-c", "echo boom; exit 3"],
                                         imagePullPolicy="IfNotPresent")])
    await h.sync(pod)
    await h.settle()
    # First crash: restarted at once (the kubelet's backoff starts with the second).
    r = await h.sync(pod)
    assert state(r.status).restart_count == 1
    await h.settle()
    r = await h.sync(pod)
    cs = state(r.status)
    assert cs.state.waiting is not None and cs.state.waiting.reason == "CrashLoopBackOff"
    assert "back-off 10s restarting failed container=app" in cs.state.waiting.message
    assert cs.last_state.terminated is not None and cs.last_state.terminated.exit_code == 3
    assert cs.last_state.terminated.reason == "Error"
    assert r.requeue_after is not None and 0 < r.requeue_after <= 10
    assert r.status.phase == "Running"
    await h.settle(10)
    r = await h.sync(pod)
    assert state(r.status).restart_count == 2
    await h.settle()
    r = await h.sync(pod)
    assert "back-off 20s" in state(r.status).state.waiting.message
    assert "BackOff" in h.reasons()


@pytest.mark.parametrize(
    ("policy", "code", "phase", "restarts"),
    [
        pytest.param("OnFailure", 0, "Succeeded", 0, id="onfailure-success"),
        pytest.param("OnFailure", 2, "Running", 1, id="onfailure-failure-restarts"),
        pytest.param("Never", 2, "Failed", 0, id="never-failure"),
        pytest.param("Never", 0, "Succeeded", 0, id="never-success"),
        pytest.param("Always", 0, "Running", 1, id="always-restarts-success"),
    ],
)
async def test_restart_policy(h: SyncHarness, policy: str, code: int, phase: str, restarts: int) -> None:
    pod = make_pod(containers=[container(image="localhost/busybox:latest", command=["sh", "-c", f"exit {code}"],
                                         imagePullPolicy="IfNotPresent")], restartPolicy=policy)
    await h.sync(pod)
    await h.settle()
    r = await h.sync(pod)
    assert r.status.phase == phase
    assert state(r.status).restart_count == restarts
    if phase in ("Succeeded", "Failed"):
        t = state(r.status).state.terminated
        assert t is not None and t.exit_code == code and t.reason == ("Completed" if code == 0 else "Error")
        # A finished pod's sandbox is stopped (its IP released), the status keeps its IP.
        r = await h.sync(pod)
        assert [s.state for s in await h.runtime.list_sandboxes()] == [SandboxState.NOTREADY]
        assert r.status.phase == phase and r.status.pod_ip


async def test_init_containers_run_in_order_before_the_app(h: SyncHarness) -> None:
    init = [container("one", "localhost/busybox:latest", command=["sh", "-c", "sleep 5"], imagePullPolicy="IfNotPresent"),
            container("two", "localhost/busybox:latest", command=["true"], imagePullPolicy="IfNotPresent")]
    pod = make_pod(containers=[container()], initContainers=[msgspec.to_builtins(c) for c in init])
    pod = msgspec.structs.replace(pod, spec=msgspec.structs.replace(pod.spec, init_containers=init))
    r = await h.sync(pod)
    assert r.status.phase == "Pending"
    assert state(r.status).state.waiting.reason == "PodInitializing"
    init_states = {s.name: s.state for s in r.status.init_container_statuses}
    assert init_states["one"].running is not None and init_states["two"].waiting.reason == "PodInitializing"
    conds = {c.type: c for c in r.status.conditions}
    assert conds["Initialized"].status == "False" and "[one two]" in conds["Initialized"].message
    await h.settle(5)
    r = await h.sync(pod)
    await h.settle()
    r = await h.sync(pod)
    assert r.status.phase == "Running" and r.running
    assert all(s.state.terminated.exit_code == 0 for s in r.status.init_container_statuses)
    assert {c.type: c.status for c in r.status.conditions}["Initialized"] == "True"


async def test_failed_init_container_fails_a_never_pod(h: SyncHarness) -> None:
    init = [container("setup", "localhost/busybox:latest", command=["sh", "-c", "exit 1"], imagePullPolicy="IfNotPresent")]
    pod = make_pod(restartPolicy="Never")
    pod = msgspec.structs.replace(pod, spec=msgspec.structs.replace(pod.spec, init_containers=init))
    await h.sync(pod)
    await h.settle()
    r = await h.sync(pod)
    assert r.status.phase == "Failed"
    assert not any(c.name == "app" for c in await h.runtime.list_containers())


async def test_image_pull_policy_never_without_the_image(h: SyncHarness) -> None:
    pod = make_pod(containers=[container(image="example.org/missing:1", imagePullPolicy="Never")])
    r = await h.sync(pod)
    w = state(r.status).state.waiting
    assert w.reason == "ErrImageNeverPull" and "pull policy of Never" in w.message
    assert r.status.phase == "Pending"
    assert not any(op == "pull_image" for op, _ in h.runtime.calls)


async def test_image_pull_if_not_present_pulls_once(h: SyncHarness) -> None:
    h.runtime.add_remote_image("docker.io/library/nginx:1.25")
    pod = make_pod(containers=[container(image="nginx:1.25", imagePullPolicy="IfNotPresent")])
    r = await h.sync(pod)
    assert r.running
    assert [op for op, _ in h.runtime.calls].count("pull_image") == 1
    assert "Pulling" in h.reasons()


async def test_failed_pull_is_err_image_pull_then_backoff(h: SyncHarness) -> None:
    pod = make_pod(containers=[container(image="example.org/nope:1", imagePullPolicy="Always")])
    r = await h.sync(pod)
    assert state(r.status).state.waiting.reason == "ErrImagePull"
    assert r.requeue_after == 10
    r = await h.sync(pod)
    assert state(r.status).state.waiting.reason == "ImagePullBackOff"
    assert [op for op, _ in h.runtime.calls].count("pull_image") == 1
    await h.settle(10)
    h.runtime.add_remote_image("example.org/nope:1")
    r = await h.sync(pod)
    assert r.running


async def test_always_pulls_every_start(h: SyncHarness) -> None:
    h.runtime.add_remote_image("localhost/web:1")
    pod = make_pod(containers=[container(image="localhost/web:1", imagePullPolicy="Always")])
    assert (await h.sync(pod)).running
    h.runtime.fail_next("pull_image", ImagePullError("localhost/web:1", "connection refused"))
    assert (await h.sync(pod)).running  # nothing to start: no pull


async def test_env_values_configmap_secret_and_field_refs(h: SyncHarness) -> None:
    h.config.add(ConfigMap(metadata=meta.ObjectMeta(name="cfg", namespace="default"), data={"color": "blue"}))
    h.config.add(Secret(metadata=meta.ObjectMeta(name="sec", namespace="default"),
                        data={"password": base64.b64encode(b"s3cret").decode()}))
    c = container(env=[
        {"name": "PLAIN", "value": "x"},
        {"name": "DERIVED", "value": "$(PLAIN)-y"},
        {"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "color"}}},
        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "password"}}},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
    ], envFrom=[{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}])
    pod = make_pod(containers=[c])
    r = await h.sync(pod)
    assert r.running
    cid = state(r.status).container_id.partition("://")[2]
    out = await h.runtime.exec_sync(
        cid, ["sh", "-c", "echo $PLAIN $DERIVED $COLOR $PASSWORD $POD_NAME $POD_IP $NODE $CFG_color"], 1)
    assert out.stdout.decode().split() == ["x", "x-y", "blue", "s3cret", "web", r.status.pod_ip, "pi-1", "blue"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        pytest.param([{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k"}}}],
                     'configmap "absent" not found', id="configmap"),
        pytest.param([{"name": "A", "valueFrom": {"secretKeyRef": {"name": "absent", "key": "k"}}}],
                     'secret "absent" not found', id="secret"),
    ],
)
async def test_missing_reference_is_create_container_config_error(h: SyncHarness, env: list, message: str) -> None:
    r = await h.sync(make_pod(containers=[container(env=env)]))
    w = state(r.status).state.waiting
    assert w.reason == "CreateContainerConfigError" and message in w.message
    assert r.status.phase == "Pending"


async def test_optional_missing_reference_is_skipped(h: SyncHarness) -> None:
    env = [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k", "optional": True}}}]
    assert (await h.sync(make_pod(containers=[container(env=env)]))).running


async def test_volumes_are_materialized_and_mounted(h: SyncHarness, tmp_path: Path) -> None:
    h.config.add(ConfigMap(metadata=meta.ObjectMeta(name="cfg", namespace="default"), data={"app.conf": "x=1\n"}))
    h.config.add(Secret(metadata=meta.ObjectMeta(name="sec", namespace="default"),
                        data={"token": base64.b64encode(b"abc").decode()}))
    host = tmp_path / "host-data"
    c = container(volumeMounts=[{"name": "cfg", "mountPath": "/etc/app"}, {"name": "sec", "mountPath": "/run/sec"},
                                {"name": "scratch", "mountPath": "/tmp/s"}, {"name": "data", "mountPath": "/data"}])
    pod = make_pod(containers=[c], volumes=[
        {"name": "cfg", "configMap": {"name": "cfg"}},
        {"name": "sec", "secret": {"secretName": "sec"}},
        {"name": "scratch", "emptyDir": {}},
        {"name": "data", "hostPath": {"path": str(host), "type": "DirectoryOrCreate"}},
    ])
    r = await h.sync(pod)
    assert r.running
    uid = pod.metadata.uid
    vols = h.settings.pods_dir / uid / "volumes"
    assert (vols / "kubernetes.io~configmap" / "cfg" / "app.conf").read_text() == "x=1\n"
    assert (vols / "kubernetes.io~secret" / "sec" / "token").read_bytes() == b"abc"
    assert (vols / "kubernetes.io~empty-dir" / "scratch").is_dir()
    assert host.is_dir()
    cid = state(r.status).container_id.partition("://")[2]
    mounts = {m.container_path: m for m in h.runtime._containers[cid].config.mounts}
    assert mounts["/etc/app"].readonly and mounts["/etc/app"].host_path.endswith("kubernetes.io~configmap/cfg")
    assert mounts["/data"].host_path == str(host) and not mounts["/data"].readonly
    assert "/dev/termination-log" in mounts


async def test_missing_volume_source_waits_in_container_creating(h: SyncHarness) -> None:
    c = container(volumeMounts=[{"name": "cfg", "mountPath": "/etc/app"}])
    pod = make_pod(containers=[c], volumes=[{"name": "cfg", "configMap": {"name": "absent"}}])
    r = await h.sync(pod)
    w = state(r.status).state.waiting
    assert w.reason == "ContainerCreating" and 'configmap "absent" not found' in w.message
    assert "FailedMount" in h.reasons()
    assert not await h.runtime.list_sandboxes()


async def test_delete_terminates_gracefully(h: SyncHarness) -> None:
    pod = make_pod()
    await h.sync(pod)
    deleting = msgspec.structs.replace(pod, metadata=msgspec.structs.replace(
        pod.metadata, deletion_timestamp="2025-01-01T00:00:30Z", deletion_grace_period_seconds=30))
    r = await h.sync(deleting)
    assert r.terminated
    t = state(r.status).state.terminated
    assert t is not None and t.exit_code == 0  # web traps TERM and exits 0 at once
    assert r.status.phase == "Succeeded"
    assert "Killing" in h.reasons()
    assert [s.state for s in await h.runtime.list_sandboxes()] == [SandboxState.NOTREADY]
    stop = next(a for op, a in h.runtime.calls if op == "stop_container")
    assert stop == t.container_id.partition("://")[2]


async def test_delete_kills_after_the_grace_period(h: SyncHarness) -> None:
    pod = make_pod(containers=[container(image="localhost/busybox:latest", command=["sleep", "3600"],
                                         imagePullPolicy="IfNotPresent")])
    await h.sync(pod)
    deleting = msgspec.structs.replace(pod, metadata=msgspec.structs.replace(
        pod.metadata, deletion_timestamp="2025-01-01T00:00:05Z", deletion_grace_period_seconds=5))
    task = asyncio.create_task(h.sync(deleting))
    # The grace period's timer (not the container's own `sleep 3600`, also on the fake clock):
    # advancing the clock before it is armed would arm it 5 s past the test's last step.
    await eventually(lambda: any(due <= h.clock.monotonic() + 5 for due, _, _ in h.clock._sleepers))
    await h.settle(4)
    assert not task.done()
    await h.settle(2)
    r = await asyncio.wait_for(task, 10)
    t = state(r.status).state.terminated
    assert t.exit_code == 137 and r.status.phase == "Failed"


async def test_orphan_is_stopped_and_removed(h: SyncHarness) -> None:
    pod = make_pod()
    await h.sync(pod)
    (h.settings.pods_dir / pod.metadata.uid).mkdir(parents=True, exist_ok=True)
    r = await h.sync(None, pod.metadata.uid)
    assert r.done
    assert not await h.runtime.list_sandboxes() and not await h.runtime.list_containers()
    assert not (h.settings.pods_dir / pod.metadata.uid).exists()


async def test_liveness_failure_restarts_the_container(h: SyncHarness) -> None:
    healthy = {"ok": True}
    h.runtime.exec_handler = lambda cid, cmd: ExecResult(b"", b"", 0 if healthy["ok"] else 1)
    c = container(livenessProbe={"exec": {"command": ["check"]}, "periodSeconds": 1, "failureThreshold": 2})
    pod = make_pod(containers=[c])
    r = await h.sync(pod)
    first = state(r.status).container_id
    await h.settle(3)
    healthy["ok"] = False
    await h.settle(1)
    await h.settle(1)
    await h.settle(1)
    assert pod.metadata.uid in h.changes
    r = await h.sync(pod)
    cs = state(r.status)
    assert cs.container_id != first and cs.restart_count == 1
    assert any("failed liveness probe, will be restarted" in e[3] for e in h.events)
    assert "Unhealthy" in h.reasons()


async def test_readiness_probe_drives_ready(h: SyncHarness) -> None:
    ready = {"ok": False}
    h.runtime.exec_handler = lambda cid, cmd: ExecResult(b"", b"", 0 if ready["ok"] else 1)
    c = container(readinessProbe={"exec": {"command": ["check"]}, "periodSeconds": 1})
    pod = make_pod(containers=[c])
    r = await h.sync(pod)
    assert not state(r.status).ready
    assert {x.type: x.status for x in r.status.conditions}["Ready"] == "False"
    ready["ok"] = True
    await h.settle(1)
    await h.settle(1)
    r = await h.sync(pod)
    assert state(r.status).ready and {x.type: x.status for x in r.status.conditions}["Ready"] == "True"
    ready["ok"] = False
    for _ in range(4):
        await h.settle(1)
    r = await h.sync(pod)
    assert not state(r.status).ready
    assert state(r.status).restart_count == 0


async def test_startup_probe_gates_readiness(h: SyncHarness) -> None:
    started = {"ok": False}

    def handler(cid: str, cmd: object) -> ExecResult:
        if list(cmd) == ["started"]:  # type: ignore[call-overload]
            return ExecResult(b"", b"", 0 if started["ok"] else 1)
        return ExecResult(b"", b"", 0)

    h.runtime.exec_handler = handler
    c = container(startupProbe={"exec": {"command": ["started"]}, "periodSeconds": 1, "failureThreshold": 30},
                  readinessProbe={"exec": {"command": ["ready"]}, "periodSeconds": 1})
    pod = make_pod(containers=[c])
    r = await h.sync(pod)
    assert state(r.status).started is False and not state(r.status).ready
    await h.settle(2)
    r = await h.sync(pod)
    assert not state(r.status).ready
    started["ok"] = True
    for _ in range(3):
        await h.settle(1)
    r = await h.sync(pod)
    assert state(r.status).started and state(r.status).ready


async def test_changed_spec_restarts_the_container(h: SyncHarness) -> None:
    pod = make_pod()
    r = await h.sync(pod)
    first = state(r.status).container_id
    newer = msgspec.structs.replace(pod, spec=msgspec.structs.replace(
        pod.spec, containers=[msgspec.structs.replace(pod.spec.containers[0], image="localhost/web:2")]))
    r = await h.sync(newer)
    cs = state(r.status)
    assert cs.container_id != first and cs.image == "localhost/web:2" and cs.state.running is not None
    assert any("definition changed" in e[3] for e in h.events)


async def test_dead_sandbox_is_replaced(h: SyncHarness) -> None:
    pod = make_pod()
    await h.sync(pod)
    h.runtime.power_cycle()
    r = await h.sync(pod)
    assert r.running
    boxes = sorted(await h.runtime.list_sandboxes(), key=lambda s: s.attempt)
    assert [(b.attempt, b.state) for b in boxes] == [(0, SandboxState.NOTREADY), (1, SandboxState.READY)]
    assert "SandboxChanged" in h.reasons()
    assert state(r.status).restart_count == 1


async def test_active_deadline_fails_the_pod(h: SyncHarness) -> None:
    pod = make_pod(activeDeadlineSeconds=30)
    r = await h.sync(pod)
    assert r.requeue_after is not None and r.requeue_after <= 30
    await h.settle(31)
    r = await h.sync(pod)
    assert r.status.phase == "Failed" and r.status.reason == "DeadlineExceeded"
    assert not [c for c in await h.runtime.list_containers() if c.state is ContainerState.RUNNING]


async def test_host_network_pod_uses_the_node_ip(h: SyncHarness) -> None:
    r = await h.sync(make_pod(hostNetwork=True))
    assert r.status.pod_ip == "10.77.0.11"
    # It runs: no hostname of its own, which the runtime refuses in the node's UTS namespace.
    assert r.running, r.status


async def test_termination_message_from_file(h: SyncHarness) -> None:
    pod = make_pod(containers=[container(image="localhost/busybox:latest", command=["sh", "-c", "exit 4"],
                                         imagePullPolicy="IfNotPresent")], restartPolicy="Never")
    await h.sync(pod)
    h.syncer._volumes.termination_message_file(pod.metadata.uid, "app", 0).write_text("disk full")
    await h.settle()
    r = await h.sync(pod)
    assert state(r.status).state.terminated.message == "disk full"


@pytest.mark.parametrize(
    ("res", "want"),
    [
        pytest.param({}, (2, 0, 0, 0), id="best-effort"),
        pytest.param({"requests": {"cpu": "250m"}}, (256, 0, 0, 0), id="request"),
        pytest.param({"requests": {"cpu": "500m"}, "limits": {"cpu": "1", "memory": "64Mi"}},
                     (512, 100000, 100000, 64 << 20), id="limits"),
    ],
)
def test_resources_map_to_cgroups(res: dict, want: tuple[int, int, int, int]) -> None:
    r = resources(container(resources=res))
    assert (r.cpu_shares, r.cpu_period, r.cpu_quota, r.memory_limit_bytes) == want


def test_container_labels_and_hash_are_stable() -> None:
    pod: Pod = make_pod(uid="u-1")
    c = pod.spec.containers[0]
    assert keys.container_labels(pod, c) == {
        keys.POD_NAME: "web", keys.POD_NAMESPACE: "default", keys.POD_UID: "u-1", keys.CONTAINER_NAME: "app"}
    assert keys.container_hash(c) == keys.container_hash(msgspec.convert(msgspec.to_builtins(c), type(c)))
