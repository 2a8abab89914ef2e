"""apps/v1 Deployment, ReplicaSet, DaemonSet, and their scale subresource."""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from master.api import apps as apps_types
from master.api import field, labels, validation
from master.api.apps import (
    DaemonSet,
    DaemonSetUpdateStrategy,
    Deployment,
    ReplicaSet,
    RollingUpdateDaemonSet,
    RollingUpdateDeployment,
)
from master.api.autoscaling import Scale, ScaleSpec, ScaleStatus
from master.api.core.pod import PodTemplateSpec
from master.api.field import FieldError
from master.api.meta import LabelSelector, ObjectMeta
from master.api.schema import IntOrString
from master.api.strategy import podspec
from master.api.strategy.base import Strategy

__all__ = [
    "DaemonSetStrategy",
    "DeploymentStrategy",
    "ReplicaSetStrategy",
    "apply_scale",
    "to_scale",
    "validate_int_or_percent",
]


def validate_int_or_percent(value: IntOrString | None, path: str) -> list[FieldError]:
    """A non-negative integer or a percentage ("25%") of at most 100%."""
    if value is None:
        return []
    if isinstance(value, int):
        return validation.validate_nonnegative(value, path)
    if not value.endswith("%") or not value[:-1].isdigit() or len(value) > 12:
        return [field.invalid(path, value, "a valid percent string must be a numeric string followed by an ending '%' "
                              "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")]
    if int(value[:-1]) > 100:
        return [field.invalid(path, value, "must not be greater than 100%")]
    return []


def _is_zero(v: IntOrString | None) -> bool:
    return v == 0 or v == "0%" or v is None


def _validate_selector_and_template(selector: LabelSelector, template: PodTemplateSpec, kind: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if not selector.match_labels and not selector.match_expressions:
        errs.append(field.invalid("spec.selector", selector, f"empty selector is invalid for {kind}"))
    else:
        errs.extend(labels.validate_label_selector(selector, "spec.selector"))
        if not errs:
            sel = labels.from_label_selector(selector)
            if not sel.matches(template.metadata.labels):
                errs.append(
                    field.invalid("spec.template.metadata.labels", template.metadata.labels,
                                  "`selector` does not match template `labels`")
                )
    errs.extend(podspec.validate_pod_template(template))
    rp = template.spec.restart_policy
    if rp != "Always":
        errs.append(field.not_supported("spec.template.spec.restartPolicy", rp, ("Always",)))
    if template.spec.active_deadline_seconds is not None:
        errs.append(field.forbidden("spec.template.spec.activeDeadlineSeconds",
                                    f"activeDeadlineSeconds in {kind} is not Supported"))
    return errs


def _validate_common(replicas: int | None, min_ready: int, history: int | None) -> list[FieldError]:
    errs = validation.validate_nonnegative(replicas, "spec.replicas")
    errs.extend(validation.validate_nonnegative(min_ready, "spec.minReadySeconds"))
    errs.extend(validation.validate_nonnegative(history, "spec.revisionHistoryLimit"))
    return errs


def _selector_immutable(new: LabelSelector, old: LabelSelector) -> list[FieldError]:
    return [] if new == old else [field.invalid("spec.selector", new, "field is immutable")]


class _WorkloadStrategy(Strategy[Any]):
    has_status: ClassVar[bool] = True
    tracks_generation: ClassVar[bool] = True


class DeploymentStrategy(_WorkloadStrategy):
    def default(self, obj: Deployment) -> Deployment:
        s = obj.spec
        if s.replicas is None:
            s.replicas = 1
        if not s.strategy.type:
            s.strategy.type = "RollingUpdate"
        if s.strategy.type == "RollingUpdate":
            ru = s.strategy.rolling_update or RollingUpdateDeployment()
            if ru.max_unavailable is None:
                ru.max_unavailable = "25%"
            if ru.max_surge is None:
                ru.max_surge = "25%"
            s.strategy.rolling_update = ru
        if s.revision_history_limit is None:
            s.revision_history_limit = 10
        if s.progress_deadline_seconds is None:
            s.progress_deadline_seconds = 600
        podspec.default_pod_template(s.template)
        return obj

    def validate(self, obj: Deployment) -> list[FieldError]:
        s = obj.spec
        errs = super().validate(obj)
        errs.extend(_validate_common(s.replicas, s.min_ready_seconds, s.revision_history_limit))
        errs.extend(_validate_selector_and_template(s.selector, s.template, "deployment"))
        errs.extend(_validate_deployment_strategy(s.strategy))
        if s.progress_deadline_seconds is not None:
            errs.extend(validation.validate_nonnegative(s.progress_deadline_seconds, "spec.progressDeadlineSeconds"))
            if s.progress_deadline_seconds <= s.min_ready_seconds:
                errs.append(field.invalid("spec.progressDeadlineSeconds", s.progress_deadline_seconds,
                                          "must be greater than minReadySeconds"))
        return errs

    def validate_update(self, new: Deployment, old: Deployment) -> list[FieldError]:
        return super().validate_update(new, old) + _selector_immutable(new.spec.selector, old.spec.selector)

    def validate_status_update(self, new: Deployment, old: Deployment) -> list[FieldError]:
        errs = super().validate_status_update(new, old)
        st = new.status
        for name, v in (("replicas", st.replicas), ("updatedReplicas", st.updated_replicas),
                        ("readyReplicas", st.ready_replicas), ("availableReplicas", st.available_replicas),
                        ("unavailableReplicas", st.unavailable_replicas), ("observedGeneration", st.observed_generation)):
            errs.extend(validation.validate_nonnegative(v, field.child("status", name)))
        if st.collision_count is not None:
            errs.extend(validation.validate_nonnegative(st.collision_count, "status.collisionCount"))
        return errs


def _validate_deployment_strategy(st: apps_types.DeploymentStrategy) -> list[FieldError]:
    errs: list[FieldError] = []
    if st.type not in ("RollingUpdate", "Recreate"):
        errs.append(field.not_supported("spec.strategy.type", st.type, ("Recreate", "RollingUpdate")))
    if st.type == "Recreate" and st.rolling_update is not None:
        errs.append(field.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"))
    if st.type == "RollingUpdate":
        ru = st.rolling_update
        if ru is None:
            errs.append(field.required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil"))
        else:
            p = "spec.strategy.rollingUpdate"
            errs.extend(validate_int_or_percent(ru.max_unavailable, field.child(p, "maxUnavailable")))
            errs.extend(validate_int_or_percent(ru.max_surge, field.child(p, "maxSurge")))
            if _is_zero(ru.max_unavailable) and _is_zero(ru.max_surge):
                errs.append(field.invalid(field.child(p, "maxUnavailable"), ru.max_unavailable,
                                          "may not be 0 when `maxSurge` is 0"))
    return errs


class ReplicaSetStrategy(_WorkloadStrategy):
    field_selector_keys: ClassVar[frozenset[str]] = frozenset({"metadata.name", "metadata.namespace", "status.replicas"})

    def default(self, obj: ReplicaSet) -> ReplicaSet:
        if obj.spec.replicas is None:
            obj.spec.replicas = 1
        podspec.default_pod_template(obj.spec.template)
        return obj

    def validate(self, obj: ReplicaSet) -> list[FieldError]:
        s = obj.spec
        errs = super().validate(obj)
        errs.extend(_validate_common(s.replicas, s.min_ready_seconds, None))
        errs.extend(_validate_selector_and_template(s.selector, s.template, "ReplicaSet"))
        return errs

    def validate_update(self, new: ReplicaSet, old: ReplicaSet) -> list[FieldError]:
        return super().validate_update(new, old) + _selector_immutable(new.spec.selector, old.spec.selector)

    def validate_status_update(self, new: ReplicaSet, old: ReplicaSet) -> list[FieldError]:
        errs = super().validate_status_update(new, old)
        st = new.status
        for name, v in (("replicas", st.replicas), ("fullyLabeledReplicas", st.fully_labeled_replicas),
                        ("readyReplicas", st.ready_replicas), ("availableReplicas", st.available_replicas),
                        ("observedGeneration", st.observed_generation)):
            errs.extend(validation.validate_nonnegative(v, field.child("status", name)))
        if st.ready_replicas > st.replicas:
            errs.append(field.invalid("status.readyReplicas", st.ready_replicas,
                                      "cannot be greater than status.replicas"))
        if st.available_replicas > st.ready_replicas:
            errs.append(field.invalid("status.availableReplicas", st.available_replicas,
                                      "cannot be greater than readyReplicas"))
        return errs

    def field_attrs(self, obj: ReplicaSet) -> dict[str, str]:
        return {
            "metadata.name": obj.metadata.name,
            "metadata.namespace": obj.metadata.namespace,
            "status.replicas": str(obj.status.replicas),
        }


class DaemonSetStrategy(_WorkloadStrategy):
    def default(self, obj: DaemonSet) -> DaemonSet:
        s = obj.spec
        if not s.update_strategy.type:
            s.update_strategy = DaemonSetUpdateStrategy(type="RollingUpdate", rolling_update=s.update_strategy.rolling_update)
        if s.update_strategy.type == "RollingUpdate":
            ru = s.update_strategy.rolling_update or RollingUpdateDaemonSet()
            if ru.max_unavailable is None:
                ru.max_unavailable = 1
            if ru.max_surge is None:
                ru.max_surge = 0
            s.update_strategy.rolling_update = ru
        if s.revision_history_limit is None:
            s.revision_history_limit = 10
        podspec.default_pod_template(s.template)
        return obj

    def validate(self, obj: DaemonSet) -> list[FieldError]:
        s = obj.spec
        errs = super().validate(obj)
        errs.extend(_validate_common(None, s.min_ready_seconds, s.revision_history_limit))
        errs.extend(_validate_selector_and_template(s.selector, s.template, "daemonset"))
        us = s.update_strategy
        if us.type not in ("RollingUpdate", "OnDelete"):
            errs.append(field.not_supported("spec.updateStrategy.type", us.type, ("OnDelete", "RollingUpdate")))
        if us.type == "RollingUpdate" and us.rolling_update is not None:
            p = "spec.updateStrategy.rollingUpdate"
            ru = us.rolling_update
            errs.extend(validate_int_or_percent(ru.max_unavailable, field.child(p, "maxUnavailable")))
            errs.extend(validate_int_or_percent(ru.max_surge, field.child(p, "maxSurge")))
            if _is_zero(ru.max_unavailable) and _is_zero(ru.max_surge):
                errs.append(field.invalid(field.child(p, "maxUnavailable"), ru.max_unavailable,
                                          "may not be 0 when `maxSurge` is 0"))
        return errs

    def validate_update(self, new: DaemonSet, old: DaemonSet) -> list[FieldError]:
        return super().validate_update(new, old) + _selector_immutable(new.spec.selector, old.spec.selector)

    def validate_status_update(self, new: DaemonSet, old: DaemonSet) -> list[FieldError]:
        errs = super().validate_status_update(new, old)
        st = new.status
        for name, v in (("currentNumberScheduled", st.current_number_scheduled),
                        ("numberMisscheduled", st.number_misscheduled),
                        ("desiredNumberScheduled", st.desired_number_scheduled),
                        ("numberReady", st.number_ready), ("updatedNumberScheduled", st.updated_number_scheduled),
                        ("numberAvailable", st.number_available), ("numberUnavailable", st.number_unavailable),
                        ("observedGeneration", st.observed_generation)):
            errs.extend(validation.validate_nonnegative(v, field.child("status", name)))
        return errs


def to_scale(obj: Deployment | ReplicaSet) -> Scale:
    """The autoscaling/v1 Scale view of a Deployment or ReplicaSet."""
    m = obj.metadata
    sel = labels.from_label_selector(obj.spec.selector) if obj.spec.selector else labels.Selector()
    return Scale(
        metadata=ObjectMeta(
            name=m.name,
            namespace=m.namespace,
            uid=m.uid,
            resource_version=m.resource_version,
            creation_timestamp=m.creation_timestamp,
        ),
        spec=ScaleSpec(replicas=obj.spec.replicas or 0),
        status=ScaleStatus(replicas=obj.status.replicas, selector=str(sel)),
    )


def apply_scale(obj: Deployment | ReplicaSet, scale: Scale) -> Deployment | ReplicaSet:
    """A new object with ``spec.replicas`` from the Scale (validate it as an update)."""
    spec = msgspec.structs.replace(obj.spec, replicas=scale.spec.replicas)
    return msgspec.structs.replace(obj, spec=spec)
