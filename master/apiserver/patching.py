"""PATCH bodies: parse them and apply them to the current object.

The patch algorithms (RFC 7386 merge, RFC 6902 JSON patch, strategic merge by Kubernetes merge
keys) belong to ``master.api.patch``; this module parses bodies into the shape each expects and
turns their failures into 400/422 Statuses.
"""

from __future__ import annotations

from typing import Any

from master.api import patch as api_patch
from master.api.registry import DEFAULT
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


def apply(kind: str, current: dict[str, Any], doc: Any, served: Served) -> Any:
    try:
        if kind == "merge":
            return api_patch.merge_patch(current, doc)
        if kind == "json":
            return api_patch.apply_json_patch(current, doc)
        resource = DEFAULT.get(served.group, served.version, served.plural)
        if resource is None:
            return api_patch.merge_patch(current, doc)
        return api_patch.strategic_merge_patch(current, doc, resource.type)
    except api_patch.PatchError as exc:
        reason = "Invalid" if exc.code == 422 else "BadRequest"
        raise errors.ApiError(errors.status(exc.code, reason, str(exc))) from exc
