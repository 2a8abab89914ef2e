"""coordination.k8s.io/v1 Lease: node heartbeats (kube-node-lease) and leader election."""

from __future__ import annotations

from typing import ClassVar

import msgspec

from master.api.meta import Object
from master.api.schema import Int32, MicroTime

__all__ = ["Lease", "LeaseSpec"]


class LeaseSpec(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    holder_identity: str | None = None
    lease_duration_seconds: Int32 | None = None
    acquire_time: MicroTime | None = None  # MicroTime
    renew_time: MicroTime | None = None  # MicroTime
    lease_transitions: Int32 | None = None


class Lease(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = "coordination.k8s.io/v1"
    KIND: ClassVar[str] = "Lease"

    spec: LeaseSpec = msgspec.field(default_factory=LeaseSpec)
