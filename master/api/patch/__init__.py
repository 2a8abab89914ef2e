"""Patches: JSON merge patch, JSON patch, strategic merge patch, by content type.

The apiserver's patch path::

    doc = codec.to_builtins(stored)
    patched = patch.apply(doc, body, content_type, resource.type)   # raises PatchError
    obj = codec.convert(patched, resource.type)                      # raises DecodeError
    ... then default, prepare_for_update, validate_update as for an update.

Server-side apply (``application/apply-patch+yaml``) is not supported: ``apply`` raises a
``PatchError`` with code 415.
"""

from __future__ import annotations

from typing import Any

import msgspec

from master.api.patch.errors import PatchError
from master.api.patch.jsonpatch import apply_json_patch
from master.api.patch.merge import merge_patch
from master.api.patch.strategic import strategic_merge_patch

__all__ = [
    "APPLY_PATCH",
    "JSON_PATCH",
    "MERGE_PATCH",
    "PATCH_TYPES",
    "STRATEGIC_MERGE_PATCH",
    "PatchError",
    "apply",
    "apply_json_patch",
    "merge_patch",
    "strategic_merge_patch",
]

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH)

_decoder = msgspec.json.Decoder()


def apply(original: Any, body: bytes | str, content_type: str, cls: Any) -> Any:
    """Apply a patch body of the given content type (parameters such as "; charset" ignored)."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in PATCH_TYPES:
        raise PatchError(
            f'the body of the request was in an unknown format - accepted media types include: {", ".join(PATCH_TYPES)}',
            code=415,
        )
    try:
        doc = _decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise PatchError(f"error decoding patch: {exc}") from None
    if media == JSON_PATCH:
        return apply_json_patch(original, doc)
    if not isinstance(doc, dict):
        raise PatchError("the patch must be a JSON object")
    if media == MERGE_PATCH:
        return merge_patch(original, doc)
    return strategic_merge_patch(original, doc, cls)
