"""The ``Runtime`` on containerd's CRI (runtime.v1) over its unix socket, with grpc.aio.

    rt = ContainerdRuntime("unix:///run/containerd/containerd.sock", metrics=RuntimeMetrics(registry))
    print((await rt.version()).node_string)     # containerd://1.6.20~ds1
    await rt.close()

Every call has a deadline (``ContainerdSettings``): short for state queries, long for pulls, and
for stop and exec the call's own timeout plus the short one. Each call is timed into
``RuntimeMetrics`` under the kubelet's operation names, and each gRPC failure becomes a
``CRIError`` (see ``errors``) with containerd's message, ``raise ... from`` the AioRpcError.

Containerd 1.6 reports a few conditions as UNKNOWN with a message; they are recognised by text:
"server is not initialized yet" (the CRI plugin is still loading its state after a containerd
start: UnavailableError, so callers retry), "failed to reserve ... name" (a live sandbox or container has that name: AlreadyExistsError) and
"is in CONTAINER_<STATE> state" or "is not running" (start, exec or log reopen in the wrong state:
FailedPreconditionError).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from cri_api.v1 import api_pb2 as pb
from cri_api.v1 import api_pb2_grpc as pb_grpc

from agent.kubelet.cri import convert, errors
from agent.kubelet.cri.metrics import RuntimeMetrics
from agent.kubelet.cri.reference import normalize_image
from agent.kubelet.cri.types import (
    Container,
    ContainerConfig,
    ContainerState,
    ContainerStats,
    ContainerStatus,
    ExecResult,
    FilesystemUsage,
    Image,
    RuntimeStatus,
    RuntimeVersion,
    Sandbox,
    SandboxConfig,
    SandboxState,
    SandboxStatus,
)
from agent.kubelet.cri.validation import check_container_config, check_sandbox_config

__all__ = ["DEFAULT_ENDPOINT", "ContainerdRuntime", "ContainerdSettings"]

DEFAULT_ENDPOINT = "unix:///run/containerd/containerd.sock"


@dataclass(frozen=True, slots=True)
class ContainerdSettings:
    call_timeout: float = 30.0  # every call without a longer deadline of its own
    pull_timeout: float = 600.0  # a Pi on Wi-Fi pulling a few hundred MB
    sandbox_timeout: float = 120.0  # run/stop/remove sandbox: CNI set-up and tear-down
    max_message_bytes: int = 16 * 1024 * 1024
    # gRPC's default reconnect backoff grows to 120 s: after containerd restarts, the kubelet
    # would stay blind that long. Retry the socket at least every few seconds instead.
    reconnect_backoff_max: float = 5.0


def _socket_target(endpoint: str) -> str:
    if endpoint.startswith("unix://"):
        path = endpoint[len("unix://") :]
    elif endpoint.startswith("/"):
        path = endpoint
    else:
        raise errors.InvalidArgumentError(
            f"container runtime endpoint {endpoint!r}: want unix:///path/to/socket or an absolute path"
        )
    if not path.startswith("/"):
        raise errors.InvalidArgumentError(
            f"container runtime endpoint {endpoint!r}: socket path must be absolute"
        )
    return f"unix://{path}"


def _error_from_rpc(
    exc: grpc.aio.AioRpcError, *, operation: str, endpoint: str, image: str = ""
) -> errors.CRIError:
    code = exc.code()
    details = exc.details() or code.name
    if code is grpc.StatusCode.UNAVAILABLE or "server is not initialized yet" in details:
        return errors.UnavailableError(
            f"container runtime at {endpoint} is unavailable: {details}", code=code.name
        )
    if operation == "pull_image":
        return errors.ImagePullError(image, details, code=code.name)
    if code is grpc.StatusCode.NOT_FOUND:
        return errors.NotFoundError(details)
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return errors.DeadlineExceededError(f"{operation}: {details}")
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        return errors.InvalidArgumentError(details)
    if code is grpc.StatusCode.ALREADY_EXISTS or "failed to reserve" in details:
        return errors.AlreadyExistsError(details, code=code.name)
    if (
        code is grpc.StatusCode.FAILED_PRECONDITION
        or " is in CONTAINER_" in details
        or "is not running" in details
    ):
        return errors.FailedPreconditionError(details, code=code.name)
    return errors.CRIError(details, code=code.name)


def _labels_ok(labels: Mapping[str, str] | None) -> dict[str, str]:
    return dict(labels or {})


class ContainerdRuntime:
    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        settings: ContainerdSettings | None = None,
        metrics: RuntimeMetrics | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._target = _socket_target(endpoint)
        self._settings = settings or ContainerdSettings()
        self._metrics = metrics
        # A grpc.aio channel belongs to the event loop it was made on: make it on first use.
        self._channel: grpc.aio.Channel | None = None
        self._rt: pb_grpc.RuntimeServiceStub | None = None
        self._im: pb_grpc.ImageServiceStub | None = None

    def _stubs(self) -> tuple[pb_grpc.RuntimeServiceStub, pb_grpc.ImageServiceStub]:
        if self._rt is None or self._im is None:
            s = self._settings
            self._channel = grpc.aio.insecure_channel(
                self._target,
                options=[
                    ("grpc.max_receive_message_length", s.max_message_bytes),
                    ("grpc.max_send_message_length", s.max_message_bytes),
                    ("grpc.initial_reconnect_backoff_ms", min(1000, int(s.reconnect_backoff_max * 1000))),
                    ("grpc.max_reconnect_backoff_ms", int(s.reconnect_backoff_max * 1000)),
                ],
            )
            self._rt = pb_grpc.RuntimeServiceStub(self._channel)
            self._im = pb_grpc.ImageServiceStub(self._channel)
        return self._rt, self._im

    async def _call(
        self,
        operation: str,
        method: Callable[..., Any],
        request: Any,
        *,
        deadline: float | None = None,
        image: str = "",
    ) -> Any:
        start = time.monotonic()
        failed = True
        try:
            response = await method(request, timeout=deadline or self._settings.call_timeout)
            failed = False
            return response
        except grpc.aio.AioRpcError as exc:
            raise _error_from_rpc(exc, operation=operation, endpoint=self.endpoint, image=image) from exc
        finally:
            if self._metrics is not None:
                self._metrics.observe(operation, time.monotonic() - start, failed=failed)

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
        self._channel = self._rt = self._im = None

    # Runtime

    async def version(self) -> RuntimeVersion:
        rt, _ = self._stubs()
        r = await self._call("version", rt.Version, pb.VersionRequest(version="v1"))
        return convert.version_from_pb(r)

    async def status(self) -> RuntimeStatus:
        rt, _ = self._stubs()
        r = await self._call("status", rt.Status, pb.StatusRequest())
        return convert.runtime_status_from_pb(r)

    # Sandboxes

    async def run_sandbox(self, config: SandboxConfig) -> str:
        check_sandbox_config(config)
        rt, _ = self._stubs()
        r = await self._call(
            "run_podsandbox",
            rt.RunPodSandbox,
            pb.RunPodSandboxRequest(config=convert.sandbox_config(config)),
            deadline=self._settings.sandbox_timeout,
        )
        return str(r.pod_sandbox_id)

    async def stop_sandbox(self, sandbox_id: str) -> None:
        rt, _ = self._stubs()
        try:
            await self._call(
                "stop_podsandbox",
                rt.StopPodSandbox,
                pb.StopPodSandboxRequest(pod_sandbox_id=sandbox_id),
                deadline=self._settings.sandbox_timeout,
            )
        except errors.NotFoundError:
            return

    async def remove_sandbox(self, sandbox_id: str) -> None:
        rt, _ = self._stubs()
        try:
            await self._call(
                "remove_podsandbox",
                rt.RemovePodSandbox,
                pb.RemovePodSandboxRequest(pod_sandbox_id=sandbox_id),
                deadline=self._settings.sandbox_timeout,
            )
        except errors.NotFoundError:
            return

    async def sandbox_status(self, sandbox_id: str) -> SandboxStatus:
        rt, _ = self._stubs()
        r = await self._call(
            "podsandbox_status", rt.PodSandboxStatus, pb.PodSandboxStatusRequest(pod_sandbox_id=sandbox_id)
        )
        return convert.sandbox_status_from_pb(r.status)

    async def list_sandboxes(
        self, *, state: SandboxState | None = None, labels: Mapping[str, str] | None = None
    ) -> list[Sandbox]:
        rt, _ = self._stubs()
        f = pb.PodSandboxFilter(label_selector=_labels_ok(labels))
        if state is not None:
            f.state.CopyFrom(convert.sandbox_state_to_pb(state))
        r = await self._call("list_podsandbox", rt.ListPodSandbox, pb.ListPodSandboxRequest(filter=f))
        return [convert.sandbox_from_pb(s) for s in r.items]

    # Containers

    async def create_container(
        self, sandbox_id: str, config: ContainerConfig, sandbox_config: SandboxConfig
    ) -> str:
        check_container_config(config)
        check_sandbox_config(sandbox_config)
        rt, _ = self._stubs()
        r = await self._call(
            "create_container",
            rt.CreateContainer,
            pb.CreateContainerRequest(
                pod_sandbox_id=sandbox_id,
                config=convert.container_config(config, sandbox_config),
                sandbox_config=convert.sandbox_config(sandbox_config),
            ),
        )
        return str(r.container_id)

    async def start_container(self, container_id: str) -> None:
        rt, _ = self._stubs()
        await self._call(
            "start_container", rt.StartContainer, pb.StartContainerRequest(container_id=container_id)
        )

    async def stop_container(self, container_id: str, grace_period: float) -> None:
        rt, _ = self._stubs()
        seconds = max(0, math.ceil(grace_period))
        try:
            await self._call(
                "stop_container",
                rt.StopContainer,
                pb.StopContainerRequest(container_id=container_id, timeout=seconds),
                deadline=seconds + self._settings.call_timeout,
            )
        except errors.NotFoundError:
            return

    async def remove_container(self, container_id: str) -> None:
        rt, _ = self._stubs()
        try:
            await self._call(
                "remove_container", rt.RemoveContainer, pb.RemoveContainerRequest(container_id=container_id)
            )
        except errors.NotFoundError:
            return

    async def container_status(self, container_id: str) -> ContainerStatus:
        rt, _ = self._stubs()
        r = await self._call(
            "container_status", rt.ContainerStatus, pb.ContainerStatusRequest(container_id=container_id)
        )
        return convert.container_status_from_pb(r.status)

    async def list_containers(
        self,
        *,
        sandbox_id: str | None = None,
        state: ContainerState | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[Container]:
        rt, _ = self._stubs()
        f = pb.ContainerFilter(pod_sandbox_id=sandbox_id or "", label_selector=_labels_ok(labels))
        if state is not None:
            f.state.CopyFrom(convert.container_state_to_pb(state))
        r = await self._call("list_containers", rt.ListContainers, pb.ListContainersRequest(filter=f))
        return [convert.container_from_pb(c) for c in r.containers]

    async def reopen_container_log(self, container_id: str) -> None:
        rt, _ = self._stubs()
        await self._call(
            "reopen_container_log",
            rt.ReopenContainerLog,
            pb.ReopenContainerLogRequest(container_id=container_id),
        )

    async def exec_sync(self, container_id: str, cmd: Sequence[str], timeout_seconds: float) -> ExecResult:
        if not cmd:
            raise errors.InvalidArgumentError("exec_sync: cmd must not be empty")
        rt, _ = self._stubs()
        seconds = max(1, math.ceil(timeout_seconds))
        r = await self._call(
            "exec_sync",
            rt.ExecSync,
            pb.ExecSyncRequest(container_id=container_id, cmd=list(cmd), timeout=seconds),
            deadline=seconds + self._settings.call_timeout,
        )
        return ExecResult(stdout=bytes(r.stdout), stderr=bytes(r.stderr), exit_code=r.exit_code)

    # Images

    async def list_images(self) -> list[Image]:
        _, im = self._stubs()
        r = await self._call("list_images", im.ListImages, pb.ListImagesRequest())
        return [convert.image_from_pb(i) for i in r.images]

    async def image_status(self, image: str) -> Image | None:
        normalize_image(image)
        _, im = self._stubs()
        r = await self._call(
            "image_status", im.ImageStatus, pb.ImageStatusRequest(image=pb.ImageSpec(image=image))
        )
        return convert.image_from_pb(r.image) if r.HasField("image") and r.image.id else None

    async def pull_image(self, image: str, *, sandbox_config: SandboxConfig | None = None) -> str:
        normalize_image(image)
        _, im = self._stubs()
        request = pb.PullImageRequest(image=pb.ImageSpec(image=image))
        if sandbox_config is not None:
            request.sandbox_config.CopyFrom(convert.sandbox_config(sandbox_config))
        r = await self._call(
            "pull_image", im.PullImage, request, deadline=self._settings.pull_timeout, image=image
        )
        return str(r.image_ref)

    async def remove_image(self, image: str) -> None:
        normalize_image(image)
        _, im = self._stubs()
        try:
            await self._call(
                "remove_image", im.RemoveImage, pb.RemoveImageRequest(image=pb.ImageSpec(image=image))
            )
        except errors.NotFoundError:
            return

    async def image_fs_info(self) -> list[FilesystemUsage]:
        _, im = self._stubs()
        r = await self._call("image_fs_info", im.ImageFsInfo, pb.ImageFsInfoRequest())
        return [convert.filesystem_usage_from_pb(f) for f in r.image_filesystems]

    # Stats

    async def container_stats(self, container_id: str) -> ContainerStats:
        # ContainerStats fails for a container that is not running ("unexpected metrics
        # response"); the list call answers for every state, with empty readings.
        rt, _ = self._stubs()
        f = pb.ContainerStatsFilter(id=container_id)
        r = await self._call("container_stats", rt.ListContainerStats, pb.ListContainerStatsRequest(filter=f))
        for s in r.stats:
            if s.attributes.id == container_id:
                return convert.container_stats_from_pb(s)
        raise errors.NotFoundError(
            f'an error occurred when try to find container "{container_id}": not found'
        )

    async def list_container_stats(
        self, *, sandbox_id: str | None = None, labels: Mapping[str, str] | None = None
    ) -> list[ContainerStats]:
        rt, _ = self._stubs()
        f = pb.ContainerStatsFilter(pod_sandbox_id=sandbox_id or "", label_selector=_labels_ok(labels))
        r = await self._call(
            "list_container_stats", rt.ListContainerStats, pb.ListContainerStatsRequest(filter=f)
        )
        return [convert.container_stats_from_pb(s) for s in r.stats]
