"""coordination.k8s.io/v1 Lease."""

from __future__ import annotations

from typing import ClassVar

from master.api import field, timefmt
from master.api.coordination import Lease
from master.api.field import FieldError
from master.api.strategy.base import Strategy

__all__ = ["LeaseStrategy"]


class LeaseStrategy(Strategy[Lease]):
    allow_create_on_update: ClassVar[bool] = True

    def validate(self, obj: Lease) -> list[FieldError]:
        errs = super().validate(obj)
        s = obj.spec
        if s.lease_duration_seconds is not None and s.lease_duration_seconds <= 0:
            errs.append(field.invalid("spec.leaseDurationSeconds", s.lease_duration_seconds, "must be greater than 0"))
        if s.lease_transitions is not None and s.lease_transitions < 0:
            errs.append(field.invalid("spec.leaseTransitions", s.lease_transitions, "must be greater than or equal to 0"))
        for name, value in (("acquireTime", s.acquire_time), ("renewTime", s.renew_time)):
            if value:
                try:
                    timefmt.parse_time(value)
                except timefmt.TimeFormatError as exc:
                    errs.append(field.invalid(field.child("spec", name), value, str(exc)))
        return errs
