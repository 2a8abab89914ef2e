"""core/v1 Service."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec

from master.api.meta import Condition, Object
from master.api.schema import Int32, IntOrString, merge_by

__all__ = [
    "ClientIPConfig",
    "LoadBalancerIngress",
    "LoadBalancerStatus",
    "PortStatus",
    "Service",
    "ServicePort",
    "ServiceSpec",
    "ServiceStatus",
    "SessionAffinityConfig",
]


class ServicePort(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str = ""
    protocol: str = ""
    app_protocol: str | None = None
    port: Int32
    target_port: IntOrString = 0
    node_port: Int32 = 0


class ClientIPConfig(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    timeout_seconds: Int32 | None = None


class SessionAffinityConfig(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    client_ip: ClientIPConfig | None = msgspec.field(default=None, name="clientIP")


class ServiceSpec(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    ports: Annotated[list[ServicePort], merge_by("port")] = []
    selector: dict[str, str] = {}
    cluster_ip: str = msgspec.field(default="", name="clusterIP")
    cluster_ips: list[str] = msgspec.field(default_factory=list, name="clusterIPs")
    type: str = ""  # ClusterIP, NodePort, LoadBalancer, ExternalName
    external_ips: list[str] = msgspec.field(default_factory=list, name="externalIPs")
    session_affinity: str = ""  # None or ClientIP
    load_balancer_ip: str = msgspec.field(default="", name="loadBalancerIP")
    load_balancer_source_ranges: list[str] = []
    external_name: str = ""
    external_traffic_policy: str = ""  # Cluster or Local
    health_check_node_port: Int32 = 0
    publish_not_ready_addresses: bool = False
    session_affinity_config: SessionAffinityConfig | None = None
    ip_families: list[str] = []
    ip_family_policy: str | None = None
    allocate_load_balancer_node_ports: bool | None = None
    load_balancer_class: str | None = None
    internal_traffic_policy: str | None = None


class PortStatus(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    port: Int32
    protocol: str
    error: str | None = None


class LoadBalancerIngress(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    ip: str = ""
    hostname: str = ""
    ip_mode: str | None = None
    ports: list[PortStatus] = []


class LoadBalancerStatus(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    ingress: list[LoadBalancerIngress] = []


class ServiceStatus(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    load_balancer: LoadBalancerStatus = msgspec.field(default_factory=LoadBalancerStatus)
    conditions: Annotated[list[Condition], merge_by("type")] = []


class Service(Object, kw_only=True, omit_defaults=True, rename="camel"):
    KIND: ClassVar[str] = "Service"

    spec: ServiceSpec = msgspec.field(default_factory=ServiceSpec)
    status: ServiceStatus = msgspec.field(default_factory=ServiceStatus)
