"""core/v1 Namespace."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec

from master.api.meta import Object
from master.api.schema import Time, merge_by

__all__ = ["Namespace", "NamespaceCondition", "NamespaceSpec", "NamespaceStatus"]


class NamespaceSpec(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    finalizers: list[str] = []


class NamespaceCondition(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    type: str
    status: str
    last_transition_time: Time | None = None
    reason: str = ""
    message: str = ""


class NamespaceStatus(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    phase: str = ""  # Active or Terminating
    conditions: Annotated[list[NamespaceCondition], merge_by("type")] = []


class Namespace(Object, kw_only=True, omit_defaults=True, rename="camel"):
    KIND: ClassVar[str] = "Namespace"

    spec: NamespaceSpec = msgspec.field(default_factory=NamespaceSpec)
    status: NamespaceStatus = msgspec.field(default_factory=NamespaceStatus)
