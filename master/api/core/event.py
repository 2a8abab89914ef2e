"""core/v1 Event (what ``kubectl describe`` and ``kubectl get events`` show)."""

from __future__ import annotations

from typing import ClassVar

import msgspec

from master.api.core.common import ObjectReference
from master.api.meta import Object
from master.api.schema import Int32, MicroTime, Time

__all__ = ["Event", "EventSeries", "EventSource"]


class EventSource(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    component: str = ""
    host: str = ""


class EventSeries(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    count: Int32 = 0
    last_observed_time: MicroTime | None = None  # MicroTime


class Event(Object, kw_only=True, omit_defaults=True, rename="camel"):
    KIND: ClassVar[str] = "Event"

    involved_object: ObjectReference = msgspec.field(default_factory=ObjectReference)
    reason: str = ""
    message: str = ""
    source: EventSource = msgspec.field(default_factory=EventSource)
    first_timestamp: Time | None = None
    last_timestamp: Time | None = None
    count: Int32 = 0
    type: str = ""  # Normal or Warning
    event_time: MicroTime | None = None  # MicroTime
    series: EventSeries | None = None
    action: str = ""
    related: ObjectReference | None = None
    reporting_component: str = ""
    reporting_instance: str = ""
