"""apps/v1: Deployment, ReplicaSet, DaemonSet."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec

from master.api.core.pod import PodTemplateSpec
from master.api.meta import LabelSelector, Object
from master.api.schema import RETAIN_KEYS, Int32, Int64, IntOrString, Time, merge_by

__all__ = [
    "DaemonSet",
    "DaemonSetCondition",
    "DaemonSetSpec",
    "DaemonSetStatus",
    "DaemonSetUpdateStrategy",
    "Deployment",
    "DeploymentCondition",
    "DeploymentSpec",
    "DeploymentStatus",
    "DeploymentStrategy",
    "ReplicaSet",
    "ReplicaSetCondition",
    "ReplicaSetSpec",
    "ReplicaSetStatus",
    "RollingUpdateDaemonSet",
    "RollingUpdateDeployment",
]


class RollingUpdateDeployment(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    max_unavailable: IntOrString | None = None
    max_surge: IntOrString | None = None


class DeploymentStrategy(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    type: str = ""  # RollingUpdate or Recreate
    rolling_update: RollingUpdateDeployment | None = None


class DeploymentSpec(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    replicas: Int32 | None = None
    selector: LabelSelector = msgspec.field(default_factory=LabelSelector)
    template: PodTemplateSpec = msgspec.field(default_factory=PodTemplateSpec)
    strategy: Annotated[DeploymentStrategy, RETAIN_KEYS] = msgspec.field(default_factory=DeploymentStrategy)
    min_ready_seconds: Int32 = 0
    revision_history_limit: Int32 | None = None
    paused: bool = False
    progress_deadline_seconds: Int32 | None = None


class DeploymentCondition(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    type: str  # Available, Progressing, ReplicaFailure
    status: str
    last_update_time: Time | None = None
    last_transition_time: Time | None = None
    reason: str = ""
    message: str = ""


class DeploymentStatus(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    observed_generation: Int64 = 0
    replicas: Int32 = 0
    updated_replicas: Int32 = 0
    ready_replicas: Int32 = 0
    available_replicas: Int32 = 0
    unavailable_replicas: Int32 = 0
    conditions: Annotated[list[DeploymentCondition], merge_by("type")] = []
    collision_count: Int32 | None = None


class Deployment(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = "apps/v1"
    KIND: ClassVar[str] = "Deployment"

    spec: DeploymentSpec = msgspec.field(default_factory=DeploymentSpec)
    status: DeploymentStatus = msgspec.field(default_factory=DeploymentStatus)


class ReplicaSetSpec(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    replicas: Int32 | None = None
    min_ready_seconds: Int32 = 0
    selector: LabelSelector = msgspec.field(default_factory=LabelSelector)
    template: PodTemplateSpec = msgspec.field(default_factory=PodTemplateSpec)


class ReplicaSetCondition(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    type: str  # ReplicaFailure
    status: str
    last_transition_time: Time | None = None
    reason: str = ""
    message: str = ""


class ReplicaSetStatus(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    replicas: Int32
    fully_labeled_replicas: Int32 = 0
    ready_replicas: Int32 = 0
    available_replicas: Int32 = 0
    observed_generation: Int64 = 0
    conditions: Annotated[list[ReplicaSetCondition], merge_by("type")] = []


class ReplicaSet(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = "apps/v1"
    KIND: ClassVar[str] = "ReplicaSet"

    spec: ReplicaSetSpec = msgspec.field(default_factory=ReplicaSetSpec)
    status: ReplicaSetStatus = msgspec.field(default_factory=lambda: ReplicaSetStatus(replicas=0))


class RollingUpdateDaemonSet(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    max_unavailable: IntOrString | None = None
    max_surge: IntOrString | None = None


class DaemonSetUpdateStrategy(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    type: str = ""  # RollingUpdate or OnDelete
    rolling_update: RollingUpdateDaemonSet | None = None


class DaemonSetSpec(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    selector: LabelSelector = msgspec.field(default_factory=LabelSelector)
    template: PodTemplateSpec = msgspec.field(default_factory=PodTemplateSpec)
    update_strategy: DaemonSetUpdateStrategy = msgspec.field(default_factory=DaemonSetUpdateStrategy)
    min_ready_seconds: Int32 = 0
    revision_history_limit: Int32 | None = None


class DaemonSetCondition(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    type: str
    status: str
    last_transition_time: Time | None = None
    reason: str = ""
    message: str = ""


class DaemonSetStatus(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    current_number_scheduled: Int32
    number_misscheduled: Int32
    desired_number_scheduled: Int32
    number_ready: Int32
    observed_generation: Int64 = 0
    updated_number_scheduled: Int32 = 0
    number_available: Int32 = 0
    number_unavailable: Int32 = 0
    collision_count: Int32 | None = None
    conditions: Annotated[list[DaemonSetCondition], merge_by("type")] = []


def _empty_daemon_set_status() -> DaemonSetStatus:
    return DaemonSetStatus(
        current_number_scheduled=0, number_misscheduled=0, desired_number_scheduled=0, number_ready=0
    )


class DaemonSet(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = "apps/v1"
    KIND: ClassVar[str] = "DaemonSet"

    spec: DaemonSetSpec = msgspec.field(default_factory=DaemonSetSpec)
    status: DaemonSetStatus = msgspec.field(default_factory=_empty_daemon_set_status)
