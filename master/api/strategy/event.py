"""core/v1 Event: free-form, PUT may create; field selectors on involvedObject.*, reason, type."""

from __future__ import annotations

from typing import ClassVar

from master.api import field
from master.api.core.event import Event
from master.api.field import FieldError
from master.api.strategy.base import Strategy

__all__ = ["EventStrategy"]

_FIELDS = frozenset({
    "metadata.name",
    "metadata.namespace",
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
})


class EventStrategy(Strategy[Event]):
    allow_create_on_update: ClassVar[bool] = True
    field_selector_keys: ClassVar[frozenset[str]] = _FIELDS

    def validate(self, obj: Event) -> list[FieldError]:
        errs = super().validate(obj)
        ns = obj.metadata.namespace
        io_ns = obj.involved_object.namespace
        if io_ns and ns and io_ns != ns:
            errs.append(field.invalid("involvedObject.namespace", io_ns, "does not match event.namespace"))
        if obj.type and obj.type not in ("Normal", "Warning"):
            errs.append(field.not_supported("type", obj.type, ("Normal", "Warning")))
        if obj.count < 0:
            errs.append(field.invalid("count", obj.count, "must be greater than or equal to 0"))
        return errs

    def field_attrs(self, obj: Event) -> dict[str, str]:
        io = obj.involved_object
        return {
            "metadata.name": obj.metadata.name,
            "metadata.namespace": obj.metadata.namespace,
            "involvedObject.kind": io.kind,
            "involvedObject.namespace": io.namespace,
            "involvedObject.name": io.name,
            "involvedObject.uid": io.uid,
            "involvedObject.apiVersion": io.api_version,
            "involvedObject.resourceVersion": io.resource_version,
            "involvedObject.fieldPath": io.field_path,
            "reason": obj.reason,
            "reportingComponent": obj.reporting_component,
            "source": obj.source.component,
            "type": obj.type,
        }
