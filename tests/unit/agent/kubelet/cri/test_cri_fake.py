"""FakeRuntime's own behaviour: the clock, the fault hooks and the bookkeeping tests rely on.

What it shares with containerd is in the contract suite (tests/unit/agent/kubelet/cri_contract).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.kubelet.cri import (
    ContainerConfig,
    ContainerState,
    CRIError,
    DeadlineExceededError,
    ExecResult,
    ImagePullError,
    NotFoundError,
    SandboxConfig,
    UnavailableError,
)
from agent.kubelet.cri.fake import FakeImage, FakeRuntime
from master.util.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1_700_000_000.0)


@pytest.fixture
async def rt(clock: FakeClock) -> AsyncIterator[FakeRuntime]:
    runtime = FakeRuntime(clock=clock)
    yield runtime
    await runtime.close()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def pod(tmp_path: Path, name: str = "web") -> SandboxConfig:
    return SandboxConfig(
        name=name, uid=f"uid-{name}", namespace="default", hostname=name, log_directory=str(tmp_path / name)
    )


async def started(rt: FakeRuntime, tmp_path: Path, command: tuple[str, ...] = (), **kw: object) -> str:
    sc = pod(tmp_path)
    sid = await rt.run_sandbox(sc)
    cid = await rt.create_container(
        sid,
        ContainerConfig(
            name="app", image="localhost/busybox:latest", command=command, log_path="app/0.log", **kw
        ),  # type: ignore[arg-type]
        sc,
    )
    await rt.start_container(cid)
    await settle()
    return cid


async def test_sleep_runs_on_the_fake_clock(rt: FakeRuntime, clock: FakeClock, tmp_path: Path) -> None:
    cid = await started(rt, tmp_path, ("sh", "-c", "sleep 60; exit 5"))
    await clock.advance(59)
    assert (await rt.container_status(cid)).state is ContainerState.RUNNING
    await clock.advance(1)
    st = await rt.container_status(cid)
    assert (st.state, st.exit_code, st.reason) == (ContainerState.EXITED, 5, "Error")
    assert st.finished_at - st.started_at == 60 * 10**9


async def test_stop_grace_period_runs_on_the_fake_clock(
    rt: FakeRuntime, clock: FakeClock, tmp_path: Path
) -> None:
    cid = await started(rt, tmp_path, ("sleep", "3600"))
    stop = asyncio.create_task(rt.stop_container(cid, grace_period=30))
    await settle()
    await clock.advance(29)
    assert not stop.done()
    await clock.advance(1)
    await stop
    st = await rt.container_status(cid)
    assert (st.exit_code, st.finished_at - st.started_at) == (137, 30 * 10**9)


async def test_a_program_that_ends_during_the_grace_period_keeps_its_code(
    rt: FakeRuntime, clock: FakeClock, tmp_path: Path
) -> None:
    cid = await started(rt, tmp_path, ("sh", "-c", "sleep 5; exit 0"))
    stop = asyncio.create_task(rt.stop_container(cid, grace_period=30))
    await settle()
    await clock.advance(5)
    await stop
    assert (await rt.container_status(cid)).reason == "Completed"


async def test_the_image_decides_what_runs(rt: FakeRuntime, tmp_path: Path) -> None:
    rt.add_image(FakeImage("localhost/job:1", entrypoint=("sh", "-c"), cmd=("exit 9",)))
    sc = pod(tmp_path)
    sid = await rt.run_sandbox(sc)
    default = await rt.create_container(sid, ContainerConfig(name="a", image="localhost/job:1"), sc)
    args_only = await rt.create_container(
        sid, ContainerConfig(name="b", image="localhost/job:1", args=("exit 4",)), sc
    )
    command = await rt.create_container(
        sid, ContainerConfig(name="c", image="localhost/job:1", command=("true",)), sc
    )
    for cid in (default, args_only, command):
        await rt.start_container(cid)
    await settle()
    codes = [(await rt.container_status(c)).exit_code for c in (default, args_only, command)]
    assert codes == [9, 4, 0]


async def test_web_image_stops_on_term_and_sees_its_hostname(rt: FakeRuntime, tmp_path: Path) -> None:
    sc = pod(tmp_path, "web-7")
    sid = await rt.run_sandbox(sc)
    cid = await rt.create_container(sid, ContainerConfig(name="web", image="localhost/web:2"), sc)
    await rt.start_container(cid)
    r = await rt.exec_sync(cid, ["sh", "-c", "echo $VERSION $HOSTNAME"], timeout_seconds=1)
    assert r.stdout == b"2 web-7\n"
    await rt.stop_container(cid, grace_period=30)
    st = await rt.container_status(cid)
    assert (st.state, st.exit_code) == (ContainerState.EXITED, 0)


async def test_exit_container_and_oom(rt: FakeRuntime, tmp_path: Path) -> None:
    cid = await started(rt, tmp_path, ("sleep", "3600"))
    rt.exit_container(cid, 137, oom=True, message="memory limit")
    st = await rt.container_status(cid)
    assert (st.state, st.exit_code, st.reason, st.message) == (
        ContainerState.EXITED,
        137,
        "OOMKilled",
        "memory limit",
    )


async def test_fail_next_and_unavailable(rt: FakeRuntime, tmp_path: Path) -> None:
    rt.fail_next("pull_image", ImagePullError("x", "registry on fire"))
    rt.add_remote_image("nginx")
    with pytest.raises(ImagePullError, match="registry on fire"):
        await rt.pull_image("nginx")
    assert await rt.pull_image("nginx")  # only the next call fails
    rt.unavailable = True
    with pytest.raises(UnavailableError):
        await rt.version()
    rt.unavailable = False
    rt.network_ready = False
    status = await rt.status()
    assert status.runtime_ready and not status.network_ready
    assert status.condition("NetworkReady").reason == "NetworkPluginNotReady"  # type: ignore[union-attr]


async def test_exec_handler_answers_probes(rt: FakeRuntime, tmp_path: Path) -> None:
    cid = await started(rt, tmp_path, ("sleep", "3600"))
    answers = iter([ExecResult(b"ok", b"", 0), None])
    rt.exec_handler = lambda _cid, _cmd: next(answers)
    assert (await rt.exec_sync(cid, ["check"], timeout_seconds=1)).stdout == b"ok"
    # None falls through to the shell; an unknown program succeeds silently.
    assert await rt.exec_sync(cid, ["check"], timeout_seconds=1) == ExecResult(b"", b"", 0)


async def test_exec_timeout_runs_on_the_fake_clock(rt: FakeRuntime, clock: FakeClock, tmp_path: Path) -> None:
    cid = await started(rt, tmp_path, ("sleep", "3600"))
    probe = asyncio.create_task(rt.exec_sync(cid, ["sleep", "10"], timeout_seconds=2))
    await settle()
    await clock.advance(2)
    with pytest.raises(DeadlineExceededError):
        await probe


async def test_stats(rt: FakeRuntime, clock: FakeClock, tmp_path: Path) -> None:
    cid = await started(rt, tmp_path, ("sleep", "3600"))
    rt.set_stats(cid, cpu_nano_cores=250_000_000, memory_working_set_bytes=32 << 20)
    await clock.advance(4)
    s = await rt.container_stats(cid)
    assert (s.cpu_usage_nano_cores, s.cpu_usage_core_nanoseconds, s.memory_working_set_bytes) == (
        250_000_000,
        10**9,
        32 << 20,
    )


async def test_calls_are_recorded(rt: FakeRuntime, tmp_path: Path) -> None:
    sc = pod(tmp_path)
    sid = await rt.run_sandbox(sc)
    await rt.list_sandboxes()
    await rt.stop_sandbox(sid)
    assert rt.calls == [("run_sandbox", "web"), ("list_sandboxes", None), ("stop_sandbox", sid)]


async def test_logs_carry_the_clock_time(rt: FakeRuntime, tmp_path: Path) -> None:
    await started(rt, tmp_path, ("sh", "-c", "echo one; echo two"))
    text = (tmp_path / "web/app/0.log").read_text()
    assert text == "2023-11-14T22:13:20.000000Z stdout F one\n2023-11-14T22:13:20.000000Z stdout F two\n"


async def test_pull_then_remove(rt: FakeRuntime) -> None:
    with pytest.raises(ImagePullError):
        await rt.pull_image("nginx:1.25")
    rt.add_remote_image(FakeImage("docker.io/library/nginx:1.25", size=10))
    image_id = await rt.pull_image("nginx:1.25")
    img = await rt.image_status("docker.io/library/nginx:1.25")
    assert img is not None and img.id == image_id and img.repo_tags == ("docker.io/library/nginx:1.25",)
    await rt.remove_image(image_id)
    assert await rt.image_status("nginx:1.25") is None


async def test_sandbox_ips_come_from_the_pod_cidr(tmp_path: Path) -> None:
    rt = FakeRuntime(pod_cidr="10.244.3.0/24")
    a = await rt.run_sandbox(pod(tmp_path, "a"))
    b = await rt.run_sandbox(pod(tmp_path, "b"))
    assert [(await rt.sandbox_status(s)).ip for s in (a, b)] == ["10.244.3.2", "10.244.3.3"]


async def test_unknown_container(rt: FakeRuntime) -> None:
    with pytest.raises(NotFoundError):
        rt.exit_container("nope", 1)


async def test_pod_ips_are_released_on_stop(tmp_path: Path) -> None:
    rt = FakeRuntime(pod_cidr="10.244.9.0/30")  # room for one pod: .1 is the gateway
    first = await rt.run_sandbox(pod(tmp_path, "a"))
    with pytest.raises(CRIError, match="no IP addresses available"):
        await rt.run_sandbox(pod(tmp_path, "b"))
    await rt.stop_sandbox(first)
    second = await rt.run_sandbox(pod(tmp_path, "c"))
    assert (await rt.sandbox_status(second)).ip == "10.244.9.2"
