"""core/v1 Endpoints (the legacy per-Service address list; EndpointSlice is in discovery)."""

from __future__ import annotations

from typing import ClassVar

import msgspec

from master.api.core.common import ObjectReference
from master.api.meta import Object
from master.api.schema import Int32

__all__ = ["EndpointAddress", "EndpointPort", "EndpointSubset", "Endpoints"]


class EndpointAddress(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    ip: str
    hostname: str = ""
    node_name: str | None = None
    target_ref: ObjectReference | None = None


class EndpointPort(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str = ""
    port: Int32
    protocol: str = ""
    app_protocol: str | None = None


class EndpointSubset(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    addresses: list[EndpointAddress] = []
    not_ready_addresses: list[EndpointAddress] = []
    ports: list[EndpointPort] = []


class Endpoints(Object, kw_only=True, omit_defaults=True, rename="camel"):
    KIND: ClassVar[str] = "Endpoints"

    subsets: list[EndpointSubset] = []
