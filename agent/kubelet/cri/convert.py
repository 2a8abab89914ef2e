"""Our runtime types to and from the CRI's runtime.v1 protobuf messages.

Only the containerd client uses this module. Namespace options follow the kubelet's defaults:
the pod's network namespace (or the node's, for host-network pods), a PID namespace per
container (no ``shareProcessNamespace``), and the pod's IPC namespace.
"""

from __future__ import annotations

from cri_api.v1 import api_pb2 as pb

from agent.kubelet.cri.types import (
    Container,
    ContainerConfig,
    ContainerState,
    ContainerStats,
    ContainerStatus,
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

__all__ = [
    "container_config",
    "container_from_pb",
    "container_state_to_pb",
    "container_stats_from_pb",
    "container_status_from_pb",
    "filesystem_usage_from_pb",
    "image_from_pb",
    "runtime_status_from_pb",
    "sandbox_config",
    "sandbox_from_pb",
    "sandbox_state_to_pb",
    "sandbox_status_from_pb",
    "version_from_pb",
]

_PROTOCOLS = {"TCP": pb.TCP, "UDP": pb.UDP, "SCTP": pb.SCTP}
_SANDBOX_STATES = {SandboxState.READY: pb.SANDBOX_READY, SandboxState.NOTREADY: pb.SANDBOX_NOTREADY}
_CONTAINER_STATES = {
    ContainerState.CREATED: pb.CONTAINER_CREATED,
    ContainerState.RUNNING: pb.CONTAINER_RUNNING,
    ContainerState.EXITED: pb.CONTAINER_EXITED,
    ContainerState.UNKNOWN: pb.CONTAINER_UNKNOWN,
}
_SANDBOX_STATES_BACK = {v: k for k, v in _SANDBOX_STATES.items()}
_CONTAINER_STATES_BACK = {v: k for k, v in _CONTAINER_STATES.items()}


def sandbox_state_to_pb(state: SandboxState) -> pb.PodSandboxStateValue:
    return pb.PodSandboxStateValue(state=_SANDBOX_STATES[state])


def container_state_to_pb(state: ContainerState) -> pb.ContainerStateValue:
    return pb.ContainerStateValue(state=_CONTAINER_STATES[state])


def _namespace_options(config: SandboxConfig) -> pb.NamespaceOption:
    return pb.NamespaceOption(
        network=pb.NODE if config.host_network else pb.POD, pid=pb.CONTAINER, ipc=pb.POD
    )


def sandbox_config(config: SandboxConfig) -> pb.PodSandboxConfig:
    out = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(
            name=config.name, uid=config.uid, namespace=config.namespace, attempt=config.attempt
        ),
        hostname=config.hostname,
        log_directory=config.log_directory,
        port_mappings=[
            pb.PortMapping(
                protocol=_PROTOCOLS[m.protocol],
                container_port=m.container_port,
                host_port=m.host_port,
                host_ip=m.host_ip,
            )
            for m in config.port_mappings
        ],
        labels=dict(config.labels),
        annotations=dict(config.annotations),
        linux=pb.LinuxPodSandboxConfig(
            cgroup_parent=config.cgroup_parent,
            security_context=pb.LinuxSandboxSecurityContext(namespace_options=_namespace_options(config)),
        ),
    )
    if config.dns is not None:
        out.dns_config.CopyFrom(
            pb.DNSConfig(servers=config.dns.servers, searches=config.dns.searches, options=config.dns.options)
        )
    return out


def container_config(config: ContainerConfig, sandbox: SandboxConfig) -> pb.ContainerConfig:
    linux = pb.LinuxContainerConfig(
        security_context=pb.LinuxContainerSecurityContext(namespace_options=_namespace_options(sandbox))
    )
    if config.resources is not None:
        r = config.resources
        linux.resources.CopyFrom(
            pb.LinuxContainerResources(
                cpu_shares=r.cpu_shares,
                cpu_period=r.cpu_period,
                cpu_quota=r.cpu_quota,
                memory_limit_in_bytes=r.memory_limit_bytes,
                oom_score_adj=r.oom_score_adj,
            )
        )
    return pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=config.name, attempt=config.attempt),
        image=pb.ImageSpec(image=config.image),
        command=config.command,
        args=config.args,
        working_dir=config.working_dir,
        envs=[pb.KeyValue(key=k, value=v) for k, v in config.env.items()],
        mounts=[
            pb.Mount(container_path=m.container_path, host_path=m.host_path, readonly=m.readonly)
            for m in config.mounts
        ],
        labels=dict(config.labels),
        annotations=dict(config.annotations),
        log_path=config.log_path,
        linux=linux,
    )


def version_from_pb(r: pb.VersionResponse) -> RuntimeVersion:
    return RuntimeVersion(
        runtime_name=r.runtime_name,
        runtime_version=r.runtime_version,
        runtime_api_version=r.runtime_api_version,
        version=r.version,
    )


def runtime_status_from_pb(r: pb.StatusResponse) -> RuntimeStatus:
    return RuntimeStatus(
        conditions=tuple(
            RuntimeCondition(type=c.type, status=c.status, reason=c.reason, message=c.message)
            for c in r.status.conditions
        )
    )


def sandbox_from_pb(s: pb.PodSandbox) -> Sandbox:
    return Sandbox(
        id=s.id,
        name=s.metadata.name,
        uid=s.metadata.uid,
        namespace=s.metadata.namespace,
        attempt=s.metadata.attempt,
        state=_SANDBOX_STATES_BACK.get(s.state, SandboxState.NOTREADY),
        created_at=s.created_at,
        labels=dict(s.labels),
        annotations=dict(s.annotations),
    )


def sandbox_status_from_pb(s: pb.PodSandboxStatus) -> SandboxStatus:
    host_network = s.linux.namespaces.options.network == pb.NODE
    return SandboxStatus(
        id=s.id,
        name=s.metadata.name,
        uid=s.metadata.uid,
        namespace=s.metadata.namespace,
        attempt=s.metadata.attempt,
        state=_SANDBOX_STATES_BACK.get(s.state, SandboxState.NOTREADY),
        created_at=s.created_at,
        ip=s.network.ip,
        additional_ips=tuple(ip.ip for ip in s.network.additional_ips),
        host_network=host_network,
        labels=dict(s.labels),
        annotations=dict(s.annotations),
    )


def container_from_pb(c: pb.Container) -> Container:
    return Container(
        id=c.id,
        sandbox_id=c.pod_sandbox_id,
        name=c.metadata.name,
        attempt=c.metadata.attempt,
        image=c.image.image,
        image_ref=c.image_ref,
        state=_CONTAINER_STATES_BACK.get(c.state, ContainerState.UNKNOWN),
        created_at=c.created_at,
        labels=dict(c.labels),
        annotations=dict(c.annotations),
    )


def container_status_from_pb(c: pb.ContainerStatus) -> ContainerStatus:
    return ContainerStatus(
        id=c.id,
        name=c.metadata.name,
        attempt=c.metadata.attempt,
        state=_CONTAINER_STATES_BACK.get(c.state, ContainerState.UNKNOWN),
        created_at=c.created_at,
        started_at=c.started_at,
        finished_at=c.finished_at,
        exit_code=c.exit_code,
        reason=c.reason,
        message=c.message,
        image=c.image.image,
        image_ref=c.image_ref,
        log_path=c.log_path,
        labels=dict(c.labels),
        annotations=dict(c.annotations),
    )


def image_from_pb(i: pb.Image) -> Image:
    return Image(
        id=i.id,
        repo_tags=tuple(i.repo_tags),
        repo_digests=tuple(i.repo_digests),
        size=i.size,
        pinned=i.pinned,
    )


def filesystem_usage_from_pb(f: pb.FilesystemUsage) -> FilesystemUsage:
    return FilesystemUsage(
        mountpoint=f.fs_id.mountpoint,
        used_bytes=f.used_bytes.value,
        inodes_used=f.inodes_used.value if f.HasField("inodes_used") else None,
        timestamp=f.timestamp,
    )


def container_stats_from_pb(s: pb.ContainerStats) -> ContainerStats:
    cpu, mem = s.cpu, s.memory
    return ContainerStats(
        id=s.attributes.id,
        name=s.attributes.metadata.name,
        attempt=s.attributes.metadata.attempt,
        timestamp=cpu.timestamp or mem.timestamp,
        cpu_usage_core_nanoseconds=(
            cpu.usage_core_nano_seconds.value if cpu.HasField("usage_core_nano_seconds") else None
        ),
        cpu_usage_nano_cores=cpu.usage_nano_cores.value if cpu.HasField("usage_nano_cores") else None,
        memory_working_set_bytes=mem.working_set_bytes.value if mem.HasField("working_set_bytes") else None,
        memory_usage_bytes=mem.usage_bytes.value if mem.HasField("usage_bytes") else None,
        writable_layer_bytes=(
            s.writable_layer.used_bytes.value if s.writable_layer.HasField("used_bytes") else None
        ),
        labels=dict(s.attributes.labels),
        annotations=dict(s.attributes.annotations),
    )
