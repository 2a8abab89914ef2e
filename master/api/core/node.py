"""core/v1 Node."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec

from master.api.meta import Object
from master.api.schema import MERGE, Int32, Int64, ResourceList, Time, merge_by

__all__ = [
    "ContainerImage",
    "DaemonEndpoint",
    "Node",
    "NodeAddress",
    "NodeCondition",
    "NodeDaemonEndpoints",
    "NodeSpec",
    "NodeStatus",
    "NodeSystemInfo",
    "Taint",
]


class Taint(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    key: str
    value: str = ""
    effect: str  # NoSchedule, PreferNoSchedule, NoExecute
    time_added: str | None = None


class NodeSpec(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    pod_cidr: str = msgspec.field(default="", name="podCIDR")
    pod_cidrs: Annotated[list[str], MERGE] = msgspec.field(default_factory=list, name="podCIDRs")
    provider_id: str = msgspec.field(default="", name="providerID")
    unschedulable: bool = False
    taints: list[Taint] = []


class NodeCondition(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    type: str  # Ready, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable
    status: str
    last_heartbeat_time: Time | None = None
    last_transition_time: Time | None = None
    reason: str = ""
    message: str = ""


class NodeAddress(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    type: str  # InternalIP, ExternalIP, Hostname
    address: str


class DaemonEndpoint(msgspec.Struct, kw_only=True, rename="camel"):
    port: Int32 = msgspec.field(name="Port")  # sic: Kubernetes spells this one with a capital P


class NodeDaemonEndpoints(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    kubelet_endpoint: DaemonEndpoint = msgspec.field(default_factory=lambda: DaemonEndpoint(port=0))


class NodeSystemInfo(msgspec.Struct, kw_only=True, rename="camel"):
    """Every field is always written (the OpenAPI requires them), empty when unknown."""

    machine_id: str = msgspec.field(default="", name="machineID")
    system_uuid: str = msgspec.field(default="", name="systemUUID")
    boot_id: str = msgspec.field(default="", name="bootID")
    kernel_version: str = ""
    os_image: str = ""
    container_runtime_version: str = ""
    kubelet_version: str = ""
    kube_proxy_version: str = ""
    operating_system: str = ""
    architecture: str = ""


class ContainerImage(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    names: list[str] = []
    size_bytes: Int64 = 0


class NodeStatus(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    capacity: ResourceList = {}
    allocatable: ResourceList = {}
    phase: str = ""
    conditions: Annotated[list[NodeCondition], merge_by("type")] = []
    addresses: Annotated[list[NodeAddress], merge_by("type")] = []
    daemon_endpoints: NodeDaemonEndpoints = msgspec.field(default_factory=NodeDaemonEndpoints)
    node_info: NodeSystemInfo = msgspec.field(default_factory=NodeSystemInfo)
    images: list[ContainerImage] = []


class Node(Object, kw_only=True, omit_defaults=True, rename="camel"):
    KIND: ClassVar[str] = "Node"

    spec: NodeSpec = msgspec.field(default_factory=NodeSpec)
    status: NodeStatus = msgspec.field(default_factory=NodeStatus)
