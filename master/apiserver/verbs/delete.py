"""delete and deletecollection, with Kubernetes' graceful deletion and finalizers.

What a DELETE does, in order::

    preconditions (uid, resourceVersion) must hold                       else 409 Conflict
    propagationPolicy Foreground -> add finalizer foregroundDeletion;
                      Orphan     -> add finalizer orphan                 (for the garbage collector)
    namespaces: phase Terminating + deletionTimestamp; gone once spec.finalizers (via /finalize)
                and metadata.finalizers are empty
    pods bound to a node, grace > 0: deletionTimestamp = now + grace, deletionGracePeriodSeconds =
                grace; the kubelet confirms with a final delete of grace 0
    finalizers present: deletionTimestamp set, the object stays until they are removed
    otherwise: the key is deleted (with the Service's allocations, in the same transaction)

A delete that leaves the object in place answers 200 with the object; one that removes it
answers 200 with the object as it was last stored.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from master.api import codec, meta, validation
from master.apiserver import admission, body, errors, selection
from master.apiserver.hooks import hooks_for
from master.apiserver.verbs.common import Call, Retry, int_param, now_rfc3339
from master.apiserver.verbs.read import dict_keep, respond_object

__all__ = ["checked_options", "delete", "delete_collection", "delete_object", "remove_now"]

async def _options(call: Call) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if call.request.can_read_body:
        data = await call.read_body()
        if data.strip():
            parsed = body.parse_object(data, body.media_type(call.request) or "application/json")
            opts.update(parsed)
    grace = int_param(call.request, "gracePeriodSeconds", minimum=0)
    if grace is not None:
        opts["gracePeriodSeconds"] = grace
    policy = call.request.query.get("propagationPolicy")
    if policy:
        opts["propagationPolicy"] = policy
    if call.request.query.get("orphanDependents") in ("true", "false"):
        opts["orphanDependents"] = call.request.query["orphanDependents"] == "true"
    return checked_options(call, opts)


def checked_options(call: Call, raw: dict[str, Any]) -> dict[str, Any]:
    """DeleteOptions (a DELETE's body and query, an Eviction's deleteOptions) as Kubernetes reads
    them: a wrong shape is 400, a wrong value 422, and ``dryRun: [All]`` makes the call a dry run
    (kubectl delete --dry-run=server sends it there, not in the query)."""
    try:
        typed = codec.convert(raw, meta.DeleteOptions)
    except codec.DecodeError as exc:
        where = f" at {exc.path}" if exc.path else ""
        raise errors.bad_request(
            f'DeleteOptions in version "v1" cannot be handled as a DeleteOptions: {exc.detail}{where}') from exc
    causes = [(e.type.reason, e.field, e.body()) for e in validation.validate_delete_options(typed)]
    if causes:
        raise errors.invalid("DeleteOptions", "", causes, "meta.k8s.io")
    if typed.grace_period_seconds is not None and typed.grace_period_seconds < 0:
        raise errors.bad_request("gracePeriodSeconds must be a non-negative integer")
    if typed.dry_run:
        call.body_dry_run = True
    opts = codec.to_builtins(typed)
    assert isinstance(opts, dict)
    return opts


def _policy(opts: dict[str, Any]) -> str:
    if opts.get("propagationPolicy"):
        return str(opts["propagationPolicy"])
    if opts.get("orphanDependents") is True:
        return "Orphan"
    if opts.get("orphanDependents") is False:
        return "Background"
    return ""


async def remove_now(call: Call, obj: dict[str, Any]) -> dict[str, Any]:
    """Delete the stored key at the object's resourceVersion, with the resource's release ops."""
    meta = obj["metadata"]
    plan = hooks_for(call.served).on_delete(call, obj)
    deleted = await call.storage.delete(call.namespace, meta["name"], expected_rv=int(meta["resourceVersion"]),
                                        extra_ops=plan.ops)
    await hooks_for(call.served).after_delete(call, deleted)
    return deleted


async def delete_object(call: Call, current: dict[str, Any], opts: dict[str, Any]) -> dict[str, Any]:
    """One object's deletion (see the module docstring); retried by the caller on conflict."""
    meta = current["metadata"]
    pre = opts.get("preconditions") or {}
    if pre.get("uid") and pre["uid"] != meta.get("uid"):
        raise errors.conflict(call.served.plural, meta["name"], call.served.group,
                              f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: "
                              f"{meta.get('uid')}")
    if pre.get("resourceVersion") and str(pre["resourceVersion"]) != meta.get("resourceVersion"):
        raise errors.conflict(call.served.plural, meta["name"], call.served.group,
                              f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                              f"ResourceVersion in object meta: {meta.get('resourceVersion')}")
    await admission.admit(call.server, admission.Attributes("DELETE", call.served, call.namespace, meta["name"],
                                                            current, current, call.user, call.dry_run,
                                                            call.info.subresource))
    new = {**current, "metadata": dict(meta)}
    new_meta = new["metadata"]
    finalizers = list(new_meta.get("finalizers") or [])
    policy = _policy(opts)
    if policy == "Foreground" and "foregroundDeletion" not in finalizers:
        finalizers.append("foregroundDeletion")
        finalizers = [f for f in finalizers if f != "orphan"]
    elif policy == "Orphan" and "orphan" not in finalizers:
        finalizers.append("orphan")
        finalizers = [f for f in finalizers if f != "foregroundDeletion"]
    changed = finalizers != list(new_meta.get("finalizers") or [])
    if finalizers:
        new_meta["finalizers"] = finalizers

    if call.served.plural == "namespaces":
        new_meta.setdefault("deletionTimestamp", now_rfc3339())
        new_meta.setdefault("deletionGracePeriodSeconds", 0)
        new["status"] = {**(new.get("status") or {}), "phase": "Terminating"}
        if (new.get("spec") or {}).get("finalizers") or finalizers:
            return await _store_update(call, new, current)
        return current if call.dry_run else await remove_now(call, current)

    if call.served.plural == "pods":
        grace = _pod_grace(current, opts)
        if grace > 0:
            old_grace = new_meta.get("deletionGracePeriodSeconds")
            if old_grace is None or grace < int(old_grace):
                new_meta["deletionTimestamp"] = now_rfc3339(time.time() + grace)
                new_meta["deletionGracePeriodSeconds"] = grace
                return await _store_update(call, new, current)
            return await _store_update(call, new, current) if changed else current
        new_meta["deletionGracePeriodSeconds"] = 0

    if finalizers:
        if not new_meta.get("deletionTimestamp"):
            new_meta["deletionTimestamp"] = now_rfc3339()
            new_meta.setdefault("deletionGracePeriodSeconds", 0)
            return await _store_update(call, new, current)
        if changed or new_meta.get("deletionGracePeriodSeconds") != meta.get("deletionGracePeriodSeconds"):
            return await _store_update(call, new, current)
        return current
    return current if call.dry_run else await remove_now(call, current)


def _pod_grace(pod: dict[str, Any], opts: dict[str, Any]) -> int:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
        return 0
    if opts.get("gracePeriodSeconds") is not None:
        return int(opts["gracePeriodSeconds"])
    value = spec.get("terminationGracePeriodSeconds")
    return 30 if value is None else int(value)


async def _store_update(call: Call, new: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    if call.dry_run:
        return new
    return await call.storage.update(call.namespace, current["metadata"]["name"], new,
                                     expected_rv=int(current["metadata"]["resourceVersion"]))


async def delete(call: Call) -> web.StreamResponse:
    opts = await _options(call)
    retry = Retry(call)
    current = await call.storage.get(call.namespace, call.name)
    while True:
        try:
            result = await delete_object(call, current, opts)
        except errors.ApiError as exc:
            if exc.reason != "Conflict" or opts.get("preconditions"):
                raise
            before, current = current, await call.storage.get(call.namespace, call.name)
            retry.after_conflict(before, current)
            continue
        return respond_object(call, result)


async def delete_collection(call: Call) -> web.StreamResponse:
    opts = await _options(call)
    q = call.request.query
    labels = selection.compile_label_selector(q.get("labelSelector", ""))
    fields = selection.compile_field_selector(q.get("fieldSelector", ""), call.served)
    page = await call.storage.list(call.namespace, keep=dict_keep(labels, fields, call))
    deleted = []
    for obj in page.items:
        try:
            deleted.append(await delete_object(call, obj, opts))
        except errors.ApiError as exc:
            if exc.code not in (404, 409):
                raise
    out = {"kind": call.served.list_kind, "apiVersion": call.served.api_version,
           "metadata": {"resourceVersion": str(page.revision)}, "items": deleted}
    return body.json_response(out)
