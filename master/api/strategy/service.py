"""Service: ClusterIP (default), NodePort, LoadBalancer (accepted, no cloud), ExternalName.

Allocating clusterIPs and nodePorts needs the store, so the apiserver does it; this strategy
defaults, validates, and on update carries allocated values over from the stored object when
the client left them out (as Kubernetes does, so ``kubectl apply`` of a manifest without a
clusterIP keeps the service's address).
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from master.api import field, labels, validation
from master.api.core.service import ClientIPConfig, Service, ServiceStatus, SessionAffinityConfig
from master.api.field import FieldError
from master.api.strategy.base import Strategy

__all__ = ["SERVICE_TYPES", "ServiceStrategy"]

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
PROTOCOLS = ("SCTP", "TCP", "UDP")
DEFAULT_CLIENT_IP_TIMEOUT = 10800
MAX_CLIENT_IP_TIMEOUT = 86400


class ServiceStrategy(Strategy[Service]):
    has_status: ClassVar[bool] = True
    field_selector_keys: ClassVar[frozenset[str]] = frozenset(
        {"metadata.name", "metadata.namespace", "spec.clusterIP", "spec.type"}
    )

    def name_errors(self, name: str, prefix: bool) -> list[str]:
        return validation.is_dns1035_label(name, prefix)

    def default(self, obj: Service) -> Service:
        s = obj.spec
        if not s.type:
            s.type = "ClusterIP"
        if not s.session_affinity:
            s.session_affinity = "None"
        if s.session_affinity == "ClientIP":
            cfg = s.session_affinity_config or SessionAffinityConfig()
            if cfg.client_ip is None:
                cfg.client_ip = ClientIPConfig()
            if cfg.client_ip.timeout_seconds is None:
                cfg.client_ip.timeout_seconds = DEFAULT_CLIENT_IP_TIMEOUT
            s.session_affinity_config = cfg
        for p in s.ports:
            if not p.protocol:
                p.protocol = "TCP"
            if p.target_port in (0, ""):
                p.target_port = p.port
        if s.type in ("NodePort", "LoadBalancer") and not s.external_traffic_policy:
            s.external_traffic_policy = "Cluster"
        if s.type != "ExternalName":
            if s.internal_traffic_policy is None:
                s.internal_traffic_policy = "Cluster"
            if s.cluster_ip and not s.cluster_ips:
                s.cluster_ips = [s.cluster_ip]
            elif s.cluster_ips and not s.cluster_ip:
                s.cluster_ip = s.cluster_ips[0]
            if s.ip_family_policy is None:
                s.ip_family_policy = "SingleStack"
            if not s.ip_families:
                s.ip_families = ["IPv4"]
        if s.type == "LoadBalancer" and s.allocate_load_balancer_node_ports is None:
            s.allocate_load_balancer_node_ports = True
        return obj

    def prepare_for_create(self, obj: Service) -> Service:
        super().prepare_for_create(obj)
        obj.status = ServiceStatus()
        return obj

    def prepare_for_update(self, new: Service, old: Service) -> Service:
        super().prepare_for_update(new, old)
        n, o = new.spec, old.spec
        if "ExternalName" not in (n.type, o.type) and not n.cluster_ip and not n.cluster_ips:
            n.cluster_ip, n.cluster_ips = o.cluster_ip, list(o.cluster_ips)
        if n.type in ("NodePort", "LoadBalancer"):
            old_ports = {(p.port, p.protocol): p.node_port for p in o.ports}
            n.ports = [
                msgspec.structs.replace(p, node_port=old_ports.get((p.port, p.protocol), 0)) if p.node_port == 0 else p
                for p in n.ports
            ]
        if n.health_check_node_port == 0 and n.external_traffic_policy == "Local":
            n.health_check_node_port = o.health_check_node_port
        return new

    def validate(self, obj: Service) -> list[FieldError]:
        errs = super().validate(obj)
        s = obj.spec
        if s.type not in SERVICE_TYPES:
            errs.append(field.not_supported("spec.type", s.type, SERVICE_TYPES))
        headless = s.cluster_ip == "None"
        if s.type == "ExternalName":
            if not s.external_name:
                errs.append(field.required("spec.externalName"))
            else:
                errs.extend(field.invalid("spec.externalName", s.external_name, m)
                            for m in validation.is_dns1123_subdomain(s.external_name.rstrip(".")))
            if s.cluster_ip and not headless:
                errs.append(field.forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
        elif not s.ports and not headless:
            errs.append(field.required("spec.ports"))
        if s.cluster_ip and not headless:
            errs.extend(field.invalid("spec.clusterIP", s.cluster_ip, m) for m in validation.is_ip(s.cluster_ip))
        if headless and s.type in ("NodePort", "LoadBalancer"):
            errs.append(field.invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {s.type} services"))
        if s.cluster_ip and s.cluster_ips and s.cluster_ips[0] != s.cluster_ip:
            errs.append(field.invalid("spec.clusterIPs", s.cluster_ips, "first value must match `clusterIP`"))
        names: set[str] = set()
        ports_seen: set[tuple[int, str]] = set()
        for i, p in enumerate(s.ports):
            pp = field.index("spec.ports", i)
            if len(s.ports) > 1 and not p.name:
                errs.append(field.required(field.child(pp, "name")))
            if p.name:
                errs.extend(field.invalid(field.child(pp, "name"), p.name, m) for m in validation.is_dns1123_label(p.name))
                if p.name in names:
                    errs.append(field.duplicate(field.child(pp, "name"), p.name))
                names.add(p.name)
            errs.extend(validation.validate_port(p.port, field.child(pp, "port")))
            if p.protocol not in PROTOCOLS:
                errs.append(field.not_supported(field.child(pp, "protocol"), p.protocol, PROTOCOLS))
            if (p.port, p.protocol) in ports_seen:
                errs.append(field.duplicate(pp, {"port": p.port, "protocol": p.protocol}))
            ports_seen.add((p.port, p.protocol))
            tp = p.target_port
            if isinstance(tp, int):
                errs.extend(validation.validate_port(tp, field.child(pp, "targetPort")))
            else:
                errs.extend(field.invalid(field.child(pp, "targetPort"), tp, m) for m in validation.is_port_name(tp))
            if p.node_port:
                if s.type not in ("NodePort", "LoadBalancer"):
                    errs.append(field.forbidden(field.child(pp, "nodePort"), f"may not be used when `type` is '{s.type}'"))
                errs.extend(validation.validate_port(p.node_port, field.child(pp, "nodePort")))
        errs.extend(validation.validate_labels(s.selector, "spec.selector"))
        if s.session_affinity not in ("None", "ClientIP"):
            errs.append(field.not_supported("spec.sessionAffinity", s.session_affinity, ("ClientIP", "None")))
        if s.session_affinity == "ClientIP":
            cfg = s.session_affinity_config
            t = cfg.client_ip.timeout_seconds if cfg and cfg.client_ip else None
            if t is None or not 0 < t <= MAX_CLIENT_IP_TIMEOUT:
                errs.append(field.invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", t,
                                          f"must be greater than 0 and less than {MAX_CLIENT_IP_TIMEOUT}"))
        elif s.session_affinity_config is not None and s.session_affinity_config.client_ip is not None:
            errs.append(field.invalid("spec.sessionAffinityConfig", s.session_affinity_config,
                                      "must not be set when session affinity is None"))
        if s.external_traffic_policy:
            if s.type not in ("NodePort", "LoadBalancer"):
                errs.append(field.invalid("spec.externalTrafficPolicy", s.external_traffic_policy,
                                          "may only be set when `type` is 'NodePort' or 'LoadBalancer'"))
            elif s.external_traffic_policy not in ("Cluster", "Local"):
                errs.append(field.not_supported("spec.externalTrafficPolicy", s.external_traffic_policy, ("Cluster", "Local")))
        if s.internal_traffic_policy is not None and s.internal_traffic_policy not in ("Cluster", "Local"):
            errs.append(field.not_supported("spec.internalTrafficPolicy", s.internal_traffic_policy, ("Cluster", "Local")))
        for i, fam in enumerate(s.ip_families):
            if fam != "IPv4":
                errs.append(field.invalid(field.index("spec.ipFamilies", i), fam, "not configured on this cluster"))
        if s.ip_family_policy not in (None, "SingleStack", "PreferDualStack", "RequireDualStack"):
            errs.append(field.not_supported("spec.ipFamilyPolicy", s.ip_family_policy,
                                            ("PreferDualStack", "RequireDualStack", "SingleStack")))
        elif s.ip_family_policy == "RequireDualStack":
            errs.append(field.invalid("spec.ipFamilyPolicy", s.ip_family_policy,
                                      "this cluster is not configured for dual-stack services"))
        for i, ip in enumerate(s.external_ips):
            errs.extend(field.invalid(field.index("spec.externalIPs", i), ip, m) for m in validation.is_ip(ip))
        return errs

    def validate_update(self, new: Service, old: Service) -> list[FieldError]:
        errs = super().validate_update(new, old)
        fixed = "ExternalName" not in (new.spec.type, old.spec.type) and old.spec.cluster_ip
        if fixed and new.spec.cluster_ip != old.spec.cluster_ip:
            errs.append(field.invalid("spec.clusterIPs[0]", new.spec.cluster_ip, "may not change once set"))
        return errs

    def validate_status_update(self, new: Service, old: Service) -> list[FieldError]:
        errs = super().validate_status_update(new, old)
        for i, ing in enumerate(new.status.load_balancer.ingress):
            if ing.ip:
                errs.extend(field.invalid(field.child(field.index("status.loadBalancer.ingress", i), "ip"), ing.ip, m)
                            for m in validation.is_ip(ing.ip))
        return errs

    def field_attrs(self, obj: Service) -> dict[str, str]:
        return {
            "metadata.name": obj.metadata.name,
            "metadata.namespace": obj.metadata.namespace,
            "spec.clusterIP": obj.spec.cluster_ip,
            "spec.type": obj.spec.type,
        }


def selector_of(svc: Service) -> labels.Selector:
    """Pods a Service targets; a Service without a selector targets none (manual Endpoints)."""
    return labels.from_set(svc.spec.selector) if svc.spec.selector else labels.Selector.nothing()
