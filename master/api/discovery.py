"""discovery.k8s.io/v1 EndpointSlice."""

from __future__ import annotations

from typing import ClassVar

import msgspec

from master.api.core.common import ObjectReference
from master.api.meta import Object
from master.api.schema import Int32

__all__ = ["Endpoint", "EndpointConditions", "EndpointHints", "EndpointPort", "EndpointSlice", "ForZone"]


class EndpointConditions(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    ready: bool | None = None
    serving: bool | None = None
    terminating: bool | None = None


class ForZone(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str


class EndpointHints(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    for_zones: list[ForZone] = []


class Endpoint(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    addresses: list[str]
    conditions: EndpointConditions = msgspec.field(default_factory=EndpointConditions)
    hostname: str | None = None
    target_ref: ObjectReference | None = None
    node_name: str | None = None
    zone: str | None = None
    hints: EndpointHints | None = None


class EndpointPort(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str | None = None
    protocol: str | None = None
    port: Int32 | None = None
    app_protocol: str | None = None


class EndpointSlice(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = "discovery.k8s.io/v1"
    KIND: ClassVar[str] = "EndpointSlice"

    address_type: str  # IPv4, IPv6, FQDN
    endpoints: list[Endpoint] = []
    ports: list[EndpointPort] = []
