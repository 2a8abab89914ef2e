"""The Runtime contract, as tests: every Runtime implementation must pass all of these.

A test module subclasses ``RuntimeContract`` and provides a ``harness`` fixture (a
``Harness``): the runtime under test plus what the suite needs to know about its world (a
local image, a pullable one if a registry exists, where logs go). The fake runs these in
``tests/unit/agent/kubelet/cri_contract``; real containerd runs them in
``tests/integration/agent/cri``. Commands are those both busybox and ``fakeshell`` understand.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

from agent.kubelet.cri import (
    AlreadyExistsError,
    ContainerConfig,
    ContainerState,
    CRIError,
    DeadlineExceededError,
    FailedPreconditionError,
    ImagePullError,
    InvalidArgumentError,
    NotFoundError,
    Runtime,
    SandboxConfig,
    SandboxState,
)

T = TypeVar("T")

BUSYBOX = "localhost/busybox:latest"
CRI_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) (stdout|stderr) ([FP]) (.*)$")


@dataclass
class Harness:
    runtime: Runtime
    log_root: Path
    # A second client on the same runtime state (a restarted agent); the same object for the fake.
    reconnect: Callable[[], Awaitable[Runtime]]
    # Cut the node's power and restore it; returns when the runtime answers again.
    power_cycle: Callable[[], Awaitable[None]]
    busybox: str = BUSYBOX
    unpullable: str = "127.0.0.1:1/picluster/nosuch:1"
    pullable: str | None = None
    # An image that a test may delete (not shared with other tests), or None to skip that test.
    removable_image: str | None = None
    sandboxes: list[str] = field(default_factory=list)

    def sandbox_config(self, **overrides: object) -> SandboxConfig:
        name = f"t-{uuid.uuid4().hex[:10]}"
        kw: dict[str, object] = {
            "name": name,
            "uid": uuid.uuid4().hex,
            "namespace": "contract",
            "hostname": name,
            "log_directory": str(self.log_root / name),
            "labels": {"picluster.io/test": "contract", "pod": name},
        }
        kw.update(overrides)
        return SandboxConfig(**kw)  # type: ignore[arg-type]

    async def run_sandbox(self, **overrides: object) -> tuple[str, SandboxConfig]:
        config = self.sandbox_config(**overrides)
        sid = await self.runtime.run_sandbox(config)
        self.sandboxes.append(sid)
        return sid, config

    async def cleanup(self) -> None:
        for sid in self.sandboxes:
            await self.runtime.stop_sandbox(sid)
            await self.runtime.remove_sandbox(sid)

    def container(self, name: str, command: Sequence[str], **kw: object) -> ContainerConfig:
        return ContainerConfig(
            name=name,
            image=self.busybox,
            command=tuple(command),
            log_path=f"{name}/0.log",
            **kw,  # type: ignore[arg-type]
        )

    async def start(
        self, sid: str, sconfig: SandboxConfig, name: str, command: Sequence[str], **kw: object
    ) -> str:
        cid = await self.runtime.create_container(sid, self.container(name, command, **kw), sconfig)
        await self.runtime.start_container(cid)
        return cid


async def eventually(check: Callable[[], Awaitable[T | None]], *, within: float = 30.0) -> T:
    """Poll ``check`` until it returns something truthy (generous: the machine is shared)."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.05)


async def wait_state(rt: Runtime, cid: str, state: ContainerState):  # type: ignore[no-untyped-def]
    async def check():  # type: ignore[no-untyped-def]
        st = await rt.container_status(cid)
        return st if st.state is state else None

    return await eventually(check)


def read_lines(path: str) -> list[str]:
    return Path(path).read_text().splitlines()


def read_text(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def rotate(log: Path) -> Path:
    """Move a log away as the kubelet's log rotation does; the new name."""
    rotated = log.with_name(log.name + ".1")
    log.rename(rotated)
    return rotated


class RuntimeContract:
    # Runtime

    async def test_version_names_the_runtime(self, harness: Harness) -> None:
        v = await harness.runtime.version()
        assert v.runtime_name and v.runtime_version
        assert v.runtime_api_version == "v1"
        assert v.node_string == f"{v.runtime_name}://{v.runtime_version}"

    async def test_status_is_ready(self, harness: Harness) -> None:
        st = await harness.runtime.status()
        assert st.runtime_ready and st.network_ready

    # Sandboxes

    async def test_sandbox_lifecycle(self, harness: Harness) -> None:
        rt = harness.runtime
        sid, config = await harness.run_sandbox(annotations={"note": "kept verbatim"})
        st = await rt.sandbox_status(sid)
        assert (st.id, st.name, st.uid, st.namespace, st.attempt) == (
            sid,
            config.name,
            config.uid,
            "contract",
            0,
        )
        assert st.state is SandboxState.READY
        assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", st.ip)
        assert not st.host_network
        assert st.labels == config.labels and st.annotations == {"note": "kept verbatim"}
        assert st.created_at > 0
        assert sid in {s.id for s in await rt.list_sandboxes()}

        await rt.stop_sandbox(sid)
        st = await rt.sandbox_status(sid)
        assert st.state is SandboxState.NOTREADY
        assert st.ip == ""
        await rt.stop_sandbox(sid)  # idempotent

        await rt.remove_sandbox(sid)
        with pytest.raises(NotFoundError):
            await rt.sandbox_status(sid)
        assert sid not in {s.id for s in await rt.list_sandboxes()}
        await rt.remove_sandbox(sid)  # idempotent

    async def test_unknown_sandbox(self, harness: Harness) -> None:
        rt = harness.runtime
        unknown = "f" * 64
        with pytest.raises(NotFoundError):
            await rt.sandbox_status(unknown)
        await rt.stop_sandbox(unknown)
        await rt.remove_sandbox(unknown)

    async def test_sandbox_name_is_reserved_until_removed(self, harness: Harness) -> None:
        rt = harness.runtime
        sid, config = await harness.run_sandbox()
        with pytest.raises(AlreadyExistsError):
            await rt.run_sandbox(config)
        await rt.stop_sandbox(sid)
        with pytest.raises(AlreadyExistsError):
            await rt.run_sandbox(config)
        # The next attempt is a different name: that is how a kubelet replaces a dead sandbox.
        harness.sandboxes.append(await rt.run_sandbox(SandboxConfig(**{**_fields(config), "attempt": 1})))
        await rt.remove_sandbox(sid)
        harness.sandboxes.append(await rt.run_sandbox(config))

    async def test_host_network_sandbox_has_no_pod_ip(self, harness: Harness) -> None:
        sid, _ = await harness.run_sandbox(host_network=True, hostname="")
        st = await harness.runtime.sandbox_status(sid)
        assert st.host_network and st.ip == "" and st.state is SandboxState.READY

    async def test_host_network_sandbox_cannot_set_a_hostname(self, harness: Harness) -> None:
        # runc: "unable to set hostname without a private UTS namespace" (the node's is shared).
        with pytest.raises(CRIError):
            await harness.run_sandbox(host_network=True, hostname="web")

    async def test_list_sandboxes_filters(self, harness: Harness) -> None:
        rt = harness.runtime
        a, ca = await harness.run_sandbox()
        b, cb = await harness.run_sandbox()
        await rt.stop_sandbox(b)
        ready = {s.id for s in await rt.list_sandboxes(state=SandboxState.READY)}
        notready = {s.id for s in await rt.list_sandboxes(state=SandboxState.NOTREADY)}
        assert a in ready and b not in ready
        assert b in notready and a not in notready
        only_a = await rt.list_sandboxes(labels={"pod": ca.name})
        assert [s.id for s in only_a] == [a]
        row = only_a[0]
        assert (row.name, row.uid, row.namespace, row.attempt, row.state) == (
            ca.name,
            ca.uid,
            "contract",
            0,
            SandboxState.READY,
        )
        assert row.labels == ca.labels
        assert await rt.list_sandboxes(labels={"pod": cb.name, "picluster.io/test": "other"}) == []

    # Containers

    async def test_container_lifecycle(self, harness: Harness) -> None:
        rt = harness.runtime
        sid, sc = await harness.run_sandbox()
        config = harness.container("app", ["sleep", "3600"], labels={"c": "app"}, annotations={"hash": "1"})
        cid = await rt.create_container(sid, config, sc)
        st = await rt.container_status(cid)
        assert st.state is ContainerState.CREATED
        assert (st.id, st.name, st.attempt) == (cid, "app", 0)
        assert st.created_at > 0 and st.started_at == 0 and st.finished_at == 0
        assert st.labels == {"c": "app"} and st.annotations == {"hash": "1"}
        assert st.log_path == str(Path(sc.log_directory) / "app/0.log")
        assert st.image == harness.busybox and st.image_ref.startswith("sha256:")

        await rt.start_container(cid)
        st = await rt.container_status(cid)
        assert st.state is ContainerState.RUNNING and st.started_at >= st.created_at

        await rt.stop_container(cid, grace_period=0)
        st = await rt.container_status(cid)
        assert st.state is ContainerState.EXITED
        assert st.exit_code == 137 and st.reason == "Error"
        assert st.finished_at >= st.started_at
        await rt.stop_container(cid, grace_period=0)  # idempotent

        await rt.remove_container(cid)
        with pytest.raises(NotFoundError):
            await rt.container_status(cid)
        await rt.remove_container(cid)  # idempotent
        await rt.stop_container(cid, grace_period=0)

    @pytest.mark.parametrize(
        ("command", "code", "reason"),
        [
            pytest.param(["sh", "-c", "echo hello; echo oops >&2; exit 3"], 3, "Error", id="exit-3"),
            pytest.param(["true"], 0, "Completed", id="true"),
            pytest.param(["false"], 1, "Error", id="false"),
        ],
    )
    async def test_exit_code_and_reason(
        self, harness: Harness, command: list[str], code: int, reason: str
    ) -> None:
        sid, sc = await harness.run_sandbox()
        cid = await harness.start(sid, sc, "job", command)
        st = await wait_state(harness.runtime, cid, ContainerState.EXITED)
        assert (st.exit_code, st.reason) == (code, reason)
        # Both set, but not ordered: containerd stamps a process that exits at once with a
        # finished_at up to a millisecond before its started_at.
        assert st.started_at > 0 and st.finished_at > 0

    async def test_logs_are_in_cri_format(self, harness: Harness) -> None:
        sid, sc = await harness.run_sandbox()
        cid = await harness.start(sid, sc, "talker", ["sh", "-c", "echo hello world; echo oops >&2"])
        st = await wait_state(harness.runtime, cid, ContainerState.EXITED)
        lines = read_lines(st.log_path)
        parsed = [m.groups()[1:] for m in map(CRI_LINE.match, lines) if m]
        assert len(parsed) == len(lines) == 2
        assert sorted(parsed) == [("stderr", "F", "oops"), ("stdout", "F", "hello world")]

    async def test_reopen_container_log_after_rotation(self, harness: Harness) -> None:
        rt = harness.runtime
        sid, sc = await harness.run_sandbox()
        cid = await harness.start(sid, sc, "talker", ["sh", "-c", "echo one; sleep 2; echo two; sleep 3600"])
        log = Path((await rt.container_status(cid)).log_path)

        async def said_one() -> bool:
            return "one" in read_text(log)

        await eventually(said_one)
        rotated = rotate(log)
        await rt.reopen_container_log(cid)

        async def said_two() -> bool:
            return "two" in read_text(log)

        await eventually(said_two)
        assert "two" not in read_text(rotated) and "one" not in read_text(log)
        done = await harness.start(sid, sc, "done", ["true"])
        await wait_state(rt, done, ContainerState.EXITED)
        with pytest.raises(FailedPreconditionError):
            await rt.reopen_container_log(done)

    async def test_start_needs_a_created_container(self, harness: Harness) -> None:
        rt = harness.runtime
        sid, sc = await harness.run_sandbox()
        running = await harness.start(sid, sc, "a", ["sleep", "3600"])
        with pytest.raises(FailedPreconditionError):
            await rt.start_container(running)
        done = await harness.start(sid, sc, "b", ["true"])
        await wait_state(rt, done, ContainerState.EXITED)
        with pytest.raises(FailedPreconditionError):
            await rt.start_container(done)
        with pytest.raises(NotFoundError):
            await rt.start_container("e" * 64)

    async def test_create_needs_image_and_ready_sandbox(self, harness: Harness) -> None:
        rt = harness.runtime
        sid, sc = await harness.run_sandbox()
        with pytest.raises(NotFoundError):
            await rt.create_container(sid, ContainerConfig(name="x", image="localhost/nosuch:1"), sc)
        with pytest.raises(NotFoundError):
            await rt.create_container("d" * 64, harness.container("x", ["true"]), sc)
        await rt.stop_sandbox(sid)
        with pytest.raises(NotFoundError):
            await rt.create_container(sid, harness.container("x", ["true"]), sc)

    async def test_container_name_is_reserved_per_attempt(self, harness: Harness) -> None:
        rt = harness.runtime
        sid, sc = await harness.run_sandbox()
        first = await rt.create_container(sid, harness.container("app", ["true"]), sc)
        with pytest.raises(AlreadyExistsError):
            await rt.create_container(sid, harness.container("app", ["true"]), sc)
        second = await rt.create_container(sid, harness.container("app", ["true"], attempt=1), sc)
        assert (await rt.container_status(second)).attempt == 1
        await rt.remove_container(first)
        await rt.create_container(sid, harness.container("app", ["true"]), sc)

    async def test_invalid_configs_are_refused(self, harness: Harness) -> None:
        rt = harness.runtime
        with pytest.raises(InvalidArgumentError):
            await rt.run_sandbox(SandboxConfig(name="", uid="u", namespace="n"))
        sid, sc = await harness.run_sandbox()
        with pytest.raises(InvalidArgumentError):
            await rt.create_container(sid, ContainerConfig(name="", image=harness.busybox), sc)
        with pytest.raises(InvalidArgumentError):
            await rt.create_container(sid, ContainerConfig(name="x", image="Not An Image"), sc)

    async def test_stop_waits_the_grace_period_then_kills(self, harness: Harness) -> None:
        rt = harness.runtime
        sid, sc = await harness.run_sandbox()
        stubborn = await harness.start(sid, sc, "stubborn", ["sleep", "3600"])
        polite = await harness.start(sid, sc, "polite", ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"])
        await wait_state(rt, polite, ContainerState.RUNNING)
        await asyncio.sleep(0.2)  # let the shell install its trap
        await asyncio.gather(
            rt.stop_container(stubborn, grace_period=1), rt.stop_container(polite, grace_period=30)
        )
        s, p = await rt.container_status(stubborn), await rt.container_status(polite)
        assert (s.state, s.exit_code, s.reason) == (ContainerState.EXITED, 137, "Error")
        assert (p.state, p.exit_code, p.reason) == (ContainerState.EXITED, 0, "Completed")

    async def test_stop_sandbox_kills_its_containers(self, harness: Harness) -> None:
        rt = harness.runtime
        sid, sc = await harness.run_sandbox()
        cid = await harness.start(sid, sc, "app", ["sleep", "3600"])
        await rt.stop_sandbox(sid)
        st = await rt.container_status(cid)
        assert st.state is ContainerState.EXITED and st.exit_code != 0

    async def test_remove_sandbox_removes_its_containers(self, harness: Harness) -> None:
        rt = harness.runtime
        sid, sc = await harness.run_sandbox()
        cid = await harness.start(sid, sc, "app", ["sleep", "3600"])
        await rt.remove_sandbox(sid)  # running containers are killed first
        with pytest.raises(NotFoundError):
            await rt.container_status(cid)
        assert await rt.list_containers(sandbox_id=sid) == []

    async def test_remove_running_container(self, harness: Harness) -> None:
        rt = harness.runtime
        sid, sc = await harness.run_sandbox()
        cid = await harness.start(sid, sc, "app", ["sleep", "3600"])
        await rt.remove_container(cid)
        with pytest.raises(NotFoundError):
            await rt.container_status(cid)

    async def test_list_containers_filters(self, harness: Harness) -> None:
        rt = harness.runtime
        sid, sc = await harness.run_sandbox()
        other, osc = await harness.run_sandbox()
        running = await harness.start(sid, sc, "run", ["sleep", "3600"], labels={"role": "server"})
        created = await rt.create_container(
            sid, harness.container("new", ["true"], labels={"role": "job"}), sc
        )
        elsewhere = await harness.start(other, osc, "run", ["sleep", "3600"], labels={"role": "server"})
        assert {c.id for c in await rt.list_containers(sandbox_id=sid)} == {running, created}
        assert {c.id for c in await rt.list_containers(sandbox_id=sid, state=ContainerState.CREATED)} == {
            created
        }
        servers = {c.id for c in await rt.list_containers(labels={"role": "server"})}
        assert {running, elsewhere} <= servers and created not in servers
        (row,) = await rt.list_containers(sandbox_id=other)
        assert (row.id, row.sandbox_id, row.name, row.attempt, row.state) == (
            elsewhere,
            other,
            "run",
            0,
            ContainerState.RUNNING,
        )
        assert row.image == harness.busybox and row.image_ref.startswith("sha256:")
        assert row.labels == {"role": "server"} and row.created_at > 0

    async def test_a_new_client_sees_the_same_state(self, harness: Harness) -> None:
        sid, sc = await harness.run_sandbox()
        cid = await harness.start(sid, sc, "app", ["sleep", "3600"], labels={"pod-uid": sc.uid})
        again = await harness.reconnect()
        (sandbox,) = await again.list_sandboxes(labels={"pod": sc.name})
        assert (sandbox.id, sandbox.uid, sandbox.state) == (sid, sc.uid, SandboxState.READY)
        (container,) = await again.list_containers(labels={"pod-uid": sc.uid})
        assert (container.id, container.sandbox_id, container.state) == (cid, sid, ContainerState.RUNNING)

    async def test_after_a_power_cycle(self, harness: Harness) -> None:
        rt = harness.runtime
        sid, sc = await harness.run_sandbox()
        running = await harness.start(sid, sc, "app", ["sleep", "3600"])
        created = await rt.create_container(sid, harness.container("new", ["true"]), sc)
        await harness.power_cycle()
        # Nothing runs, nothing is forgotten: the kubelet relists, then removes and recreates.
        st = await rt.sandbox_status(sid)
        assert (st.state, st.ip) == (SandboxState.NOTREADY, "")
        r = await rt.container_status(running)
        assert (r.state, r.exit_code, r.reason) == (ContainerState.EXITED, 255, "Unknown")
        assert (await rt.container_status(created)).state is ContainerState.CREATED
        await rt.remove_sandbox(sid)
        sid2, _ = await harness.run_sandbox()
        assert (await rt.sandbox_status(sid2)).state is SandboxState.READY

    # Exec

    async def test_exec_sync(self, harness: Harness) -> None:
        rt = harness.runtime
        sid, sc = await harness.run_sandbox()
        cid = await harness.start(sid, sc, "app", ["sleep", "3600"], env={"GREETING": "hi there"})
        r = await rt.exec_sync(cid, ["sh", "-c", "echo $GREETING; echo err >&2; exit 4"], timeout_seconds=10)
        assert (r.stdout, r.stderr, r.exit_code) == (b"hi there\n", b"err\n", 4)
        r = await rt.exec_sync(cid, ["true"], timeout_seconds=10)
        assert (r.stdout, r.stderr, r.exit_code) == (b"", b"", 0)

    async def test_exec_sync_timeout(self, harness: Harness) -> None:
        sid, sc = await harness.run_sandbox()
        cid = await harness.start(sid, sc, "app", ["sleep", "3600"])
        with pytest.raises(DeadlineExceededError):
            await harness.runtime.exec_sync(cid, ["sleep", "30"], timeout_seconds=1)

    async def test_exec_sync_needs_a_running_container(self, harness: Harness) -> None:
        rt = harness.runtime
        sid, sc = await harness.run_sandbox()
        created = await rt.create_container(sid, harness.container("new", ["sleep", "3600"]), sc)
        with pytest.raises(FailedPreconditionError):
            await rt.exec_sync(created, ["true"], timeout_seconds=5)
        done = await harness.start(sid, sc, "done", ["true"])
        await wait_state(rt, done, ContainerState.EXITED)
        with pytest.raises(FailedPreconditionError):
            await rt.exec_sync(done, ["true"], timeout_seconds=5)
        with pytest.raises(NotFoundError):
            await rt.exec_sync("c" * 64, ["true"], timeout_seconds=5)
        with pytest.raises(InvalidArgumentError):
            await rt.exec_sync(created, [], timeout_seconds=5)

    # Images

    async def test_image_status_and_list(self, harness: Harness) -> None:
        rt = harness.runtime
        img = await rt.image_status(harness.busybox)
        assert img is not None and img.id.startswith("sha256:") and img.size > 0
        assert harness.busybox in img.repo_tags
        assert await rt.image_status(img.id) == img
        listed = {i.id: i for i in await rt.list_images()}
        assert harness.busybox in listed[img.id].repo_tags
        assert await rt.image_status("localhost/nosuch:1") is None
        # Short names are docker.io names, not ours.
        assert await rt.image_status("busybox") is None
        with pytest.raises(InvalidArgumentError):
            await rt.image_status("Not An Image")

    async def test_pull_failure_is_err_image_pull(self, harness: Harness) -> None:
        with pytest.raises(ImagePullError) as info:
            await harness.runtime.pull_image(harness.unpullable)
        assert info.value.image == harness.unpullable and info.value.message

    async def test_pull_image(self, harness: Harness) -> None:
        if harness.pullable is None:
            pytest.skip("no registry reachable from this runtime")
        rt = harness.runtime
        ref = await rt.pull_image(harness.pullable)
        img = await rt.image_status(harness.pullable)
        assert img is not None and img.id == ref

    async def test_remove_image(self, harness: Harness) -> None:
        rt = harness.runtime
        await rt.remove_image("localhost/nosuch:1")  # idempotent
        if harness.removable_image is None:
            pytest.skip("no image this test may delete")
        assert await rt.image_status(harness.removable_image) is not None
        await rt.remove_image(harness.removable_image)
        assert await rt.image_status(harness.removable_image) is None
        assert await rt.image_status(harness.busybox) is not None

    async def test_image_fs_info(self, harness: Harness) -> None:
        (fs, *_) = await harness.runtime.image_fs_info()
        assert fs.mountpoint and fs.used_bytes > 0

    # Stats

    async def test_container_stats(self, harness: Harness) -> None:
        rt = harness.runtime
        sid, sc = await harness.run_sandbox()
        cid = await harness.start(sid, sc, "app", ["sleep", "3600"], labels={"k": "v"})
        created = await rt.create_container(sid, harness.container("new", ["true"]), sc)
        s = await rt.container_stats(cid)
        assert (s.id, s.name, s.attempt, s.labels) == (cid, "app", 0, {"k": "v"})
        assert s.cpu_usage_core_nanoseconds is not None and s.memory_working_set_bytes is not None
        idle = await rt.container_stats(created)
        assert idle.cpu_usage_core_nanoseconds is None and idle.memory_working_set_bytes is None
        assert {x.id for x in await rt.list_container_stats(sandbox_id=sid)} == {cid, created}
        assert [x.id for x in await rt.list_container_stats(labels={"k": "v"}) if x.id in (cid, created)] == [
            cid
        ]
        with pytest.raises(NotFoundError):
            await rt.container_stats("b" * 64)


def _fields(config: SandboxConfig) -> dict[str, object]:
    return {f: getattr(config, f) for f in config.__dataclass_fields__}
