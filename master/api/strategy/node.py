"""Node: registered by the kubelet with its status; podCIDR and providerID set once."""

from __future__ import annotations

import ipaddress
from typing import ClassVar

from master.api import field, quantity, validation
from master.api.core.node import Node
from master.api.field import FieldError
from master.api.strategy.base import Strategy

__all__ = ["NodeStrategy"]

TAINT_EFFECTS = ("NoExecute", "NoSchedule", "PreferNoSchedule")
ADDRESS_TYPES = ("ExternalDNS", "ExternalIP", "Hostname", "InternalDNS", "InternalIP")


def _canonical(rl: dict[str, str]) -> dict[str, str]:
    out = {}
    for k, v in rl.items():
        try:
            out[k] = quantity.canonical(v)
        except quantity.QuantityError:
            out[k] = v
    return out


class NodeStrategy(Strategy[Node]):
    namespaced: ClassVar[bool] = False
    has_status: ClassVar[bool] = True
    reset_status_on_create: ClassVar[bool] = False
    field_selector_keys: ClassVar[frozenset[str]] = frozenset({"metadata.name", "spec.unschedulable"})

    def default(self, obj: Node) -> Node:
        s, st = obj.spec, obj.status
        if s.pod_cidr and not s.pod_cidrs:
            s.pod_cidrs = [s.pod_cidr]
        elif s.pod_cidrs and not s.pod_cidr:
            s.pod_cidr = s.pod_cidrs[0]
        st.capacity = _canonical(st.capacity)
        st.allocatable = _canonical(st.allocatable) if st.allocatable else dict(st.capacity)
        return obj

    def validate(self, obj: Node) -> list[FieldError]:
        errs = super().validate(obj)
        s = obj.spec
        for i, cidr in enumerate(s.pod_cidrs):
            try:
                ipaddress.ip_network(cidr, strict=True)
            except ValueError:
                errs.append(field.invalid(field.index("spec.podCIDRs", i), cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
        if s.pod_cidr and s.pod_cidrs and s.pod_cidrs[0] != s.pod_cidr:
            errs.append(field.invalid("spec.podCIDRs", s.pod_cidrs, "first value must match `spec.podCIDR`"))
        if len(s.pod_cidrs) > 2:
            errs.append(field.invalid("spec.podCIDRs", s.pod_cidrs, "may specify no more than one CIDR for each IP family"))
        seen: set[tuple[str, str]] = set()
        for i, t in enumerate(s.taints):
            p = field.index("spec.taints", i)
            if not t.key:
                errs.append(field.required(field.child(p, "key")))
            else:
                errs.extend(field.invalid(field.child(p, "key"), t.key, m) for m in validation.is_qualified_name(t.key))
            if t.value:
                errs.extend(field.invalid(field.child(p, "value"), t.value, m) for m in validation.is_valid_label_value(t.value))
            if not t.effect:
                errs.append(field.required(field.child(p, "effect")))
            elif t.effect not in TAINT_EFFECTS:
                errs.append(field.not_supported(field.child(p, "effect"), t.effect, TAINT_EFFECTS))
            if (t.key, t.effect) in seen:
                errs.append(field.invalid(p, f"{t.key}:{t.effect}", "taints must be unique by key and effect pair"))
            seen.add((t.key, t.effect))
        errs.extend(self._validate_status(obj))
        return errs

    def _validate_status(self, obj: Node) -> list[FieldError]:
        errs: list[FieldError] = []
        st = obj.status
        for kind, rl in (("capacity", st.capacity), ("allocatable", st.allocatable)):
            for k, v in rl.items():
                try:
                    if quantity.parse(v).amount < 0:
                        errs.append(field.invalid(field.key(field.child("status", kind), k), v, "must be greater than or equal to 0"))
                except quantity.QuantityError as exc:
                    errs.append(field.invalid(field.key(field.child("status", kind), k), v, str(exc)))
        for i, a in enumerate(st.addresses):
            p = field.index("status.addresses", i)
            if a.type not in ADDRESS_TYPES:
                errs.append(field.not_supported(field.child(p, "type"), a.type, ADDRESS_TYPES))
            if not a.address:
                errs.append(field.required(field.child(p, "address")))
        return errs

    def validate_update(self, new: Node, old: Node) -> list[FieldError]:
        errs = super().validate_update(new, old)
        if old.spec.pod_cidrs and new.spec.pod_cidrs != old.spec.pod_cidrs:
            errs.append(field.forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid'))
        if old.spec.provider_id and new.spec.provider_id != old.spec.provider_id:
            errs.append(field.forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid'))
        return errs

    def validate_status_update(self, new: Node, old: Node) -> list[FieldError]:
        return super().validate_status_update(new, old) + self._validate_status(new)

    def field_attrs(self, obj: Node) -> dict[str, str]:
        return {"metadata.name": obj.metadata.name, "spec.unschedulable": "true" if obj.spec.unschedulable else "false"}
