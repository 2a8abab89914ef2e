"""core/v1 ConfigMap, Secret and ServiceAccount."""

from __future__ import annotations

from typing import Annotated, ClassVar

from master.api.core.common import LocalObjectReference, ObjectReference
from master.api.meta import Object
from master.api.schema import merge_by

__all__ = ["ConfigMap", "Secret", "ServiceAccount"]


class ConfigMap(Object, kw_only=True, omit_defaults=True, rename="camel"):
    KIND: ClassVar[str] = "ConfigMap"

    data: dict[str, str] = {}
    binary_data: dict[str, str] = {}  # base64
    immutable: bool | None = None


class Secret(Object, kw_only=True, omit_defaults=True, rename="camel"):
    """``data`` values are base64; ``stringData`` is write-only (merged into data on write)."""

    KIND: ClassVar[str] = "Secret"

    data: dict[str, str] = {}
    string_data: dict[str, str] = {}
    type: str = ""  # Opaque, kubernetes.io/service-account-token, kubernetes.io/tls, ...
    immutable: bool | None = None


class ServiceAccount(Object, kw_only=True, omit_defaults=True, rename="camel"):
    KIND: ClassVar[str] = "ServiceAccount"

    secrets: Annotated[list[ObjectReference], merge_by("name")] = []
    image_pull_secrets: list[LocalObjectReference] = []
    automount_service_account_token: bool | None = None
