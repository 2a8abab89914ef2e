"""FakeRuntime: the ``Runtime`` in memory, for fast tests of pod workers, probes and relists.

It keeps containerd's rules (the contract suite runs against both): names stay reserved until
removal, containers go created -> running -> exited, stop and remove are idempotent, images must
be present to create a container, and pulls only find images in the fake registry.

Containers "run" a tiny shell (``fakeshell``): ``sh -c "echo hi; exit 3"`` writes "hi" to the
container's CRI log file and exits 3 (reason "Error"); ``sleep 3600`` runs for an hour of the
fake's clock; any unknown program (a server) runs until stopped. TERM is ignored unless the
script traps it (PID 1 semantics), so ``stop_container(grace_period=30)`` of ``sleep 3600``
takes 30 s of clock time and ends with 137. Pass a ``FakeClock`` to move time by hand.

Fault hooks, for tests::

    rt.exit_container(cid, 1)              # the process dies with 1 ("Error")
    rt.exit_container(cid, 137, oom=True)  # "OOMKilled"
    rt.fail_next("pull_image", ImagePullError(...))   # the next call of that operation raises
    rt.unavailable = True                  # every call raises UnavailableError (containerd down)
    rt.network_ready = False               # status() reports NetworkReady false
    rt.power_cycle()                       # the node rebooted: containers 255 "Unknown", sandboxes NOTREADY
    rt.add_remote_image("docker.io/library/nginx:1.25")   # pullable from now on
    rt.exec_handler = lambda cid, cmd: ExecResult(b"ok", b"", 0)   # answer exec probes
    rt.set_stats(cid, cpu_nano_cores=250_000_000, memory_working_set_bytes=32 << 20)

``rt.calls`` records every call as (operation, first argument) for assertions such as "the
restarted kubelet adopted the sandbox instead of running a second one".
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import ipaddress
import itertools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from agent.kubelet.cri import errors, fakeshell
from agent.kubelet.cri.reference import is_image_id, normalize_image
from agent.kubelet.cri.types import (
    Container,
    ContainerConfig,
    ContainerState,
    ContainerStats,
    ContainerStatus,
    ExecResult,
    FilesystemUsage,
    Image,
    RuntimeCondition,
    RuntimeStatus,
    RuntimeVersion,
    Sandbox,
    SandboxConfig,
    SandboxState,
    SandboxStatus,
)
from agent.kubelet.cri.validation import check_container_config, check_sandbox_config
from master.util.clock import Clock, RealClock
from master.util.tasks import cancel_and_wait

__all__ = ["FakeImage", "FakeRuntime"]

ExecHandler = Callable[[str, Sequence[str]], ExecResult | None]

_EXIT_KILLED = 137  # 128 + SIGKILL


@dataclass(frozen=True, slots=True)
class FakeImage:
    """An image the fake knows: its tag, what it runs, and how big it is."""

    ref: str
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    size: int = 1_028_669

    @property
    def id(self) -> str:
        return "sha256:" + hashlib.sha256(normalize_image(self.ref).encode()).hexdigest()


# What the testbed's images (hw/images) do, so pod-worker tests read like the e2e ones: pause and
# web exit 0 on TERM, busybox runs ``sh`` (which exits at once without stdin).
_TRAP = "trap 'exit 0' TERM INT"
DEFAULT_IMAGES = (
    FakeImage("localhost/pause:latest", entrypoint=("/bin/sh", "-c", f"{_TRAP}; sleep infinity")),
    FakeImage("localhost/busybox:latest", cmd=("sh",)),
    FakeImage(
        "localhost/web:1", entrypoint=("/bin/sh", "-c", f"{_TRAP}; httpd -f -p 8080"), env={"VERSION": "1"}
    ),
    FakeImage(
        "localhost/web:2", entrypoint=("/bin/sh", "-c", f"{_TRAP}; httpd -f -p 8080"), env={"VERSION": "2"}
    ),
)


@dataclass
class _Sandbox:
    id: str
    config: SandboxConfig
    state: SandboxState
    created_at: int
    ip: str


@dataclass
class _Container:
    id: str
    sandbox_id: str
    config: ContainerConfig
    image: FakeImage
    created_at: int
    log_path: str
    state: ContainerState = ContainerState.CREATED
    started_at: int = 0
    finished_at: int = 0
    exit_code: int = 0
    reason: str = ""
    message: str = ""
    program: fakeshell.Program | None = None
    task: asyncio.Task[None] | None = None
    stats: dict[str, int] = field(default_factory=dict)


class FakeRuntime:
    def __init__(
        self,
        *,
        clock: Clock | None = None,
        images: Sequence[FakeImage] = DEFAULT_IMAGES,
        pod_cidr: str = "10.244.0.0/24",
    ) -> None:
        self._clock = clock or RealClock()
        self._images: dict[str, FakeImage] = {}  # normalised tag -> image
        self._registry: dict[str, FakeImage] = {}
        for image in images:
            self._images[normalize_image(image.ref)] = image
        self._sandboxes: dict[str, _Sandbox] = {}
        self._containers: dict[str, _Container] = {}
        self._ids = itertools.count(1)
        self._pod_cidr = ipaddress.ip_network(pod_cidr)
        self._faults: dict[str, list[errors.CRIError]] = {}
        self.calls: list[tuple[str, Any]] = []
        self.unavailable = False
        self.network_ready = True
        self.exec_handler: ExecHandler | None = None

    # Fault hooks and test helpers

    def fail_next(self, operation: str, error: errors.CRIError) -> None:
        """The next call of ``operation`` (a method name such as "pull_image") raises ``error``."""
        self._faults.setdefault(operation, []).append(error)

    def add_remote_image(self, image: FakeImage | str) -> None:
        """Make an image pullable (the fake registry)."""
        img = FakeImage(image) if isinstance(image, str) else image
        self._registry[normalize_image(img.ref)] = img

    def add_image(self, image: FakeImage | str) -> None:
        """Put an image in the local store, as if imported."""
        img = FakeImage(image) if isinstance(image, str) else image
        self._images[normalize_image(img.ref)] = img

    def exit_container(
        self, container_id: str, exit_code: int, *, oom: bool = False, message: str = ""
    ) -> None:
        """The container's process ends now with ``exit_code`` (reason OOMKilled when ``oom``)."""
        c = self._container(container_id)
        if c.state is not ContainerState.RUNNING:
            raise errors.FailedPreconditionError(f"container {container_id} is in {c.state.value} state")
        self._finish(c, exit_code, reason="OOMKilled" if oom else None, message=message)

    def power_cycle(self) -> None:
        """The node lost power and came back: what containerd reports afterwards. Running
        containers are EXITED with 255 and reason "Unknown", created ones stay CREATED, and
        every sandbox is NOTREADY without an IP. Objects stay until the kubelet removes them."""
        for c in self._containers.values():
            self._finish(c, 255, reason="Unknown")
        for s in self._sandboxes.values():
            s.state = SandboxState.NOTREADY
            s.ip = ""

    def set_stats(self, container_id: str, **readings: int) -> None:
        """Readings for container_stats: cpu_nano_cores, cpu_core_nanoseconds, memory_working_set_bytes,
        memory_usage_bytes, writable_layer_bytes."""
        self._container(container_id).stats.update(readings)

    # Plumbing

    def _now(self) -> int:
        return int(self._clock.time() * 1e9)

    def _new_id(self) -> str:
        return hashlib.sha256(f"fake-{next(self._ids)}".encode()).hexdigest()

    def _enter(self, operation: str, arg: Any = None) -> None:
        self.calls.append((operation, arg))
        if self.unavailable:
            raise errors.UnavailableError("container runtime at fake:// is unavailable: connection refused")
        pending = self._faults.get(operation)
        if pending:
            raise pending.pop(0)

    def _container(self, container_id: str) -> _Container:
        c = self._containers.get(container_id)
        if c is None:
            raise errors.NotFoundError(
                f'an error occurred when try to find container "{container_id}": not found'
            )
        return c

    def _sandbox(self, sandbox_id: str) -> _Sandbox:
        s = self._sandboxes.get(sandbox_id)
        if s is None:
            raise errors.NotFoundError(
                f'an error occurred when try to find sandbox "{sandbox_id}": not found'
            )
        return s

    def _allocate_ip(self) -> str:
        """host-local's way: the lowest free address after the gateway (.1)."""
        used = {s.ip for s in self._sandboxes.values() if s.ip}
        for host in itertools.islice(self._pod_cidr.hosts(), 1, None):
            if str(host) not in used:
                return str(host)
        raise errors.CRIError(
            f"failed to setup network for sandbox: no IP addresses available in range set: {self._pod_cidr}"
        )

    def _find_image(self, ref: str) -> FakeImage | None:
        if is_image_id(ref):
            want = normalize_image(ref)
            return next((i for i in self._images.values() if i.id == want), None)
        return self._images.get(normalize_image(ref))

    async def close(self) -> None:
        tasks = [c.task for c in self._containers.values() if c.task is not None]
        await cancel_and_wait(tasks)

    # Runtime

    async def version(self) -> RuntimeVersion:
        self._enter("version")
        return RuntimeVersion(runtime_name="fake", runtime_version="0.1.0", runtime_api_version="v1")

    async def status(self) -> RuntimeStatus:
        self._enter("status")
        network = (
            RuntimeCondition("NetworkReady", True)
            if self.network_ready
            else RuntimeCondition(
                "NetworkReady",
                False,
                "NetworkPluginNotReady",
                "Network plugin returns error: cni plugin not initialized",
            )
        )
        return RuntimeStatus((RuntimeCondition("RuntimeReady", True), network))

    # Sandboxes

    async def run_sandbox(self, config: SandboxConfig) -> str:
        self._enter("run_sandbox", config.name)
        check_sandbox_config(config)
        if config.host_network and config.hostname:
            raise errors.CRIError(
                "failed to create containerd task: OCI runtime create failed: runc create failed: "
                "unable to set hostname without a private UTS namespace: unknown"
            )
        key = f"{config.name}_{config.namespace}_{config.uid}_{config.attempt}"
        for s in self._sandboxes.values():
            c = s.config
            if f"{c.name}_{c.namespace}_{c.uid}_{c.attempt}" == key:
                raise errors.AlreadyExistsError(
                    f'failed to reserve sandbox name "{key}": name "{key}" is reserved for "{s.id}"',
                    code="UNKNOWN",
                )
        sid = self._new_id()
        ip = "" if config.host_network else self._allocate_ip()
        self._sandboxes[sid] = _Sandbox(sid, config, SandboxState.READY, self._now(), ip)
        return sid

    async def stop_sandbox(self, sandbox_id: str) -> None:
        self._enter("stop_sandbox", sandbox_id)
        s = self._sandboxes.get(sandbox_id)
        if s is None:
            return
        for c in list(self._containers.values()):
            if c.sandbox_id == sandbox_id and c.state is ContainerState.RUNNING:
                self._finish(c, _EXIT_KILLED)
        s.state = SandboxState.NOTREADY
        s.ip = ""  # the CNI teardown releases it

    async def remove_sandbox(self, sandbox_id: str) -> None:
        self._enter("remove_sandbox", sandbox_id)
        if sandbox_id not in self._sandboxes:
            return
        for c in list(self._containers.values()):
            if c.sandbox_id == sandbox_id:
                self._drop(c)
        del self._sandboxes[sandbox_id]

    async def sandbox_status(self, sandbox_id: str) -> SandboxStatus:
        self._enter("sandbox_status", sandbox_id)
        s = self._sandbox(sandbox_id)
        c = s.config
        return SandboxStatus(
            id=s.id,
            name=c.name,
            uid=c.uid,
            namespace=c.namespace,
            attempt=c.attempt,
            state=s.state,
            created_at=s.created_at,
            ip=s.ip,
            host_network=c.host_network,
            labels=dict(c.labels),
            annotations=dict(c.annotations),
        )

    async def list_sandboxes(
        self, *, state: SandboxState | None = None, labels: Mapping[str, str] | None = None
    ) -> list[Sandbox]:
        self._enter("list_sandboxes")
        return [
            Sandbox(
                id=s.id,
                name=s.config.name,
                uid=s.config.uid,
                namespace=s.config.namespace,
                attempt=s.config.attempt,
                state=s.state,
                created_at=s.created_at,
                labels=dict(s.config.labels),
                annotations=dict(s.config.annotations),
            )
            for s in self._sandboxes.values()
            if (state is None or s.state is state) and _matches(s.config.labels, labels)
        ]

    # Containers

    async def create_container(
        self, sandbox_id: str, config: ContainerConfig, sandbox_config: SandboxConfig
    ) -> str:
        self._enter("create_container", config.name)
        check_container_config(config)
        check_sandbox_config(sandbox_config)
        s = self._sandboxes.get(sandbox_id)
        if s is None:
            raise errors.NotFoundError(f'failed to find sandbox id "{sandbox_id}": not found')
        if s.state is not SandboxState.READY:
            raise errors.NotFoundError(
                f"failed to get sandbox container task: no running task found: task {sandbox_id} not found"
            )
        image = self._find_image(config.image)
        if image is None:
            raise errors.NotFoundError(
                f'failed to resolve image "{normalize_image(config.image)}": not found'
            )
        sc = s.config
        key = f"{config.name}_{sc.name}_{sc.namespace}_{sc.uid}_{config.attempt}"
        for other in self._containers.values():
            oc = other.config
            if other.sandbox_id == sandbox_id and (oc.name, oc.attempt) == (config.name, config.attempt):
                raise errors.AlreadyExistsError(
                    f'failed to reserve container name "{key}": name "{key}" is reserved for "{other.id}"',
                    code="UNKNOWN",
                )
        cid = self._new_id()
        log_path = (
            os.path.join(sc.log_directory, config.log_path) if sc.log_directory and config.log_path else ""
        )
        self._containers[cid] = _Container(cid, sandbox_id, config, image, self._now(), log_path)
        return cid

    async def start_container(self, container_id: str) -> None:
        self._enter("start_container", container_id)
        c = self._container(container_id)
        if c.state is not ContainerState.CREATED:
            raise errors.FailedPreconditionError(
                f'failed to set starting state for container "{container_id}": container is in {c.state.value} state',
                code="UNKNOWN",
            )
        sandbox = self._sandboxes[c.sandbox_id]
        argv = (c.config.command or c.image.entrypoint) + (
            c.config.args or (() if c.config.command else c.image.cmd)
        )
        env = {**c.image.env, "HOSTNAME": sandbox.config.hostname, **c.config.env}
        c.program = fakeshell.parse(argv, env)
        c.state = ContainerState.RUNNING
        c.started_at = self._now()
        c.task = asyncio.get_running_loop().create_task(
            self._run(c, c.program), name=f"fake-container-{c.id[:12]}"
        )

    async def _run(self, c: _Container, program: fakeshell.Program) -> None:
        status = 0
        for step in program.steps:
            if isinstance(step, fakeshell.Output):
                self._log(c, step.stream, step.text)
            elif isinstance(step, fakeshell.Sleep):
                if math.isinf(step.seconds):
                    await asyncio.get_running_loop().create_future()
                await self._clock.sleep(step.seconds)
            elif isinstance(step, fakeshell.Status):
                status = step.code
            elif isinstance(step, fakeshell.Exit):
                status = step.code
                break
            else:
                await asyncio.get_running_loop().create_future()  # a server: runs until signalled
        self._finish(c, status)

    def _log(self, c: _Container, stream: str, text: str) -> None:
        if not c.log_path:
            return
        stamp = datetime.datetime.fromtimestamp(self._clock.time(), datetime.UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ"
        )
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        os.makedirs(os.path.dirname(c.log_path), exist_ok=True)
        with open(c.log_path, "a", encoding="utf-8") as f:
            for line in lines:
                f.write(f"{stamp} {stream} F {line}\n")

    def _finish(self, c: _Container, exit_code: int, *, reason: str | None = None, message: str = "") -> None:
        if c.state is not ContainerState.RUNNING:
            return
        c.state = ContainerState.EXITED
        c.exit_code = exit_code
        c.finished_at = self._now()
        c.reason = reason or ("Completed" if exit_code == 0 else "Error")
        c.message = message
        task, c.task = c.task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _drop(self, c: _Container) -> None:
        if c.state is ContainerState.RUNNING:
            self._finish(c, _EXIT_KILLED)
        del self._containers[c.id]

    async def stop_container(self, container_id: str, grace_period: float) -> None:
        self._enter("stop_container", container_id)
        c = self._containers.get(container_id)
        if c is None or c.state is not ContainerState.RUNNING:
            return
        term_exit = c.program.term_exit if c.program is not None else None
        if term_exit is not None:
            self._finish(c, term_exit)
            return
        seconds = max(0, math.ceil(grace_period))
        if seconds and c.task is not None:
            grace = asyncio.ensure_future(self._clock.sleep(seconds))
            try:
                await asyncio.wait({c.task, grace}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                grace.cancel()
        self._finish(c, _EXIT_KILLED)

    async def remove_container(self, container_id: str) -> None:
        self._enter("remove_container", container_id)
        c = self._containers.get(container_id)
        if c is not None:
            self._drop(c)

    async def container_status(self, container_id: str) -> ContainerStatus:
        self._enter("container_status", container_id)
        c = self._container(container_id)
        return ContainerStatus(
            id=c.id,
            name=c.config.name,
            attempt=c.config.attempt,
            state=c.state,
            created_at=c.created_at,
            started_at=c.started_at,
            finished_at=c.finished_at,
            exit_code=c.exit_code,
            reason=c.reason,
            message=c.message,
            image=c.config.image,
            image_ref=c.image.id,
            log_path=c.log_path,
            labels=dict(c.config.labels),
            annotations=dict(c.config.annotations),
        )

    async def list_containers(
        self,
        *,
        sandbox_id: str | None = None,
        state: ContainerState | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[Container]:
        self._enter("list_containers", sandbox_id)
        return [
            Container(
                id=c.id,
                sandbox_id=c.sandbox_id,
                name=c.config.name,
                attempt=c.config.attempt,
                image=c.config.image,
                image_ref=c.image.id,
                state=c.state,
                created_at=c.created_at,
                labels=dict(c.config.labels),
                annotations=dict(c.config.annotations),
            )
            for c in self._containers.values()
            if (sandbox_id is None or c.sandbox_id == sandbox_id)
            and (state is None or c.state is state)
            and _matches(c.config.labels, labels)
        ]

    async def reopen_container_log(self, container_id: str) -> None:
        self._enter("reopen_container_log", container_id)
        c = self._container(container_id)
        if c.state is not ContainerState.RUNNING:
            raise errors.FailedPreconditionError(f"container {container_id} is not running", code="UNKNOWN")
        # Nothing to do: every write opens the log path afresh.

    async def exec_sync(self, container_id: str, cmd: Sequence[str], timeout_seconds: float) -> ExecResult:
        self._enter("exec_sync", container_id)
        if not cmd:
            raise errors.InvalidArgumentError("exec_sync: cmd must not be empty")
        c = self._container(container_id)
        if c.state is not ContainerState.RUNNING:
            raise errors.FailedPreconditionError(
                f"failed to exec in container: container is in {c.state.value} state", code="UNKNOWN"
            )
        if self.exec_handler is not None:
            answer = self.exec_handler(container_id, cmd)
            if answer is not None:
                return answer
        env = {**c.image.env, "HOSTNAME": self._sandboxes[c.sandbox_id].config.hostname, **c.config.env}
        program = fakeshell.parse(cmd, env)
        out: dict[str, list[str]] = {"stdout": [], "stderr": []}
        status = 0
        budget = float(max(1, math.ceil(timeout_seconds)))
        for step in program.steps:
            if isinstance(step, fakeshell.Output):
                out[step.stream].append(step.text)
            elif isinstance(step, fakeshell.Status):
                status = step.code
            elif isinstance(step, fakeshell.Exit):
                status = step.code
                break
            elif isinstance(step, fakeshell.Sleep) and step.seconds < budget:
                await self._clock.sleep(step.seconds)
                budget -= step.seconds
            elif isinstance(step, fakeshell.Sleep):
                await self._clock.sleep(budget)
                raise errors.DeadlineExceededError(
                    f"exec_sync: failed to exec in container: timeout {math.ceil(timeout_seconds)}s exceeded: "
                    "context deadline exceeded"
                )
            # An unknown program in an exec (a probe's own check) succeeds silently.
        return ExecResult("".join(out["stdout"]).encode(), "".join(out["stderr"]).encode(), status)

    # Images

    async def list_images(self) -> list[Image]:
        self._enter("list_images")
        by_id: dict[str, list[str]] = {}
        sizes: dict[str, int] = {}
        for tag, image in self._images.items():
            by_id.setdefault(image.id, []).append(tag)
            sizes[image.id] = image.size
        return [Image(id=i, repo_tags=tuple(tags), size=sizes[i]) for i, tags in by_id.items()]

    async def image_status(self, image: str) -> Image | None:
        self._enter("image_status", image)
        normalize_image(image)
        found = self._find_image(image)
        if found is None:
            return None
        tags = tuple(t for t, i in self._images.items() if i.id == found.id)
        return Image(id=found.id, repo_tags=tags, size=found.size)

    async def pull_image(self, image: str, *, sandbox_config: SandboxConfig | None = None) -> str:
        self._enter("pull_image", image)
        ref = normalize_image(image)
        found = self._registry.get(ref)
        if found is None:
            raise errors.ImagePullError(
                image,
                f'failed to pull and unpack image "{ref}": failed to resolve reference "{ref}": not found',
            )
        self._images[ref] = replace(found, ref=ref)
        return found.id

    async def remove_image(self, image: str) -> None:
        self._enter("remove_image", image)
        normalize_image(image)
        found = self._find_image(image)
        if found is None:
            return
        for tag in [t for t, i in self._images.items() if i.id == found.id]:
            del self._images[tag]

    async def image_fs_info(self) -> list[FilesystemUsage]:
        self._enter("image_fs_info")
        used = sum({i.id: i.size for i in self._images.values()}.values())
        return [
            FilesystemUsage(
                mountpoint="/fake/io.containerd.snapshotter.v1.overlayfs",
                used_bytes=used,
                inodes_used=len(self._images),
                timestamp=self._now(),
            )
        ]

    # Stats

    def _stats(self, c: _Container) -> ContainerStats:
        if c.state is not ContainerState.RUNNING:
            # What containerd reports for a container without a running task: no readings.
            return ContainerStats(
                id=c.id,
                name=c.config.name,
                attempt=c.config.attempt,
                timestamp=0,
                writable_layer_bytes=0,
                labels=dict(c.config.labels),
                annotations=dict(c.config.annotations),
            )
        s = c.stats
        nano_cores = s.get("cpu_nano_cores", 0)
        return ContainerStats(
            id=c.id,
            name=c.config.name,
            attempt=c.config.attempt,
            timestamp=self._now(),
            cpu_usage_core_nanoseconds=s.get(
                "cpu_core_nanoseconds", (self._now() - c.started_at) * nano_cores // 1_000_000_000
            ),
            cpu_usage_nano_cores=nano_cores,
            memory_working_set_bytes=s.get("memory_working_set_bytes", 0),
            memory_usage_bytes=s.get("memory_usage_bytes", s.get("memory_working_set_bytes", 0)),
            writable_layer_bytes=s.get("writable_layer_bytes", 0),
            labels=dict(c.config.labels),
            annotations=dict(c.config.annotations),
        )

    async def container_stats(self, container_id: str) -> ContainerStats:
        self._enter("container_stats", container_id)
        return self._stats(self._container(container_id))

    async def list_container_stats(
        self, *, sandbox_id: str | None = None, labels: Mapping[str, str] | None = None
    ) -> list[ContainerStats]:
        self._enter("list_container_stats", sandbox_id)
        return [
            self._stats(c)
            for c in self._containers.values()
            if (sandbox_id is None or c.sandbox_id == sandbox_id) and _matches(c.config.labels, labels)
        ]


def _matches(have: Mapping[str, str], want: Mapping[str, str] | None) -> bool:
    return not want or all(have.get(k) == v for k, v in want.items())
