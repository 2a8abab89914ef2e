"""Subresources that are not plain views of the object: binding, eviction, scale, finalize.

- ``pods/binding`` (and the ``bindings`` resource): set spec.nodeName of an unbound pod, and its
  PodScheduled condition; 409 Conflict when it is already bound or being deleted.
- ``pods/eviction``: a policy/v1 Eviction deletes the pod gracefully (no disruption budgets).
- ``deployments/scale``, ``replicasets/scale``: autoscaling/v1 Scale views of spec.replicas.
- ``namespaces/finalize``: replace spec.finalizers; a terminating namespace with none left is
  removed.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from master.api import autoscaling, core, policy
from master.apiserver import body, errors
from master.apiserver.verbs import delete as delete_verb
from master.apiserver.verbs.common import Call, Retry, now_rfc3339
from master.apiserver.verbs.read import respond_object
from master.apiserver.verbs.write import finish_if_finalized, write_update

__all__ = ["binding", "eviction", "finalize", "scale_get", "scale_write"]


def _success(code: int = 201) -> web.Response:
    return body.json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                               "code": code}, code)


async def binding(call: Call, pod_name: str) -> web.StreamResponse:
    obj = await call.read_object()
    call.check_type_meta(obj, kind="Binding", api_version="v1")
    call.check_shape(obj, core.Binding)
    meta = obj.get("metadata") or {}
    if meta.get("name") and meta["name"] != pod_name:
        raise errors.bad_request(f"the name of the binding ({meta['name']}) does not match the pod ({pod_name})")
    target = obj.get("target") or {}
    node = target.get("name") if isinstance(target, dict) else None
    if not node or not isinstance(node, str):
        raise errors.invalid("Binding", pod_name, [("FieldValueRequired", "target.name", "Required value")])
    if target.get("kind") not in (None, "", "Node"):
        raise errors.invalid("Binding", pod_name, [(
            "FieldValueNotSupported", "target.kind", f'Unsupported value: "{target.get("kind")}": supported '
            'values: "Node"')])
    pods = call.server.storages["pods"]

    async def bind(pod: dict[str, Any]) -> dict[str, Any]:
        # ``pod`` is a fresh decode (guaranteed_update's contract), changed in place.
        spec = pod.setdefault("spec", {})
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            raise errors.conflict("pods", pod_name, why="pod is being deleted, cannot be assigned to a host")
        if spec.get("nodeName"):
            raise errors.conflict("pods", pod_name,
                                  why=f"pod {pod_name} is already assigned to node \"{spec['nodeName']}\"")
        spec["nodeName"] = node
        status = pod.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                           "lastTransitionTime": now_rfc3339()})
        status["conditions"] = conditions
        return pod

    if call.dry_run:
        await bind(await pods.get(call.namespace, pod_name))
    else:
        # The watch cache's copy saves a store read; if it is stale, the write's revision check
        # fails and guaranteed_update reads the store and tries again (kube-apiserver does the same).
        cached = call.server.caches["pods"].get(pods.key(call.namespace, pod_name))
        current = msgspec.json.decode(cached.raw, type=dict) if cached is not None else None
        await pods.guaranteed_update(call.namespace, pod_name, _as_async(bind), current=current)
    return _success()


def _as_async(fn: Any) -> Any:
    async def run(obj: dict[str, Any]) -> dict[str, Any] | None:
        return await fn(obj)

    return run


async def eviction(call: Call) -> web.StreamResponse:
    obj = await call.read_object()
    kind = obj.get("kind") or "Eviction"
    version = obj.get("apiVersion") or "policy/v1"
    if kind != "Eviction" or version not in ("policy/v1", "policy/v1beta1"):
        raise errors.bad_request(f"expected a policy/v1 Eviction, got {version} {kind}")
    call.check_shape(obj, policy.Eviction)
    name = (obj.get("metadata") or {}).get("name") or call.name
    if name != call.name:
        raise errors.bad_request(f"name in URL does not match name in Eviction object: {call.name} != {name}")
    opts = obj.get("deleteOptions") or {}
    if not isinstance(opts, dict):
        raise errors.bad_request("deleteOptions must be an object")
    opts = delete_verb.checked_options(call, opts)
    current = await call.storage.get(call.namespace, call.name)
    await delete_verb.delete_object(call, current, opts)
    return _success()


def _scale_of(call: Call, obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    selector = spec.get("selector") or {}
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for e in selector.get("matchExpressions") or []:
        op, key = e.get("operator"), e.get("key")
        if op in ("In", "NotIn"):
            parts.append(f"{key} {op.lower()} ({','.join(e.get('values') or [])})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return {
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in meta},
        "spec": {"replicas": spec.get("replicas", 1)},
        "status": {"replicas": status.get("replicas", 0), "selector": ",".join(parts)},
    }


async def scale_get(call: Call) -> web.StreamResponse:
    obj = await call.storage.get(call.namespace, call.name)
    return body.json_response(_scale_of(call, obj))


async def scale_write(call: Call, *, patch_kind: str | None) -> web.StreamResponse:
    from master.apiserver import patching

    current = await call.storage.get(call.namespace, call.name)
    sent: Any = None  # a PUT's Scale, or a PATCH's patch (applied to each attempt's current Scale)
    if patch_kind is None:
        sent = await call.read_object()
        meta = sent.get("metadata")
        pinned = bool(meta.get("resourceVersion")) if isinstance(meta, dict) else False
    else:
        sent = patching.parse(patch_kind, await call.read_body())
        pinned = bool(patching.names_resource_version(patch_kind, sent))
    retry = Retry(call)
    while True:
        scale = sent if patch_kind is None else patching.apply(patch_kind, _scale_of(call, current), sent, call.served)
        if not isinstance(scale, dict):
            raise errors.bad_request("expected an autoscaling/v1 Scale")
        call.check_type_meta(scale, kind="Scale", api_version="autoscaling/v1")
        call.check_shape(scale, autoscaling.Scale)
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise errors.invalid("Scale", call.name, [(
                "FieldValueInvalid", "spec.replicas", f"Invalid value: {replicas}: must be greater than or equal to 0")])
        rv = (scale.get("metadata") or {}).get("resourceVersion") or ""
        if pinned and rv != current["metadata"]["resourceVersion"]:
            raise errors.conflict(call.served.plural, call.name, call.served.group)
        new = body.clone(current)
        new.setdefault("spec", {})["replicas"] = replicas
        try:
            stored = await write_update(call, new, current, subresource="")
        except errors.ApiError as exc:
            if exc.reason != "Conflict" or pinned:
                raise
            before, current = current, await call.storage.get(call.namespace, call.name)
            retry.after_conflict(before, current)
            continue
        return body.json_response(_scale_of(call, stored))


async def finalize(call: Call) -> web.StreamResponse:
    obj = await call.read_object()
    call.check_type_meta(obj)
    call.check_shape(obj, core.Namespace)
    name = call.metadata(obj).get("name")
    if name and name != call.name:
        raise errors.bad_request(f"the name of the object ({name}) does not match the name on the URL ({call.name})")
    finalizers = (obj.get("spec") or {}).get("finalizers") or []
    if not isinstance(finalizers, list) or not all(isinstance(f, str) for f in finalizers):
        raise errors.bad_request("spec.finalizers must be a list of strings")
    current = await call.storage.get("", call.name)
    rv = (obj.get("metadata") or {}).get("resourceVersion") or ""
    if rv and rv != current["metadata"]["resourceVersion"]:
        raise errors.conflict("namespaces", call.name)
    new = body.clone(current)
    new.setdefault("spec", {})["finalizers"] = finalizers
    if not finalizers:
        new["spec"].pop("finalizers")
    stored = await call.storage.update("", call.name, new, expected_rv=int(current["metadata"]["resourceVersion"]))
    return respond_object(call, await finish_if_finalized(call, stored))
