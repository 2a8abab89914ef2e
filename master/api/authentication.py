"""authentication.k8s.io/v1: TokenRequest (serviceaccounts/token), TokenReview, SelfSubjectReview.

None of them is stored: a create answers with the status filled in.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from master.api.meta import Object
from master.api.schema import Int64

__all__ = [
    "GROUP",
    "BoundObjectReference",
    "SelfSubjectReview",
    "SelfSubjectReviewStatus",
    "TokenRequest",
    "TokenRequestSpec",
    "TokenRequestStatus",
    "TokenReview",
    "TokenReviewSpec",
    "TokenReviewStatus",
    "UserInfo",
]

GROUP = "authentication.k8s.io"


class BoundObjectReference(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    kind: str = ""  # Pod or Secret
    api_version: str = ""
    name: str = ""
    uid: str = ""


class TokenRequestSpec(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    audiences: list[str] = []
    expiration_seconds: Int64 | None = None
    bound_object_ref: BoundObjectReference | None = None


class TokenRequestStatus(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    token: str = ""
    expiration_timestamp: str = ""


class TokenRequest(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = f"{GROUP}/v1"
    KIND: ClassVar[str] = "TokenRequest"

    spec: TokenRequestSpec = msgspec.field(default_factory=TokenRequestSpec)
    status: TokenRequestStatus = msgspec.field(default_factory=TokenRequestStatus)


class UserInfo(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    username: str = ""
    uid: str = ""
    groups: list[str] = []
    extra: dict[str, list[str]] = {}


class TokenReviewSpec(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    token: str = ""
    audiences: list[str] = []


class TokenReviewStatus(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    authenticated: bool = False
    user: UserInfo | None = None
    audiences: list[str] = []
    error: str = ""


class TokenReview(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = f"{GROUP}/v1"
    KIND: ClassVar[str] = "TokenReview"

    spec: TokenReviewSpec = msgspec.field(default_factory=TokenReviewSpec)
    status: TokenReviewStatus = msgspec.field(default_factory=TokenReviewStatus)


class SelfSubjectReviewStatus(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    user_info: UserInfo = msgspec.field(default_factory=UserInfo)


class SelfSubjectReview(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = f"{GROUP}/v1"
    KIND: ClassVar[str] = "SelfSubjectReview"

    status: SelfSubjectReviewStatus = msgspec.field(default_factory=SelfSubjectReviewStatus)
