"""Endpoints and EndpointSlices: addresses must be IPs, ports valid."""

from __future__ import annotations

from typing import ClassVar

from master.api import field, validation
from master.api.core.endpoints import Endpoints
from master.api.discovery import EndpointSlice
from master.api.field import FieldError
from master.api.strategy.base import Strategy

__all__ = ["EndpointSliceStrategy", "EndpointsStrategy"]

PROTOCOLS = ("SCTP", "TCP", "UDP")
ADDRESS_TYPES = ("FQDN", "IPv4", "IPv6")


class EndpointsStrategy(Strategy[Endpoints]):
    allow_create_on_update: ClassVar[bool] = True

    def default(self, obj: Endpoints) -> Endpoints:
        for subset in obj.subsets:
            for port in subset.ports:
                if not port.protocol:
                    port.protocol = "TCP"
        return obj

    def validate(self, obj: Endpoints) -> list[FieldError]:
        errs = super().validate(obj)
        for i, subset in enumerate(obj.subsets):
            sp = field.index("subsets", i)
            for kind, addrs in (("addresses", subset.addresses), ("notReadyAddresses", subset.not_ready_addresses)):
                for j, a in enumerate(addrs):
                    p = field.child(field.index(field.child(sp, kind), j), "ip")
                    errs.extend(field.invalid(p, a.ip, m) for m in validation.is_ip(a.ip))
            if (subset.addresses or subset.not_ready_addresses) and not subset.ports:
                errs.append(field.required(field.child(sp, "ports")))
            for j, port in enumerate(subset.ports):
                pp = field.index(field.child(sp, "ports"), j)
                errs.extend(validation.validate_port(port.port, field.child(pp, "port")))
                if port.protocol not in PROTOCOLS:
                    errs.append(field.not_supported(field.child(pp, "protocol"), port.protocol, PROTOCOLS))
                if len(subset.ports) > 1 and not port.name:
                    errs.append(field.required(field.child(pp, "name")))
        return errs


class EndpointSliceStrategy(Strategy[EndpointSlice]):
    tracks_generation: ClassVar[bool] = True

    def default(self, obj: EndpointSlice) -> EndpointSlice:
        for port in obj.ports:
            if port.protocol is None:
                port.protocol = "TCP"
            if port.name is None:
                port.name = ""
        return obj

    def prepare_for_update(self, new: EndpointSlice, old: EndpointSlice) -> EndpointSlice:
        super().prepare_for_update(new, old)
        if (new.endpoints, new.ports, new.address_type) != (old.endpoints, old.ports, old.address_type):
            new.metadata.generation = old.metadata.generation + 1
        return new

    def validate(self, obj: EndpointSlice) -> list[FieldError]:
        errs = super().validate(obj)
        if obj.address_type not in ADDRESS_TYPES:
            errs.append(field.not_supported("addressType", obj.address_type, ADDRESS_TYPES))
        for i, ep in enumerate(obj.endpoints):
            p = field.index("endpoints", i)
            if not ep.addresses:
                errs.append(field.required(field.child(p, "addresses"), "must contain at least 1 address"))
            if obj.address_type in ("IPv4", "IPv6"):
                for j, a in enumerate(ep.addresses):
                    errs.extend(field.invalid(field.index(field.child(p, "addresses"), j), a, m) for m in validation.is_ip(a))
            if ep.node_name:
                errs.extend(field.invalid(field.child(p, "nodeName"), ep.node_name, m)
                            for m in validation.is_dns1123_subdomain(ep.node_name))
        for i, port in enumerate(obj.ports):
            p = field.index("ports", i)
            if port.port is not None:
                errs.extend(validation.validate_port(port.port, field.child(p, "port")))
            if port.protocol not in PROTOCOLS:
                errs.append(field.not_supported(field.child(p, "protocol"), port.protocol, PROTOCOLS))
        return errs

    def validate_update(self, new: EndpointSlice, old: EndpointSlice) -> list[FieldError]:
        errs = super().validate_update(new, old)
        if new.address_type != old.address_type:
            errs.append(field.invalid("addressType", new.address_type, "field is immutable"))
        return errs
