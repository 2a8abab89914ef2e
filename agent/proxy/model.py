"""What the proxy needs to know about Services and their endpoints, as plain values.

``ServiceInfo`` and ``EndpointSliceInfo`` hold only the fields that shape the rules; the
adapters ``service_info`` and ``endpoint_slice_info`` make them from ``master.api``
objects and return ``None`` for what the proxy does not program (ExternalName and
headless Services, non-IPv4 slices, slices without a service-name label).

Ports: an EndpointSlice's ports carry the *service port's name* and the number the
endpoint listens on (the EndpointSlice controller resolves a named ``targetPort`` per
pod). So the proxy resolves a service port's target on each endpoint by that name, and
falls back to a numeric ``targetPort`` only when the slice lists no port of that name.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from master.api.core import Service
from master.api.discovery import EndpointSlice
from master.api.timefmt import to_epoch

__all__ = [
    "DEFAULT_AFFINITY_TIMEOUT",
    "SERVICE_NAME_LABEL",
    "TRIGGER_TIME_ANNOTATION",
    "EndpointInfo",
    "EndpointPortInfo",
    "EndpointSliceInfo",
    "ProxyConfig",
    "ServiceInfo",
    "ServicePortInfo",
    "endpoint_slice_info",
    "service_info",
]

DEFAULT_AFFINITY_TIMEOUT = 10800
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
TRIGGER_TIME_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time"
_PROTOCOLS = ("TCP", "UDP", "SCTP")


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    """How this node's proxy programs its table.

    ``cluster_cidr`` is the pod network of the whole cluster: traffic to a Service from
    outside it is masqueraded (so replies come back through us), and pod egress to
    outside it is masqueraded when this node's ``pod_cidr`` is known.
    """

    node_name: str
    cluster_cidr: str | None = "10.244.0.0/16"
    pod_cidr: str | None = None
    masquerade_all: bool = False
    masquerade_bit: int = 14
    table: str = "picluster"

    def __post_init__(self) -> None:
        # "" (an unset flag, a Node without podCIDR) means unknown, like None.
        for name in ("cluster_cidr", "pod_cidr"):
            if getattr(self, name) == "":
                object.__setattr__(self, name, None)
        for cidr in (self.cluster_cidr, self.pod_cidr):
            if cidr is not None:
                try:
                    ipaddress.IPv4Network(cidr)
                except ValueError as exc:
                    raise ValueError(f"proxy: invalid IPv4 CIDR {cidr!r}: {exc}") from None
        if not 0 <= self.masquerade_bit <= 31:
            raise ValueError(f"proxy: masquerade bit {self.masquerade_bit} not in 0..31")


@dataclass(frozen=True, slots=True)
class ServicePortInfo:
    name: str
    protocol: str
    port: int
    target_port: int | str
    node_port: int | None = None


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    namespace: str
    name: str
    cluster_ip: str
    ports: tuple[ServicePortInfo, ...]
    type: str = "ClusterIP"
    session_affinity: bool = False
    affinity_timeout: int = DEFAULT_AFFINITY_TIMEOUT
    external_local: bool = False
    internal_local: bool = False

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class EndpointPortInfo:
    name: str
    port: int
    protocol: str = "TCP"


@dataclass(frozen=True, slots=True)
class EndpointInfo:
    ip: str
    ports: tuple[EndpointPortInfo, ...] = ()
    ready: bool = True
    serving: bool = True
    terminating: bool = False
    node_name: str | None = None

    def port_for(self, service_port: ServicePortInfo) -> int | None:
        """The number this endpoint serves ``service_port`` on, or None if it does not."""
        for p in self.ports:
            if p.name == service_port.name and p.protocol == service_port.protocol:
                return p.port
        if not self.ports and isinstance(service_port.target_port, int) and service_port.target_port > 0:
            return service_port.target_port
        return None


@dataclass(frozen=True, slots=True)
class EndpointSliceInfo:
    namespace: str
    name: str
    service: str
    endpoints: tuple[EndpointInfo, ...]
    trigger_time: float | None = None

    @property
    def service_key(self) -> str:
        return f"{self.namespace}/{self.service}"


def _ipv4(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def service_info(svc: Service) -> ServiceInfo | None:
    """``Service`` -> ``ServiceInfo``; None for what has no rules (ExternalName, headless, IPv6)."""
    spec = svc.spec
    kind = spec.type or "ClusterIP"
    if kind == "ExternalName" or not _ipv4(spec.cluster_ip):
        return None
    ports: list[ServicePortInfo] = []
    for p in spec.ports:
        protocol = p.protocol or "TCP"
        if protocol not in _PROTOCOLS or not 0 < p.port < 65536:
            continue
        target: int | str = p.target_port if p.target_port not in (0, "") else p.port
        if isinstance(target, str) and target.isdigit():
            target = int(target)
        node_port = p.node_port if kind in ("NodePort", "LoadBalancer") and 0 < p.node_port < 65536 else None
        ports.append(ServicePortInfo(p.name, protocol, p.port, target, node_port))
    timeout = DEFAULT_AFFINITY_TIMEOUT
    config = spec.session_affinity_config
    if config is not None and config.client_ip is not None and config.client_ip.timeout_seconds:
        timeout = config.client_ip.timeout_seconds
    return ServiceInfo(
        namespace=svc.metadata.namespace or "default",
        name=svc.metadata.name,
        cluster_ip=spec.cluster_ip,
        ports=tuple(ports),
        type=kind,
        session_affinity=spec.session_affinity == "ClientIP",
        affinity_timeout=timeout,
        external_local=spec.external_traffic_policy == "Local",
        internal_local=spec.internal_traffic_policy == "Local",
    )


def endpoint_slice_info(es: EndpointSlice) -> EndpointSliceInfo | None:
    """``EndpointSlice`` -> ``EndpointSliceInfo``; None if not IPv4 or not tied to a Service."""
    service = es.metadata.labels.get(SERVICE_NAME_LABEL)
    if not service or es.address_type != "IPv4":
        return None
    ports = tuple(
        EndpointPortInfo(p.name or "", p.port, p.protocol or "TCP")
        for p in es.ports
        if p.port is not None and 0 < p.port < 65536
    )
    endpoints: list[EndpointInfo] = []
    for ep in es.endpoints:
        # Kubernetes proxies only the first address of an endpoint.
        if not ep.addresses or not _ipv4(ep.addresses[0]):
            continue
        c = ep.conditions
        ready = c.ready is not False  # unset means ready
        endpoints.append(
            EndpointInfo(
                ip=ep.addresses[0],
                ports=ports,
                ready=ready,
                serving=ready if c.serving is None else c.serving,
                terminating=bool(c.terminating),
                node_name=ep.node_name,
            )
        )
    trigger: float | None = None
    stamp = es.metadata.annotations.get(TRIGGER_TIME_ANNOTATION)
    if stamp:
        try:
            trigger = to_epoch(stamp)
        except ValueError:
            trigger = None
    return EndpointSliceInfo(
        namespace=es.metadata.namespace or "default",
        name=es.metadata.name,
        service=service,
        endpoints=tuple(endpoints),
        trigger_time=trigger,
    )
