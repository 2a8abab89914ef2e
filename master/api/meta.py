"""meta/v1: the shapes every object shares.

``TypeMeta`` is the base of every top-level type: its ``apiVersion`` and ``kind`` fill in from
the class (``Pod().kind == "Pod"``) and so are always encoded, though Structs omit defaults.
``Object`` adds ``metadata``; every stored resource is an ``Object``. Lists are
``ObjectList[T]`` (kind "PodList" etc. set by ``master.api.codec.encode_list``).

Unset-vs-zero follows Kubernetes: pointer fields in Go are ``X | None = None`` here; plain
strings, numbers, maps and lists default to their zero value and are omitted when zero, as Go's
``omitempty`` does. Fields the OpenAPI marks required have no default (always encoded); a
decoder fills them with zero values when a client leaves them out, as Go's JSON does.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Generic, TypeVar

import msgspec

from master.api.schema import MERGE, Int32, Int64, Time, merge_by

__all__ = [
    "APIGroup",
    "APIGroupList",
    "APIResource",
    "APIResourceList",
    "APIVersions",
    "Condition",
    "DeleteOptions",
    "GroupVersionForDiscovery",
    "LabelSelector",
    "LabelSelectorRequirement",
    "ListMeta",
    "Object",
    "ObjectList",
    "ObjectMeta",
    "OwnerReference",
    "Preconditions",
    "ServerAddressByClientCIDR",
    "Status",
    "StatusCause",
    "StatusDetails",
    "TypeMeta",
    "WatchEvent",
]

T = TypeVar("T")


class TypeMeta(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    """apiVersion and kind, filled from the class's ``API_VERSION``/``KIND`` when not given."""

    API_VERSION: ClassVar[str] = "v1"
    KIND: ClassVar[str] = ""

    api_version: str = ""
    kind: str = ""

    def __post_init__(self) -> None:
        if not self.api_version:
            self.api_version = self.API_VERSION
        if not self.kind:
            self.kind = self.KIND


class OwnerReference(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool | None = None
    block_owner_deletion: bool | None = None


class ObjectMeta(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    """metadata. selfLink and managedFields are not kept (decoding drops them)."""

    name: str = ""
    generate_name: str = ""
    namespace: str = ""
    uid: str = ""
    resource_version: str = ""
    generation: Int64 = 0
    creation_timestamp: Time | None = None
    deletion_timestamp: Time | None = None
    deletion_grace_period_seconds: Int64 | None = None
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    owner_references: Annotated[list[OwnerReference], merge_by("uid")] = []
    finalizers: Annotated[list[str], MERGE] = []


class Object(TypeMeta, kw_only=True, omit_defaults=True, rename="camel", weakref=True):
    """A top-level object with metadata: the base of every resource type. (Weakly referable:
    ``master.api.intern.intern_object`` keeps one copy of each object version per process.)"""

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)


class ListMeta(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    resource_version: str = ""
    continue_: str = msgspec.field(default="", name="continue")
    remaining_item_count: Int64 | None = None


class ObjectList(TypeMeta, Generic[T], kw_only=True, omit_defaults=True, rename="camel"):
    """Any list (PodList, ...). ``items`` is always encoded, also when empty."""

    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    items: list[T]


class LabelSelectorRequirement(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    key: str
    operator: str  # In, NotIn, Exists, DoesNotExist
    values: list[str] = []


class LabelSelector(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    """The structured selector of workloads. ``master.api.labels.from_label_selector`` makes it a
    matcher: None selects nothing, an empty selector everything."""

    match_labels: dict[str, str] = {}
    match_expressions: list[LabelSelectorRequirement] = []


class Condition(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    """metav1.Condition (Service status conditions and newer APIs)."""

    type: str
    status: str  # True, False, Unknown
    observed_generation: Int64 = 0
    last_transition_time: str
    reason: str
    message: str


class StatusCause(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    reason: str = ""
    message: str = ""
    field: str = ""


class StatusDetails(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str = ""
    group: str = ""
    kind: str = ""
    uid: str = ""
    causes: list[StatusCause] = []
    retry_after_seconds: Int32 = 0


class Status(TypeMeta, kw_only=True, omit_defaults=True, rename="camel"):
    """metav1.Status. Build failures with ``master.api.status``."""

    KIND: ClassVar[str] = "Status"

    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    status: str = ""  # Success or Failure
    message: str = ""
    reason: str = ""
    details: StatusDetails | None = None
    code: Int32 = 0


class Preconditions(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    uid: str | None = None
    resource_version: str | None = None


class DeleteOptions(TypeMeta, kw_only=True, omit_defaults=True, rename="camel"):
    KIND: ClassVar[str] = "DeleteOptions"

    grace_period_seconds: Int64 | None = None
    preconditions: Preconditions | None = None
    orphan_dependents: bool | None = None
    propagation_policy: str | None = None  # Orphan, Background, Foreground
    dry_run: list[str] = []


class WatchEvent(msgspec.Struct, kw_only=True, rename="camel"):
    """One line of a watch stream: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR (object a Status).

    ``object`` is the object's JSON as is (``msgspec.Raw``), so a server can splice in bytes it
    already has and a client decodes the object with the type it expects.
    """

    type: str
    object: msgspec.Raw


class APIResource(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str
    singular_name: str
    namespaced: bool
    group: str = ""
    version: str = ""
    kind: str
    verbs: list[str]
    short_names: list[str] = []
    categories: list[str] = []


class APIResourceList(TypeMeta, kw_only=True, omit_defaults=True, rename="camel"):
    KIND: ClassVar[str] = "APIResourceList"

    group_version: str
    resources: list[APIResource]


class GroupVersionForDiscovery(msgspec.Struct, kw_only=True, rename="camel"):
    group_version: str
    version: str


class APIGroup(TypeMeta, kw_only=True, omit_defaults=True, rename="camel"):
    KIND: ClassVar[str] = "APIGroup"

    name: str
    versions: list[GroupVersionForDiscovery]
    preferred_version: GroupVersionForDiscovery | None = None


class APIGroupList(TypeMeta, kw_only=True, omit_defaults=True, rename="camel"):
    KIND: ClassVar[str] = "APIGroupList"

    groups: list[APIGroup]


class ServerAddressByClientCIDR(msgspec.Struct, kw_only=True, rename="camel"):
    client_cidr: str = msgspec.field(name="clientCIDR")
    server_address: str


class APIVersions(TypeMeta, kw_only=True, omit_defaults=True, rename="camel"):
    KIND: ClassVar[str] = "APIVersions"

    versions: list[str]
    server_address_by_client_cidrs: list[ServerAddressByClientCIDR] = msgspec.field(
        name="serverAddressByClientCIDRs"
    )
