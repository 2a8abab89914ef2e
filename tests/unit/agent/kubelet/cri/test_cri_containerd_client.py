"""ContainerdRuntime against an in-process CRI server on a unix socket: the requests it builds,
how it maps gRPC failures, and its metrics. (Against real containerd: tests/integration/agent/cri.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cri_api.v1 import api_pb2 as pb
from cri_api.v1 import api_pb2_grpc as pb_grpc
from prometheus_client import CollectorRegistry

from agent.kubelet.cri import (
    AlreadyExistsError,
    ContainerConfig,
    CRIError,
    DeadlineExceededError,
    DNSConfig,
    FailedPreconditionError,
    ImagePullError,
    InvalidArgumentError,
    Mount,
    NotFoundError,
    PortMapping,
    Resources,
    SandboxConfig,
    UnavailableError,
)
from agent.kubelet.cri.containerd import ContainerdRuntime, ContainerdSettings
from agent.kubelet.cri.metrics import RuntimeMetrics

SC = SandboxConfig(name="web", uid="u1", namespace="default", hostname="web", log_directory="/var/log/pods/x")


class Servicer(pb_grpc.RuntimeServiceServicer, pb_grpc.ImageServiceServicer):
    """Answers from a script: ``fail[method] = (code, details)``; requests land in ``seen``."""

    def __init__(self) -> None:
        self.seen: dict[str, Any] = {}
        self.fail: dict[str, tuple[grpc.StatusCode, str]] = {}

    async def _answer(
        self, method: str, request: Any, context: grpc.aio.ServicerContext, response: Any
    ) -> Any:
        self.seen[method] = request
        if method in self.fail:
            code, details = self.fail[method]
            await context.abort(code, details)
        return response

    async def Version(self, request, context):  # type: ignore[no-untyped-def]
        return await self._answer(
            "Version",
            request,
            context,
            pb.VersionResponse(
                version="0.1.0",
                runtime_name="containerd",
                runtime_version="1.6.20~ds1",
                runtime_api_version="v1",
            ),
        )

    async def RunPodSandbox(self, request, context):  # type: ignore[no-untyped-def]
        return await self._answer(
            "RunPodSandbox", request, context, pb.RunPodSandboxResponse(pod_sandbox_id="s1")
        )

    async def StopPodSandbox(self, request, context):  # type: ignore[no-untyped-def]
        return await self._answer("StopPodSandbox", request, context, pb.StopPodSandboxResponse())

    async def PodSandboxStatus(self, request, context):  # type: ignore[no-untyped-def]
        return await self._answer("PodSandboxStatus", request, context, pb.PodSandboxStatusResponse())

    async def CreateContainer(self, request, context):  # type: ignore[no-untyped-def]
        return await self._answer(
            "CreateContainer", request, context, pb.CreateContainerResponse(container_id="c1")
        )

    async def StartContainer(self, request, context):  # type: ignore[no-untyped-def]
        return await self._answer("StartContainer", request, context, pb.StartContainerResponse())

    async def StopContainer(self, request, context):  # type: ignore[no-untyped-def]
        return await self._answer("StopContainer", request, context, pb.StopContainerResponse())

    async def ExecSync(self, request, context):  # type: ignore[no-untyped-def]
        return await self._answer(
            "ExecSync", request, context, pb.ExecSyncResponse(stdout=b"ok\n", exit_code=2)
        )

    async def ListContainerStats(self, request, context):  # type: ignore[no-untyped-def]
        return await self._answer("ListContainerStats", request, context, pb.ListContainerStatsResponse())

    async def ImageStatus(self, request, context):  # type: ignore[no-untyped-def]
        return await self._answer("ImageStatus", request, context, pb.ImageStatusResponse())

    async def PullImage(self, request, context):  # type: ignore[no-untyped-def]
        return await self._answer(
            "PullImage", request, context, pb.PullImageResponse(image_ref="sha256:" + "1" * 64)
        )


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[Servicer, str]]:
    servicer = Servicer()
    srv = grpc.aio.server()
    pb_grpc.add_RuntimeServiceServicer_to_server(servicer, srv)
    pb_grpc.add_ImageServiceServicer_to_server(servicer, srv)
    sock = tmp_path / "cri.sock"
    srv.add_insecure_port(f"unix://{sock}")
    await srv.start()
    yield servicer, f"unix://{sock}"
    await srv.stop(None)


@pytest.fixture
async def client(
    server: tuple[Servicer, str],
) -> AsyncIterator[tuple[ContainerdRuntime, Servicer, CollectorRegistry]]:
    servicer, endpoint = server
    registry = CollectorRegistry()
    rt = ContainerdRuntime(
        endpoint, settings=ContainerdSettings(call_timeout=5), metrics=RuntimeMetrics(registry)
    )
    yield rt, servicer, registry
    await rt.close()


async def test_sandbox_request(client: tuple[ContainerdRuntime, Servicer, CollectorRegistry]) -> None:
    rt, servicer, _ = client
    config = SandboxConfig(
        name="web",
        uid="u1",
        namespace="default",
        attempt=2,
        hostname="web",
        log_directory="/var/log/pods/x",
        dns=DNSConfig(servers=("10.96.0.10",), searches=("default.svc.cluster.local",), options=("ndots:5",)),
        port_mappings=(PortMapping(container_port=8080, host_port=30080, protocol="UDP"),),
        labels={"a": "b"},
        annotations={"c": "d"},
        cgroup_parent="/picluster/podu1",
    )
    assert await rt.run_sandbox(config) == "s1"
    req: pb.PodSandboxConfig = servicer.seen["RunPodSandbox"].config
    assert (req.metadata.name, req.metadata.uid, req.metadata.namespace, req.metadata.attempt) == (
        "web",
        "u1",
        "default",
        2,
    )
    assert (req.hostname, req.log_directory, dict(req.labels), dict(req.annotations)) == (
        "web",
        "/var/log/pods/x",
        {"a": "b"},
        {"c": "d"},
    )
    assert list(req.dns_config.servers) == ["10.96.0.10"] and list(req.dns_config.options) == ["ndots:5"]
    (pm,) = req.port_mappings
    assert (pm.protocol, pm.container_port, pm.host_port) == (pb.UDP, 8080, 30080)
    assert req.linux.cgroup_parent == "/picluster/podu1"
    ns = req.linux.security_context.namespace_options
    assert (ns.network, ns.pid, ns.ipc) == (pb.POD, pb.CONTAINER, pb.POD)

    await rt.run_sandbox(SandboxConfig(name="h", uid="u2", namespace="default", host_network=True))
    req = servicer.seen["RunPodSandbox"].config
    assert req.linux.security_context.namespace_options.network == pb.NODE
    assert not req.HasField("dns_config")


async def test_container_request(client: tuple[ContainerdRuntime, Servicer, CollectorRegistry]) -> None:
    rt, servicer, _ = client
    config = ContainerConfig(
        name="app",
        image="localhost/web:1",
        attempt=3,
        command=("/web.sh",),
        args=("-v",),
        working_dir="/www",
        env={"B": "2", "A": "1"},
        mounts=(Mount("/data", "/var/lib/picluster/agent/pods/u1/volumes/d", readonly=True),),
        labels={"l": "1"},
        annotations={"a": "2"},
        log_path="app/3.log",
        resources=Resources(cpu_shares=512, cpu_period=100000, cpu_quota=50000, memory_limit_bytes=64 << 20),
    )
    assert await rt.create_container("s1", config, SC) == "c1"
    req: pb.CreateContainerRequest = servicer.seen["CreateContainer"]
    c = req.config
    assert req.pod_sandbox_id == "s1" and req.sandbox_config.metadata.name == "web"
    assert (c.metadata.name, c.metadata.attempt, c.image.image) == ("app", 3, "localhost/web:1")
    assert (list(c.command), list(c.args), c.working_dir, c.log_path) == (
        ["/web.sh"],
        ["-v"],
        "/www",
        "app/3.log",
    )
    assert [(e.key, e.value) for e in c.envs] == [("B", "2"), ("A", "1")]  # order kept: $(VAR) refs
    (m,) = c.mounts
    assert (m.container_path, m.readonly) == ("/data", True)
    r = c.linux.resources
    assert (r.cpu_shares, r.cpu_period, r.cpu_quota, r.memory_limit_in_bytes) == (
        512,
        100000,
        50000,
        64 << 20,
    )
    assert not c.tty and not c.stdin
    assert c.linux.security_context.namespace_options.pid == pb.CONTAINER


@pytest.mark.parametrize(
    ("method", "code", "details", "call", "error"),
    [
        pytest.param(
            "PodSandboxStatus",
            grpc.StatusCode.NOT_FOUND,
            "not found",
            "sandbox_status",
            NotFoundError,
            id="not-found",
        ),
        pytest.param(
            "RunPodSandbox",
            grpc.StatusCode.UNKNOWN,
            'failed to reserve sandbox name "web_default_u1_0": name "web_default_u1_0" is reserved for "x"',
            "run_sandbox",
            AlreadyExistsError,
            id="name-reserved",
        ),
        pytest.param(
            "StartContainer",
            grpc.StatusCode.UNKNOWN,
            'failed to set starting state for container "c1": container is in CONTAINER_RUNNING state',
            "start_container",
            FailedPreconditionError,
            id="wrong-state",
        ),
        pytest.param(
            "ExecSync",
            grpc.StatusCode.DEADLINE_EXCEEDED,
            "timeout 1s exceeded",
            "exec_sync",
            DeadlineExceededError,
            id="exec-timeout",
        ),
        pytest.param(
            "PullImage",
            grpc.StatusCode.UNKNOWN,
            "failed to pull and unpack image",
            "pull_image",
            ImagePullError,
            id="pull",
        ),
        pytest.param(
            "PullImage",
            grpc.StatusCode.NOT_FOUND,
            "manifest unknown",
            "pull_image",
            ImagePullError,
            id="pull-not-found",
        ),
        pytest.param(
            "Version", grpc.StatusCode.INVALID_ARGUMENT, "bad", "version", InvalidArgumentError, id="invalid"
        ),
        pytest.param("Version", grpc.StatusCode.INTERNAL, "boom", "version", CRIError, id="other"),
        pytest.param(
            "Version",
            grpc.StatusCode.UNKNOWN,
            "server is not initialized yet",
            "version",
            UnavailableError,
            id="cri-starting",
        ),
    ],
)
async def test_errors_are_mapped(
    client: tuple[ContainerdRuntime, Servicer, CollectorRegistry],
    method: str,
    code: grpc.StatusCode,
    details: str,
    call: str,
    error: type[CRIError],
) -> None:
    rt, servicer, _ = client
    servicer.fail[method] = (code, details)
    calls = {
        "sandbox_status": lambda: rt.sandbox_status("s1"),
        "run_sandbox": lambda: rt.run_sandbox(SC),
        "start_container": lambda: rt.start_container("c1"),
        "exec_sync": lambda: rt.exec_sync("c1", ["true"], timeout_seconds=1),
        "pull_image": lambda: rt.pull_image("localhost/web:9"),
        "version": lambda: rt.version(),
    }
    with pytest.raises(error) as info:
        await calls[call]()
    assert type(info.value) is error
    assert details in info.value.message
    assert info.value.code == code.name
    assert isinstance(info.value.__cause__, grpc.aio.AioRpcError)
    if error is ImagePullError:
        assert info.value.image == "localhost/web:9"  # type: ignore[attr-defined]


async def test_stop_of_a_missing_object_is_not_an_error(
    client: tuple[ContainerdRuntime, Servicer, CollectorRegistry],
) -> None:
    rt, servicer, _ = client
    servicer.fail["StopContainer"] = (grpc.StatusCode.NOT_FOUND, "not found")
    servicer.fail["StopPodSandbox"] = (grpc.StatusCode.NOT_FOUND, "not found")
    await rt.stop_container("c1", grace_period=2.5)
    assert servicer.seen["StopContainer"].timeout == 3  # whole seconds, rounded up
    await rt.stop_sandbox("s1")


async def test_exec_and_stats(client: tuple[ContainerdRuntime, Servicer, CollectorRegistry]) -> None:
    rt, servicer, _ = client
    r = await rt.exec_sync("c1", ["cat", "/x"], timeout_seconds=0.2)
    assert (r.stdout, r.stderr, r.exit_code) == (b"ok\n", b"", 2)
    assert servicer.seen["ExecSync"].timeout == 1
    with pytest.raises(NotFoundError):
        await rt.container_stats("c1")  # the list came back without it
    assert await rt.image_status("localhost/web:1") is None


async def test_metrics(client: tuple[ContainerdRuntime, Servicer, CollectorRegistry]) -> None:
    rt, servicer, registry = client
    await rt.version()
    servicer.fail["Version"] = (grpc.StatusCode.INTERNAL, "boom")
    with pytest.raises(CRIError):
        await rt.version()
    labels = {"operation_type": "version"}
    assert registry.get_sample_value("kubelet_runtime_operations_total", labels) == 2
    assert registry.get_sample_value("kubelet_runtime_operations_errors_total", labels) == 1
    assert registry.get_sample_value("kubelet_runtime_operations_duration_seconds_count", labels) == 2


async def test_unreachable_socket_is_unavailable(tmp_path: Path) -> None:
    rt = ContainerdRuntime(f"unix://{tmp_path}/nothing.sock", settings=ContainerdSettings(call_timeout=5))
    try:
        with pytest.raises(UnavailableError, match=r"nothing\.sock"):
            await rt.version()
    finally:
        await rt.close()


@pytest.mark.parametrize("endpoint", ["tcp://127.0.0.1:1", "unix://relative.sock", "containerd.sock"])
def test_bad_endpoints(endpoint: str) -> None:
    with pytest.raises(InvalidArgumentError, match="endpoint"):
        ContainerdRuntime(endpoint)
