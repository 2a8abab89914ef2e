"""Pod: PodSpec defaults and validation, the immutable spec, status, binding."""

from __future__ import annotations

from typing import ClassVar

import msgspec

from master.api import field, quantity, status, validation
from master.api.core.common import ObjectReference
from master.api.core.pod import Binding, Pod, PodCondition, PodSpec, PodStatus
from master.api.field import FieldError
from master.api.meta import Status
from master.api.strategy import podspec
from master.api.strategy.base import Strategy

__all__ = ["POD_PHASES", "PodStrategy", "apply_binding", "qos_class"]

POD_PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")

_MUTABLE_SPEC_MESSAGE = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)

_FIELDS = frozenset({
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
})


def qos_class(spec: PodSpec) -> str:
    """Guaranteed, Burstable or BestEffort, from the containers' cpu/memory requests and limits."""
    requests_seen = limits_seen = False
    guaranteed = True
    for c in [*spec.init_containers, *spec.containers]:
        req = {k: v for k, v in c.resources.requests.items() if k in ("cpu", "memory")}
        lim = {k: v for k, v in c.resources.limits.items() if k in ("cpu", "memory")}
        nonzero_req = {k: v for k, v in req.items() if _nonzero(v)}
        nonzero_lim = {k: v for k, v in lim.items() if _nonzero(v)}
        requests_seen = requests_seen or bool(nonzero_req)
        limits_seen = limits_seen or bool(nonzero_lim)
        if set(nonzero_lim) != {"cpu", "memory"}:
            guaranteed = False
        for k, v in nonzero_req.items():
            if k not in nonzero_lim or not _same(v, nonzero_lim[k]):
                guaranteed = False
    if not requests_seen and not limits_seen:
        return "BestEffort"
    return "Guaranteed" if guaranteed and limits_seen else "Burstable"


def _nonzero(v: str) -> bool:
    try:
        return not quantity.parse(v).is_zero()
    except quantity.QuantityError:
        return False


def _same(a: str, b: str) -> bool:
    try:
        return quantity.parse(a) == quantity.parse(b)
    except quantity.QuantityError:
        return a == b


class PodStrategy(Strategy[Pod]):
    has_status: ClassVar[bool] = True
    tracks_generation: ClassVar[bool] = True
    field_selector_keys: ClassVar[frozenset[str]] = _FIELDS

    def default(self, obj: Pod) -> Pod:
        podspec.default_pod_spec(obj.spec)
        podspec.default_requests_from_limits(obj.spec)
        return obj

    def prepare_for_create(self, obj: Pod) -> Pod:
        super().prepare_for_create(obj)
        obj.status = PodStatus(phase="Pending", qos_class=qos_class(obj.spec))
        return obj

    def validate(self, obj: Pod) -> list[FieldError]:
        return super().validate(obj) + podspec.validate_pod_spec(obj.spec)

    def validate_update(self, new: Pod, old: Pod) -> list[FieldError]:
        errs = super().validate_update(new, old)
        n, o = new.spec, old.spec
        if o.active_deadline_seconds is not None:
            if n.active_deadline_seconds is None:
                errs.append(field.invalid("spec.activeDeadlineSeconds", None,
                                          "must not update from a positive integer to nil value"))
            elif n.active_deadline_seconds > o.active_deadline_seconds:
                errs.append(field.invalid("spec.activeDeadlineSeconds", n.active_deadline_seconds,
                                          "must be less than or equal to previous value"))
        if _munged(n, o) != o:
            errs.append(field.forbidden("spec", _MUTABLE_SPEC_MESSAGE))
        return errs

    def validate_status_update(self, new: Pod, old: Pod) -> list[FieldError]:
        errs = super().validate_status_update(new, old)
        s = new.status
        if s.phase and s.phase not in POD_PHASES:
            errs.append(field.not_supported("status.phase", s.phase, POD_PHASES))
        for name, ip in (("podIP", s.pod_ip), ("hostIP", s.host_ip)):
            if ip:
                errs.extend(field.invalid(field.child("status", name), ip, m) for m in validation.is_ip(ip))
        for i, pip in enumerate(s.pod_ips):
            errs.extend(field.invalid(field.index("status.podIPs", i), pip.ip, m) for m in validation.is_ip(pip.ip))
        if s.pod_ip and s.pod_ips and s.pod_ips[0].ip != s.pod_ip:
            errs.append(field.invalid("status.podIPs[0]", s.pod_ips[0].ip, "must be equal to `status.podIP`"))
        seen: set[str] = set()
        for i, c in enumerate(s.conditions):
            if not c.type:
                errs.append(field.required(field.child(field.index("status.conditions", i), "type")))
            elif c.type in seen:
                errs.append(field.duplicate(field.child(field.index("status.conditions", i), "type"), c.type))
            seen.add(c.type)
            if c.status not in ("True", "False", "Unknown"):
                errs.append(field.not_supported(field.child(field.index("status.conditions", i), "status"),
                                                c.status, ("False", "True", "Unknown")))
        return errs

    def field_attrs(self, obj: Pod) -> dict[str, str]:
        return {
            "metadata.name": obj.metadata.name,
            "metadata.namespace": obj.metadata.namespace,
            "spec.nodeName": obj.spec.node_name,
            "spec.restartPolicy": obj.spec.restart_policy,
            "spec.schedulerName": obj.spec.scheduler_name,
            "spec.serviceAccountName": obj.spec.service_account_name,
            "spec.hostNetwork": "true" if obj.spec.host_network else "false",
            "status.phase": obj.status.phase,
            "status.podIP": obj.status.pod_ip,
            "status.nominatedNodeName": obj.status.nominated_node_name,
        }


def _munged(new: PodSpec, old: PodSpec) -> PodSpec:
    """``new`` with every field a pod update may change taken from ``old``: equal to ``old``
    exactly when the update changed nothing else."""
    containers = new.containers
    if len(containers) == len(old.containers):
        containers = [msgspec.structs.replace(c, image=oc.image) for c, oc in zip(containers, old.containers, strict=True)]
    init = new.init_containers
    if len(init) == len(old.init_containers):
        init = [msgspec.structs.replace(c, image=oc.image) for c, oc in zip(init, old.init_containers, strict=True)]
    tolerations = old.tolerations if all(t in new.tolerations for t in old.tolerations) else new.tolerations
    grace = new.termination_grace_period_seconds
    if old.termination_grace_period_seconds is not None and old.termination_grace_period_seconds < 0 and grace == 1:
        grace = old.termination_grace_period_seconds
    return msgspec.structs.replace(
        new,
        containers=containers,
        init_containers=init,
        active_deadline_seconds=old.active_deadline_seconds,
        tolerations=tolerations,
        termination_grace_period_seconds=grace,
    )


def apply_binding(pod: Pod, binding: Binding, *, now: str) -> Pod | Status:
    """The ``pods/binding`` write: a new Pod on ``binding.target.name`` with PodScheduled=True,
    or a 409 Conflict Status when the pod is already bound (or is being deleted)."""
    target: ObjectReference = binding.target
    name = pod.metadata.name
    if target.kind and target.kind != "Node":
        return status.invalid("Binding", binding.metadata.name or name, [
            field.not_supported("target.kind", target.kind, ("Node",))
        ])
    if not target.name:
        return status.invalid("Binding", binding.metadata.name or name, [field.required("target.name")])
    if pod.metadata.deletion_timestamp:
        return status.conflict("pods", name, why=f"pod {name} is being deleted, cannot be assigned to a host")
    if pod.spec.node_name:
        return status.conflict("pods", name, why=f'pod {name} is already assigned to node "{pod.spec.node_name}"')
    conditions = [c for c in pod.status.conditions if c.type != "PodScheduled"]
    conditions.append(PodCondition(type="PodScheduled", status="True", last_transition_time=now))
    annotations = {**pod.metadata.annotations, **binding.metadata.annotations}
    return msgspec.structs.replace(
        pod,
        metadata=msgspec.structs.replace(pod.metadata, annotations=annotations),
        spec=msgspec.structs.replace(pod.spec, node_name=target.name),
        status=msgspec.structs.replace(pod.status, conditions=conditions),
    )
