"""PATCH bodies: parse them and apply them to the current object.

The patch algorithms (RFC 7386 merge, RFC 6902 JSON patch, strategic merge by Kubernetes merge
keys) belong to ``master.api.patch``; this module parses bodies into the shape each expects and
turns their failures into 400/422 Statuses.
"""

from __future__ import annotations

from typing import Any

from master.apiserver import body, errors
from master.apiserver.registry import Served

__all__ = ["apply", "names_resource_version", "parse"]


def parse(kind: str, data: bytes) -> Any:
    if not data.strip():
        raise errors.bad_request("the patch body is empty")
    doc = body.decode_json(data, "the patch")
    if kind == "json":
        if not isinstance(doc, list):
            raise errors.bad_request("a JSON patch must be a list of operations")
    elif not isinstance(doc, dict):
        raise errors.bad_request(f"a {kind} patch must be a JSON object")
    return doc


def names_resource_version(kind: str, doc: Any) -> str:
    """The resourceVersion a patch pins, if any (then a conflict is not retried)."""
    if kind == "json":
        for op in doc:
            if isinstance(op, dict) and op.get("path") == "/metadata/resourceVersion" and op.get("op") in (
                    "add", "replace"):
                return str(op.get("value") or "")
        return ""
    meta = doc.get("metadata")
    return str(meta.get("resourceVersion") or "") if isinstance(meta, dict) else ""


def _merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _merge(out.get(k), v)
    return out


def apply(kind: str, current: dict[str, Any], doc: Any, served: Served) -> Any:
    try:
        from master.api import patch as api_patch
        from master.api.registry import DEFAULT
    except ImportError:  # master.api without patches: merge patches only
        if kind in ("merge", "strategic"):
            return _merge(current, doc)
        raise errors.unsupported_media_type("application/json-patch+json") from None
    try:
        if kind == "merge":
            return api_patch.merge_patch(current, doc)
        if kind == "json":
            return api_patch.apply_json_patch(current, doc)
        resource = DEFAULT.get(served.group, served.version, served.plural)
        cls = resource.type if resource is not None else None
        if cls is None:
            return api_patch.merge_patch(current, doc)
        return api_patch.strategic_merge_patch(current, doc, cls)
    except api_patch.PatchError as exc:
        reason = "Invalid" if exc.code == 422 else "BadRequest"
        raise errors.ApiError(errors.status(exc.code, reason, str(exc))) from exc
