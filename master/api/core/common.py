"""core/v1 references shared by several resources."""

from __future__ import annotations

import msgspec

__all__ = ["LocalObjectReference", "ObjectReference"]


class ObjectReference(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    kind: str = ""
    namespace: str = ""
    name: str = ""
    uid: str = ""
    api_version: str = ""
    resource_version: str = ""
    field_path: str = ""


class LocalObjectReference(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    name: str = ""
