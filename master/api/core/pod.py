"""core/v1 Pod, its spec and status, and the pieces workloads embed (PodTemplateSpec), Binding."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec

from master.api.core.common import LocalObjectReference, ObjectReference
from master.api.meta import LabelSelector, Object, ObjectMeta
from master.api.schema import Int32, Int64, IntOrString, QuantityStr, ResourceList, Time, merge_by

__all__ = [
    "Affinity",
    "Binding",
    "Capabilities",
    "ConfigMapEnvSource",
    "ConfigMapKeySelector",
    "ConfigMapProjection",
    "ConfigMapVolumeSource",
    "Container",
    "ContainerPort",
    "ContainerState",
    "ContainerStateRunning",
    "ContainerStateTerminated",
    "ContainerStateWaiting",
    "ContainerStatus",
    "DownwardAPIProjection",
    "DownwardAPIVolumeFile",
    "DownwardAPIVolumeSource",
    "EmptyDirVolumeSource",
    "EnvFromSource",
    "EnvVar",
    "EnvVarSource",
    "ExecAction",
    "GRPCAction",
    "HTTPGetAction",
    "HTTPHeader",
    "HostAlias",
    "HostIP",
    "HostPathVolumeSource",
    "KeyToPath",
    "Lifecycle",
    "LifecycleHandler",
    "NodeAffinity",
    "NodeSelector",
    "NodeSelectorRequirement",
    "NodeSelectorTerm",
    "ObjectFieldSelector",
    "PersistentVolumeClaimVolumeSource",
    "Pod",
    "PodAffinity",
    "PodAffinityTerm",
    "PodAntiAffinity",
    "PodCondition",
    "PodDNSConfig",
    "PodDNSConfigOption",
    "PodIP",
    "PodReadinessGate",
    "PodSecurityContext",
    "PodSpec",
    "PodStatus",
    "PodTemplateSpec",
    "PreferredSchedulingTerm",
    "Probe",
    "ProjectedVolumeSource",
    "ResourceFieldSelector",
    "ResourceRequirements",
    "SecretEnvSource",
    "SecretKeySelector",
    "SecretProjection",
    "SecretVolumeSource",
    "SecurityContext",
    "ServiceAccountTokenProjection",
    "SleepAction",
    "TCPSocketAction",
    "Toleration",
    "TopologySpreadConstraint",
    "Volume",
    "VolumeMount",
    "VolumeProjection",
    "WeightedPodAffinityTerm",
]


# Environment


class ObjectFieldSelector(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    api_version: str = ""
    field_path: str


class ResourceFieldSelector(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    container_name: str = ""
    resource: str
    divisor: QuantityStr = ""


class ConfigMapKeySelector(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str = ""
    key: str
    optional: bool | None = None


class SecretKeySelector(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str = ""
    key: str
    optional: bool | None = None


class EnvVarSource(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    field_ref: ObjectFieldSelector | None = None
    resource_field_ref: ResourceFieldSelector | None = None
    config_map_key_ref: ConfigMapKeySelector | None = None
    secret_key_ref: SecretKeySelector | None = None


class EnvVar(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str
    value: str = ""
    value_from: EnvVarSource | None = None


class ConfigMapEnvSource(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str = ""
    optional: bool | None = None


class SecretEnvSource(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str = ""
    optional: bool | None = None


class EnvFromSource(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    prefix: str = ""
    config_map_ref: ConfigMapEnvSource | None = None
    secret_ref: SecretEnvSource | None = None


# Ports, resources, mounts


class ContainerPort(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str = ""
    host_port: Int32 = 0
    container_port: Int32
    protocol: str = ""
    host_ip: str = msgspec.field(default="", name="hostIP")


class ResourceRequirements(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    limits: ResourceList = {}
    requests: ResourceList = {}


class VolumeMount(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str
    read_only: bool = False
    mount_path: str
    sub_path: str = ""
    mount_propagation: str | None = None
    sub_path_expr: str = ""


# Probes and lifecycle


class ExecAction(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    command: list[str] = []


class HTTPHeader(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str
    value: str


class HTTPGetAction(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    path: str = ""
    port: IntOrString
    host: str = ""
    scheme: str = ""
    http_headers: list[HTTPHeader] = []


class TCPSocketAction(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    port: IntOrString
    host: str = ""


class GRPCAction(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    port: Int32
    service: str | None = None


class SleepAction(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    seconds: Int64


class Probe(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    exec: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    grpc: GRPCAction | None = None
    initial_delay_seconds: Int32 = 0
    timeout_seconds: Int32 = 0
    period_seconds: Int32 = 0
    success_threshold: Int32 = 0
    failure_threshold: Int32 = 0
    termination_grace_period_seconds: Int64 | None = None


class LifecycleHandler(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    exec: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    sleep: SleepAction | None = None


class Lifecycle(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    post_start: LifecycleHandler | None = None
    pre_stop: LifecycleHandler | None = None


class Capabilities(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    add: list[str] = []
    drop: list[str] = []


class SecurityContext(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    capabilities: Capabilities | None = None
    privileged: bool | None = None
    run_as_user: Int64 | None = None
    run_as_group: Int64 | None = None
    run_as_non_root: bool | None = None
    read_only_root_filesystem: bool | None = None
    allow_privilege_escalation: bool | None = None


class Container(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str
    image: str = ""
    command: list[str] = []
    args: list[str] = []
    working_dir: str = ""
    ports: Annotated[list[ContainerPort], merge_by("containerPort")] = []
    env_from: list[EnvFromSource] = []
    env: Annotated[list[EnvVar], merge_by("name")] = []
    resources: ResourceRequirements = msgspec.field(default_factory=ResourceRequirements)
    volume_mounts: Annotated[list[VolumeMount], merge_by("mountPath")] = []
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    lifecycle: Lifecycle | None = None
    termination_message_path: str = ""
    termination_message_policy: str = ""
    image_pull_policy: str = ""
    security_context: SecurityContext | None = None
    stdin: bool = False
    stdin_once: bool = False
    tty: bool = False


# Volumes


class KeyToPath(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    key: str
    path: str
    mode: Int32 | None = None


class EmptyDirVolumeSource(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    medium: str = ""
    size_limit: QuantityStr | None = None


class HostPathVolumeSource(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    path: str
    type: str | None = None


class ConfigMapVolumeSource(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str = ""
    items: list[KeyToPath] = []
    default_mode: Int32 | None = None
    optional: bool | None = None


class SecretVolumeSource(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    secret_name: str = ""
    items: list[KeyToPath] = []
    default_mode: Int32 | None = None
    optional: bool | None = None


class PersistentVolumeClaimVolumeSource(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    claim_name: str
    read_only: bool = False


class DownwardAPIVolumeFile(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    path: str
    field_ref: ObjectFieldSelector | None = None
    resource_field_ref: ResourceFieldSelector | None = None
    mode: Int32 | None = None


class DownwardAPIVolumeSource(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    items: list[DownwardAPIVolumeFile] = []
    default_mode: Int32 | None = None


class SecretProjection(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str = ""
    items: list[KeyToPath] = []
    optional: bool | None = None


class ConfigMapProjection(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str = ""
    items: list[KeyToPath] = []
    optional: bool | None = None


class DownwardAPIProjection(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    items: list[DownwardAPIVolumeFile] = []


class ServiceAccountTokenProjection(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    audience: str = ""
    expiration_seconds: Int64 | None = None
    path: str


class VolumeProjection(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    secret: SecretProjection | None = None
    config_map: ConfigMapProjection | None = None
    downward_api: DownwardAPIProjection | None = msgspec.field(default=None, name="downwardAPI")
    service_account_token: ServiceAccountTokenProjection | None = None


class ProjectedVolumeSource(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    sources: list[VolumeProjection] = []
    default_mode: Int32 | None = None


class Volume(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str
    empty_dir: EmptyDirVolumeSource | None = None
    host_path: HostPathVolumeSource | None = None
    config_map: ConfigMapVolumeSource | None = None
    secret: SecretVolumeSource | None = None
    projected: ProjectedVolumeSource | None = None
    downward_api: DownwardAPIVolumeSource | None = msgspec.field(default=None, name="downwardAPI")
    persistent_volume_claim: PersistentVolumeClaimVolumeSource | None = None


# Scheduling


class Toleration(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    key: str = ""
    operator: str = ""  # Exists or Equal ("" means Equal)
    value: str = ""
    effect: str = ""  # NoSchedule, PreferNoSchedule, NoExecute ("" means all)
    toleration_seconds: Int64 | None = None


class NodeSelectorRequirement(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    key: str
    operator: str  # In, NotIn, Exists, DoesNotExist, Gt, Lt
    values: list[str] = []


class NodeSelectorTerm(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    match_expressions: list[NodeSelectorRequirement] = []
    match_fields: list[NodeSelectorRequirement] = []


class NodeSelector(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    node_selector_terms: list[NodeSelectorTerm]


class PreferredSchedulingTerm(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    weight: Int32
    preference: NodeSelectorTerm


class NodeAffinity(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    preferred_during_scheduling_ignored_during_execution: list[PreferredSchedulingTerm] = []


class PodAffinityTerm(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    label_selector: LabelSelector | None = None
    namespaces: list[str] = []
    topology_key: str
    namespace_selector: LabelSelector | None = None


class WeightedPodAffinityTerm(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    weight: Int32
    pod_affinity_term: PodAffinityTerm


class PodAffinity(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] = []
    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] = []


class PodAntiAffinity(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] = []
    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] = []


class Affinity(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    node_affinity: NodeAffinity | None = None
    pod_affinity: PodAffinity | None = None
    pod_anti_affinity: PodAntiAffinity | None = None


class TopologySpreadConstraint(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    max_skew: Int32
    topology_key: str
    when_unsatisfiable: str  # DoNotSchedule or ScheduleAnyway
    label_selector: LabelSelector | None = None
    min_domains: Int32 | None = None
    node_affinity_policy: str | None = None
    node_taints_policy: str | None = None
    match_label_keys: list[str] = []


class PodReadinessGate(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    condition_type: str


class PodSecurityContext(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    run_as_user: Int64 | None = None
    run_as_group: Int64 | None = None
    run_as_non_root: bool | None = None
    fs_group: Int64 | None = None
    supplemental_groups: list[Int64] = []


class HostAlias(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    ip: str
    hostnames: list[str] = []


class PodDNSConfigOption(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str = ""
    value: str | None = None


class PodDNSConfig(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    nameservers: list[str] = []
    searches: list[str] = []
    options: list[PodDNSConfigOption] = []


class PodSpec(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    volumes: Annotated[list[Volume], merge_by("name", retain_keys=True)] = []
    init_containers: Annotated[list[Container], merge_by("name")] = []
    containers: Annotated[list[Container], merge_by("name")]
    restart_policy: str = ""
    termination_grace_period_seconds: Int64 | None = None
    active_deadline_seconds: Int64 | None = None
    dns_policy: str = ""
    node_selector: dict[str, str] = {}
    service_account_name: str = ""
    service_account: str = ""  # deprecated alias of serviceAccountName, kept in step by defaulting
    automount_service_account_token: bool | None = None
    node_name: str = ""
    host_network: bool = False
    host_pid: bool = msgspec.field(default=False, name="hostPID")
    host_ipc: bool = msgspec.field(default=False, name="hostIPC")
    share_process_namespace: bool | None = None
    security_context: PodSecurityContext = msgspec.field(default_factory=PodSecurityContext)
    image_pull_secrets: Annotated[list[LocalObjectReference], merge_by("name")] = []
    hostname: str = ""
    subdomain: str = ""
    affinity: Affinity | None = None
    scheduler_name: str = ""
    tolerations: list[Toleration] = []
    host_aliases: Annotated[list[HostAlias], merge_by("ip")] = []
    priority_class_name: str = ""
    priority: Int32 | None = None
    dns_config: PodDNSConfig | None = None
    readiness_gates: list[PodReadinessGate] = []
    enable_service_links: bool | None = None
    preemption_policy: str | None = None
    overhead: ResourceList = {}
    topology_spread_constraints: Annotated[list[TopologySpreadConstraint], merge_by("topologyKey")] = []


class PodTemplateSpec(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PodSpec = msgspec.field(default_factory=lambda: PodSpec(containers=[]))


# Status


class PodCondition(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    type: str  # PodScheduled, Initialized, ContainersReady, Ready, DisruptionTarget, ...
    status: str  # True, False, Unknown
    last_probe_time: Time | None = None
    last_transition_time: Time | None = None
    reason: str = ""
    message: str = ""


class ContainerStateWaiting(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    reason: str = ""
    message: str = ""


class ContainerStateRunning(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    started_at: Time | None = None


class ContainerStateTerminated(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    exit_code: Int32
    signal: Int32 = 0
    reason: str = ""
    message: str = ""
    started_at: Time | None = None
    finished_at: Time | None = None
    container_id: str = msgspec.field(default="", name="containerID")


class ContainerState(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    waiting: ContainerStateWaiting | None = None
    running: ContainerStateRunning | None = None
    terminated: ContainerStateTerminated | None = None


class ContainerStatus(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str
    state: ContainerState = msgspec.field(default_factory=ContainerState)
    last_state: ContainerState = msgspec.field(default_factory=ContainerState)
    ready: bool
    restart_count: Int32
    image: str
    image_id: str = msgspec.field(name="imageID")
    container_id: str = msgspec.field(default="", name="containerID")
    started: bool | None = None


class PodIP(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    ip: str


class HostIP(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    ip: str


class PodStatus(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    phase: str = ""  # Pending, Running, Succeeded, Failed, Unknown
    conditions: Annotated[list[PodCondition], merge_by("type")] = []
    message: str = ""
    reason: str = ""
    nominated_node_name: str = ""
    host_ip: str = msgspec.field(default="", name="hostIP")
    host_ips: Annotated[list[HostIP], merge_by("ip")] = msgspec.field(default_factory=list, name="hostIPs")
    pod_ip: str = msgspec.field(default="", name="podIP")
    pod_ips: Annotated[list[PodIP], merge_by("ip")] = msgspec.field(default_factory=list, name="podIPs")
    start_time: Time | None = None
    init_container_statuses: list[ContainerStatus] = []
    container_statuses: list[ContainerStatus] = []
    qos_class: str = ""  # Guaranteed, Burstable, BestEffort


class Pod(Object, kw_only=True, omit_defaults=True, rename="camel"):
    KIND: ClassVar[str] = "Pod"

    spec: PodSpec = msgspec.field(default_factory=lambda: PodSpec(containers=[]))
    status: PodStatus = msgspec.field(default_factory=PodStatus)


class Binding(Object, kw_only=True, omit_defaults=True, rename="camel"):
    """pods/binding: what the scheduler posts to put a pod on a node (``target`` is the Node)."""

    KIND: ClassVar[str] = "Binding"

    target: ObjectReference
