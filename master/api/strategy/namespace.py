"""Namespace: DNS-1123 label names, the "kubernetes" finalizer, phase Active."""

from __future__ import annotations

from typing import ClassVar

from master.api import field, validation
from master.api.core.namespace import Namespace, NamespaceStatus
from master.api.field import FieldError
from master.api.strategy.base import Strategy

__all__ = ["NAMESPACE_FINALIZER", "NamespaceStrategy"]

NAMESPACE_FINALIZER = "kubernetes"


class NamespaceStrategy(Strategy[Namespace]):
    namespaced: ClassVar[bool] = False
    has_status: ClassVar[bool] = True
    field_selector_keys: ClassVar[frozenset[str]] = frozenset({"metadata.name", "status.phase"})

    def name_errors(self, name: str, prefix: bool) -> list[str]:
        return validation.is_dns1123_label(name, prefix)

    def default(self, obj: Namespace) -> Namespace:
        if not obj.status.phase:
            obj.status.phase = "Active"
        # The label Kubernetes adds so selectors can pick namespaces by name.
        if obj.metadata.name and obj.metadata.labels.get("kubernetes.io/metadata.name") != obj.metadata.name:
            obj.metadata.labels = {**obj.metadata.labels, "kubernetes.io/metadata.name": obj.metadata.name}
        return obj

    def prepare_for_create(self, obj: Namespace) -> Namespace:
        super().prepare_for_create(obj)
        obj.status = NamespaceStatus(phase="Active")
        if NAMESPACE_FINALIZER not in obj.spec.finalizers:
            obj.spec.finalizers = [*obj.spec.finalizers, NAMESPACE_FINALIZER]
        return obj

    def prepare_for_update(self, new: Namespace, old: Namespace) -> Namespace:
        super().prepare_for_update(new, old)
        # spec.finalizers changes only through the finalize subresource.
        new.spec = old.spec
        return new

    def validate(self, obj: Namespace) -> list[FieldError]:
        errs = super().validate(obj)
        for i, f in enumerate(obj.spec.finalizers):
            p = field.index("spec.finalizers", i)
            msgs = validation.is_qualified_name(f)
            errs.extend(field.invalid(p, f, m) for m in msgs)
            if not msgs and "/" not in f and f != NAMESPACE_FINALIZER:
                errs.append(field.invalid(p, f, "name is neither a standard finalizer name nor is it fully qualified"))
        return errs

    def validate_status_update(self, new: Namespace, old: Namespace) -> list[FieldError]:
        errs = super().validate_status_update(new, old)
        if new.status.phase not in ("Active", "Terminating"):
            errs.append(field.not_supported("status.phase", new.status.phase, ("Active", "Terminating")))
        return errs

    def finalize(self, new: Namespace, old: Namespace) -> Namespace:
        """The ``namespaces/finalize`` subresource: only spec.finalizers may change."""
        finalizers = new.spec.finalizers
        new.metadata = old.metadata
        new.status = old.status
        new.spec = type(old.spec)(finalizers=list(finalizers))
        return new

    def field_attrs(self, obj: Namespace) -> dict[str, str]:
        return {"metadata.name": obj.metadata.name, "status.phase": obj.status.phase}
