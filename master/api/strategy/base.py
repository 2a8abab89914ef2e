"""The generic strategy: what every resource gets unless its own strategy says more.

A strategy is the per-kind rulebook the apiserver applies around storage (Kubernetes'
``RESTCreateStrategy``/``RESTUpdateStrategy``), free of I/O. The apiserver's write paths::

    create:        decode -> default -> admission -> prepare_for_create -> (name from
                   generateName, uid, creationTimestamp: the apiserver's) -> validate -> store
    update:        decode -> default -> admission -> prepare_for_update(new, old)
                   -> validate_update(new, old) -> store
    status update: decode -> prepare_for_status_update(new, old) -> validate_status_update -> store

``default`` and ``prepare_*`` change the object they are given (the request's freshly decoded
object) in place and return it; they never change ``old``, but the result may share parts with
``old``, so treat it as read-only afterwards. Validators return ``FieldError`` lists.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

import msgspec

from master.api import field, validation
from master.api.field import FieldError
from master.api.meta import Object, ObjectMeta

__all__ = [
    "STANDARD_FINALIZERS",
    "Strategy",
    "validate_object_meta",
    "validate_object_meta_update",
]

ObjT = TypeVar("ObjT", bound=Object)

# Finalizers Kubernetes accepts without a domain prefix.
STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})


class Strategy(Generic[ObjT]):
    """Rules for one kind. Subclass and override what the kind needs; call ``super()``."""

    namespaced: ClassVar[bool] = True
    # The kind has a status subresource: updates of the main resource keep the stored status,
    # status updates keep the stored spec.
    has_status: ClassVar[bool] = False
    # Create clears the status a client sent (Node keeps it: the kubelet registers with status).
    reset_status_on_create: ClassVar[bool] = True
    # metadata.generation is 1 on create and +1 on every spec change.
    tracks_generation: ClassVar[bool] = False
    # A PUT to a missing object creates it (Endpoints, Events, Leases).
    allow_create_on_update: ClassVar[bool] = False
    # A PUT without metadata.resourceVersion overwrites (instead of 409 Conflict).
    allow_unconditional_update: ClassVar[bool] = True
    # Fields ``field_attrs`` reports, i.e. what a fieldSelector may name.
    field_selector_keys: ClassVar[frozenset[str]] = frozenset({"metadata.name", "metadata.namespace"})

    def name_errors(self, name: str, prefix: bool) -> list[str]:
        """Names of this kind: DNS-1123 subdomains for most, labels for namespaces, DNS-1035
        labels for services. ``prefix`` is True for a generateName."""
        return validation.is_dns1123_subdomain(name, prefix)

    def default(self, obj: ObjT) -> ObjT:
        return obj

    def prepare_for_create(self, obj: ObjT) -> ObjT:
        meta = obj.metadata
        meta.deletion_timestamp = None
        meta.deletion_grace_period_seconds = None
        meta.generation = 1 if self.tracks_generation else 0
        if self.has_status and self.reset_status_on_create:
            obj.status = type(obj)().status  # type: ignore[attr-defined]
        return obj

    def prepare_for_update(self, new: ObjT, old: ObjT) -> ObjT:
        _carry_system_meta(new.metadata, old.metadata)
        if self.has_status:
            new.status = old.status  # type: ignore[attr-defined]
        if self.tracks_generation:
            changed = getattr(new, "spec", None) != getattr(old, "spec", None)
            new.metadata.generation = old.metadata.generation + (1 if changed else 0)
        return new

    def prepare_for_status_update(self, new: ObjT, old: ObjT) -> ObjT:
        # Status writers may not touch metadata (Kubernetes' ResetObjectMetaForStatus) or spec.
        new.metadata = msgspec.structs.replace(old.metadata, resource_version=new.metadata.resource_version)
        if hasattr(old, "spec"):
            new.spec = old.spec  # type: ignore[attr-defined]
        return new

    def validate(self, obj: ObjT) -> list[FieldError]:
        return validate_object_meta(obj.metadata, namespaced=self.namespaced, name_validator=self.name_errors)

    def validate_update(self, new: ObjT, old: ObjT) -> list[FieldError]:
        return validate_object_meta_update(new.metadata, old.metadata) + self.validate(new)

    def validate_status_update(self, new: ObjT, old: ObjT) -> list[FieldError]:
        return validate_object_meta_update(new.metadata, old.metadata)

    def field_attrs(self, obj: ObjT) -> dict[str, str]:
        return {"metadata.name": obj.metadata.name, "metadata.namespace": obj.metadata.namespace}


def _carry_system_meta(new: ObjectMeta, old: ObjectMeta) -> None:
    """Fields a client cannot change by update (Kubernetes' rest.BeforeUpdate)."""
    new.generation = old.generation
    if not new.uid:
        new.uid = old.uid
    if old.creation_timestamp:
        new.creation_timestamp = old.creation_timestamp
    if old.deletion_timestamp:
        new.deletion_timestamp = old.deletion_timestamp
    else:
        new.deletion_timestamp = None
    if old.deletion_grace_period_seconds is not None and new.deletion_grace_period_seconds is None:
        new.deletion_grace_period_seconds = old.deletion_grace_period_seconds


def validate_object_meta(
    meta: ObjectMeta,
    *,
    namespaced: bool,
    name_validator: validation.NameValidator = validation.is_dns1123_subdomain,
    path: str = "metadata",
) -> list[FieldError]:
    errs: list[FieldError] = []
    if meta.generate_name:
        errs.extend(
            field.invalid(field.child(path, "generateName"), meta.generate_name, m)
            for m in name_validator(meta.generate_name, True)
        )
    if meta.name:
        errs.extend(field.invalid(field.child(path, "name"), meta.name, m) for m in name_validator(meta.name, False))
    elif not meta.generate_name:
        errs.append(field.required(field.child(path, "name"), "name or generateName is required"))
    ns_path = field.child(path, "namespace")
    if namespaced:
        if not meta.namespace:
            errs.append(field.required(ns_path))
        else:
            errs.extend(field.invalid(ns_path, meta.namespace, m) for m in validation.is_dns1123_label(meta.namespace))
    elif meta.namespace:
        errs.append(field.forbidden(ns_path, "not allowed on this type"))
    errs.extend(validation.validate_nonnegative(meta.generation, field.child(path, "generation")))
    errs.extend(validation.validate_labels(meta.labels, field.child(path, "labels")))
    errs.extend(validation.validate_annotations(meta.annotations, field.child(path, "annotations")))
    errs.extend(_validate_owner_references(meta, field.child(path, "ownerReferences")))
    errs.extend(_validate_finalizers(meta.finalizers, field.child(path, "finalizers")))
    return errs


def _validate_owner_references(meta: ObjectMeta, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    controllers: list[str] = []
    for i, ref in enumerate(meta.owner_references):
        p = field.index(path, i)
        if not ref.api_version or ref.api_version.endswith("/"):
            errs.append(field.invalid(field.child(p, "apiVersion"), ref.api_version, "version must not be empty"))
        if not ref.kind:
            errs.append(field.invalid(field.child(p, "kind"), ref.kind, "kind must not be empty"))
        if not ref.name:
            errs.append(field.invalid(field.child(p, "name"), ref.name, "name must not be empty"))
        if not ref.uid:
            errs.append(field.invalid(field.child(p, "uid"), ref.uid, "uid must not be empty"))
        if ref.uid and ref.uid == meta.uid:
            errs.append(field.invalid(p, ref.uid, "object cannot own itself"))
        if ref.controller:
            controllers.append(f"{ref.kind}/{ref.name}")
    if len(controllers) > 1:
        errs.append(
            field.invalid(
                path,
                [r.uid for r in meta.owner_references],
                "Only one reference can have Controller set to true. Found \"true\" in references for "
                + " and ".join(controllers),
            )
        )
    return errs


def _validate_finalizers(finalizers: list[str], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, name in enumerate(finalizers):
        p = field.index(path, i)
        msgs = validation.is_qualified_name(name)
        errs.extend(field.invalid(p, name, m) for m in msgs)
        if not msgs and "/" not in name and name not in STANDARD_FINALIZERS:
            errs.append(field.invalid(p, name, "name is neither a standard finalizer name nor is it fully qualified"))
    return errs


def validate_object_meta_update(new: ObjectMeta, old: ObjectMeta, path: str = "metadata") -> list[FieldError]:
    errs: list[FieldError] = []
    for name, attr in (("name", "name"), ("namespace", "namespace"), ("uid", "uid"),
                       ("creationTimestamp", "creation_timestamp")):
        nv: Any = getattr(new, attr)
        if nv != getattr(old, attr):
            errs.append(field.invalid(field.child(path, name), nv, "field is immutable"))
    return errs
