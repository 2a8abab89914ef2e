"""create, update and patch (of a main resource or its status subresource).

The pipeline of every write, in order::

    decode body -> check apiVersion/kind/name/namespace -> prune unknown fields (fieldValidation)
    -> server-owned metadata -> strategy prepare -> admission (mutating, then validating)
    -> strategy validate (422) -> resource hooks (ClusterIP/NodePort allocation) -> store txn

An update carries the resourceVersion it was read at; a stale one is 409 Conflict. Without one it
is unconditional (as Kubernetes allows for our resources). A patch is applied to the current
object and written at that object's resourceVersion, retried on conflict unless the patch itself
named a resourceVersion.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import msgspec
from aiohttp import web

from master.apiserver import admission, body, errors, patching
from master.apiserver.hooks import hooks_for
from master.apiserver.rules import Cause, rules_for
from master.apiserver.verbs import delete
from master.apiserver.verbs.common import Call, Retry, now_rfc3339, resource_version
from master.apiserver.verbs.read import respond_object

__all__ = ["create", "finish_if_finalized", "patch", "update", "write_update"]

_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
PATCH_RETRIES = 5
ALLOCATION_RETRIES = 8


def _field_validation(call: Call) -> str:
    value = call.request.query.get("fieldValidation", "Warn") or "Warn"
    if value not in ("Strict", "Warn", "Ignore"):
        raise errors.bad_request(f'invalid fieldValidation {value!r}: want "Strict", "Warn" or "Ignore"')
    return value


def _prune(call: Call, obj: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    pruned, unknown = rules_for(call.served).prune(obj)
    mode = _field_validation(call)
    if unknown and mode == "Strict":
        detail = ", ".join(f'unknown field "{u}"' for u in unknown)
        raise errors.bad_request(f"strict decoding error: {detail}")
    if unknown and mode == "Warn":
        warnings.extend(f'unknown field "{u}"' for u in unknown)
    return pruned


def _warning_headers(warnings: list[str]) -> dict[str, str] | None:
    if not warnings:
        return None
    # aiohttp takes one value per header name; Kubernetes clients split a comma list of 299s.
    return {"Warning": ", ".join('299 - "' + w.replace('"', '\\"') + '"' for w in warnings)}


def _invalid(call: Call, obj: dict[str, Any], causes: list[Cause]) -> errors.ApiError:
    name = (obj.get("metadata") or {}).get("name") or (obj.get("metadata") or {}).get("generateName", "")
    return errors.invalid(call.served.kind, name, causes, call.served.group)


def _check_namespace(call: Call, meta: dict[str, Any]) -> None:
    if not call.served.namespaced:
        meta.pop("namespace", None)
        return
    ns = meta.get("namespace") or ""
    if ns and ns != call.namespace:
        raise errors.bad_request("the namespace of the provided object does not match the namespace sent on the request")
    meta["namespace"] = call.namespace


async def create(call: Call) -> web.StreamResponse:
    if not call.namespace and call.served.namespaced:
        raise errors.bad_request("a namespace is required to create namespaced resources")
    obj = await call.read_object()
    call.check_type_meta(obj)
    warnings: list[str] = []
    obj = _prune(call, obj, warnings)
    return await _create_object(call, obj, warnings)


async def _create_object(call: Call, obj: dict[str, Any], warnings: list[str]) -> web.StreamResponse:
    """Create a decoded, pruned object: server metadata, strategy, admission, validation, store."""
    meta = call.metadata(obj)
    _check_namespace(call, meta)
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = str(meta["generateName"]) + "".join(secrets.choice(_GENERATE_ALPHABET) for _ in range(5))
    for f in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields"):
        meta.pop(f, None)
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = now_rfc3339()
    rules = rules_for(call.served)
    obj = rules.prepare_create(obj)
    attrs = admission.Attributes("CREATE", call.served, call.namespace, meta.get("name", ""), obj, None,
                                 call.user, call.dry_run)
    obj = await admission.admit(call.server, attrs)
    causes = rules.validate_create(obj)
    if causes:
        raise _invalid(call, obj, causes)
    hooks = hooks_for(call.served)
    # Hooks fill in what they allocate; a retry starts again from the object as it was asked for.
    pristine = hooks.changes_objects
    for _ in range(ALLOCATION_RETRIES):
        attempt = body.clone(obj) if pristine else obj
        plan = await hooks.before_create(call, attempt)
        if call.dry_run:
            return respond_object(call, attempt, 201, _warning_headers(warnings))
        try:
            stored = await call.storage.create(call.namespace, attempt["metadata"]["name"], attempt,
                                               extra_compare=plan.compare, extra_ops=plan.ops)
        except errors.ApiError as exc:
            # Another write took an address or port we picked: pick again.
            if exc.reason == "Conflict" and plan.retryable and plan.compare:
                continue
            raise
        await hooks.after_create(call, stored)
        return respond_object(call, stored, 201, _warning_headers(warnings))
    raise errors.conflict(call.served.plural, obj["metadata"]["name"], call.served.group,
                          "could not allocate; too many concurrent allocations")


def _rv_of(obj: dict[str, Any]) -> int:
    rv = (obj.get("metadata") or {}).get("resourceVersion") or ""
    if rv == "":
        return 0
    value = resource_version(rv) if isinstance(rv, str) else 0
    if value <= 0:
        raise errors.bad_request(f"invalid resourceVersion {rv!r}")
    return value


async def write_update(
    call: Call,
    new: dict[str, Any],
    current: dict[str, Any],
    *,
    subresource: str,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """Prepare, admit, validate and store ``new`` over ``current``; the stored object."""
    rules = rules_for(call.served)
    hooks = hooks_for(call.served)
    hooks.prepare_update(new, current)
    expected = _rv_of(new) or int(current["metadata"]["resourceVersion"])
    if expected != int(current["metadata"]["resourceVersion"]):
        raise errors.conflict(call.served.plural, call.name, call.served.group)
    if subresource in ("status", "approval"):
        new = rules.prepare_status_update(new, current)
        if subresource == "approval":
            from master.apiserver import csr

            new = csr.approval_only(new, current)
        attrs = admission.Attributes("UPDATE", call.served, call.namespace, call.name, new, current,
                                     call.user, call.dry_run, subresource)
        new = await admission.admit(call.server, attrs)
        causes = rules.validate_status_update(new, current)
    else:
        new = rules.prepare_update(new, current)
        attrs = admission.Attributes("UPDATE", call.served, call.namespace, call.name, new, current,
                                     call.user, call.dry_run)
        new = await admission.admit(call.server, attrs)
        causes = rules.validate_update(new, current)
    if causes:
        raise _invalid(call, new, causes)
    plan = await hooks.before_update(call, new, current)
    if call.dry_run:
        return new
    stored = await call.storage.update(call.namespace, call.name, new, expected_rv=expected,
                                       extra_compare=plan.compare, extra_ops=plan.ops)
    await hooks.after_update(call, stored, current)
    return await finish_if_finalized(call, stored)


async def finish_if_finalized(call: Call, obj: dict[str, Any]) -> dict[str, Any]:
    """An object being deleted whose last finalizer is gone is deleted now (as Kubernetes does)."""
    meta = obj.get("metadata") or {}
    if not meta.get("deletionTimestamp") or meta.get("finalizers"):
        return obj
    if call.served.plural == "namespaces" and (obj.get("spec") or {}).get("finalizers"):
        return obj
    if call.served.plural == "pods" and int(meta.get("deletionGracePeriodSeconds") or 0) > 0:
        return obj
    try:
        await delete.remove_now(call, obj)
    except errors.ApiError as exc:
        if exc.code in (404, 409):
            return obj
        raise
    return obj


async def update(call: Call, *, subresource: str = "") -> web.StreamResponse:
    new = await call.read_object()
    call.check_type_meta(new)
    warnings: list[str] = []
    new = _prune(call, new, warnings)
    meta = call.metadata(new)
    if meta.get("name") and meta["name"] != call.name:
        raise errors.bad_request(
            f"the name of the object ({meta['name']}) does not match the name on the URL ({call.name})")
    meta["name"] = call.name
    _check_namespace(call, meta)
    rules = rules_for(call.served)
    if not subresource and not rules.allow_unconditional_update and not meta.get("resourceVersion"):
        raise _invalid(call, new, [("FieldValueInvalid", "metadata.resourceVersion",
                                    "Invalid value: 0x0: must be specified for an update")])
    cached = _cached_copy(call)
    if cached is not None:
        try:
            stored = await write_update(call, body.clone(new), cached, subresource=subresource, warnings=warnings)
        except errors.ApiError as exc:
            if not _maybe_stale(exc):
                raise
        else:
            return respond_object(call, stored, 200, _warning_headers(warnings))
    try:
        current = await call.storage.get(call.namespace, call.name)
    except errors.ApiError as exc:
        if exc.code != 404 or subresource or not rules.allow_create_on_update:
            raise
        return await _create_object(call, new, warnings)
    retry = Retry(call)
    unconditional = not meta.get("resourceVersion")
    while True:
        try:
            # write_update changes what it is given; an unconditional update may need it again.
            attempt = body.clone(new) if unconditional else new
            stored = await write_update(call, attempt, current, subresource=subresource, warnings=warnings)
        except errors.ApiError as exc:
            if exc.reason != "Conflict" or not unconditional:
                raise
            # Unconditional: write over whatever is stored now.
            before, current = current, await call.storage.get(call.namespace, call.name)
            retry.after_conflict(before, current)
            continue
        return respond_object(call, stored, 200, _warning_headers(warnings))


def _cached_copy(call: Call) -> dict[str, Any] | None:
    """The watch cache's copy of the object, to start an update or patch from without a store
    read (kube-apiserver does the same). It may be stale: then the write's revision check fails,
    or a check made against it does, and the verb starts again from the store's copy."""
    cached = call.cache.get(call.storage.key(call.namespace, call.name))
    return None if cached is None else msgspec.json.decode(cached.raw, type=dict)


def _maybe_stale(exc: errors.ApiError) -> bool:
    """Whether a failure while working from the cache's copy may be the copy's fault. Client
    errors come from the checks made before the write (after it there are none that fail with
    one), so the write did not happen and trying again from the store's copy is safe."""
    return 400 <= exc.code < 500


async def patch(call: Call, *, subresource: str = "") -> web.StreamResponse:
    content_type = body.media_type(call.request)
    kind = body.PATCH_TYPES.get(content_type)
    if kind is None:
        raise errors.unsupported_media_type(content_type)
    if kind == "apply":
        raise errors.ApiError(errors.status(
            415, "UnsupportedMediaType",
            "server-side apply is not supported by this server; use client-side apply (kubectl apply "
            "--server-side=false) or a merge/strategic merge patch"))
    data = await call.read_body()
    doc = patching.parse(kind, data)
    pinned = bool(patching.names_resource_version(kind, doc))
    current = _cached_copy(call)
    from_cache = current is not None
    if current is None:
        current = await call.storage.get(call.namespace, call.name)
    retry = Retry(call, PATCH_RETRIES)
    while True:
        warnings: list[str] = []
        try:
            stored = await _patch_once(call, kind, doc, current, pinned, subresource, warnings)
        except errors.ApiError as exc:
            if not (from_cache and _maybe_stale(exc)) and (exc.reason != "Conflict" or pinned):
                raise
            before, current, from_cache = current, await call.storage.get(call.namespace, call.name), False
            retry.after_conflict(before, current)
            continue
        return respond_object(call, stored, 200, _warning_headers(warnings))


async def _patch_once(call: Call, kind: str, doc: Any, current: dict[str, Any], pinned: bool, subresource: str,
                      warnings: list[str]) -> dict[str, Any]:
    """Apply the patch to ``current`` and write the result at ``current``'s resourceVersion (or at
    the one the patch names)."""
    patched = patching.apply(kind, body.clone(current), doc, call.served)
    if not isinstance(patched, dict):
        raise errors.bad_request("the patch does not produce an object")
    call.check_type_meta(patched)
    patched = _prune(call, patched, warnings)
    meta = call.metadata(patched)
    if meta.get("name", call.name) != call.name:
        raise errors.bad_request("the patch may not change metadata.name")
    meta["name"] = call.name
    _check_namespace(call, meta)
    if not pinned:
        meta["resourceVersion"] = current["metadata"]["resourceVersion"]
    return await write_update(call, patched, current, subresource=subresource)
