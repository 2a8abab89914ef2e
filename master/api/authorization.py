"""authorization.k8s.io/v1: SelfSubjectAccessReview (``kubectl auth can-i``), SubjectAccessReview
(``can-i --as``, webhooks), SelfSubjectRulesReview (``can-i --list``). None is stored."""

from __future__ import annotations

from typing import ClassVar

import msgspec

from master.api.meta import Object

__all__ = [
    "GROUP",
    "NonResourceAttributes",
    "NonResourceRule",
    "ResourceAttributes",
    "ResourceRule",
    "SelfSubjectAccessReview",
    "SelfSubjectAccessReviewSpec",
    "SelfSubjectRulesReview",
    "SelfSubjectRulesReviewSpec",
    "SubjectAccessReview",
    "SubjectAccessReviewSpec",
    "SubjectAccessReviewStatus",
    "SubjectRulesReviewStatus",
]

GROUP = "authorization.k8s.io"


class ResourceAttributes(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    namespace: str = ""
    verb: str = ""
    group: str = ""
    version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""


class NonResourceAttributes(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    path: str = ""
    verb: str = ""


class SubjectAccessReviewSpec(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    resource_attributes: ResourceAttributes | None = None
    non_resource_attributes: NonResourceAttributes | None = None
    user: str = ""
    groups: list[str] = []
    extra: dict[str, list[str]] = {}
    uid: str = ""


class SelfSubjectAccessReviewSpec(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    resource_attributes: ResourceAttributes | None = None
    non_resource_attributes: NonResourceAttributes | None = None


class SubjectAccessReviewStatus(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    allowed: bool = False
    denied: bool = False
    reason: str = ""
    evaluation_error: str = ""


class SubjectAccessReview(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = f"{GROUP}/v1"
    KIND: ClassVar[str] = "SubjectAccessReview"

    spec: SubjectAccessReviewSpec = msgspec.field(default_factory=SubjectAccessReviewSpec)
    status: SubjectAccessReviewStatus = msgspec.field(default_factory=SubjectAccessReviewStatus)


class SelfSubjectAccessReview(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = f"{GROUP}/v1"
    KIND: ClassVar[str] = "SelfSubjectAccessReview"

    spec: SelfSubjectAccessReviewSpec = msgspec.field(default_factory=SelfSubjectAccessReviewSpec)
    status: SubjectAccessReviewStatus = msgspec.field(default_factory=SubjectAccessReviewStatus)


class SelfSubjectRulesReviewSpec(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    namespace: str = ""


class ResourceRule(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    verbs: list[str] = []
    api_groups: list[str] = []
    resources: list[str] = []
    resource_names: list[str] = []


class NonResourceRule(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    verbs: list[str] = []
    non_resource_urls: list[str] = msgspec.field(default_factory=list, name="nonResourceURLs")


class SubjectRulesReviewStatus(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    resource_rules: list[ResourceRule] = []
    non_resource_rules: list[NonResourceRule] = []
    incomplete: bool = False
    evaluation_error: str = ""


class SelfSubjectRulesReview(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = f"{GROUP}/v1"
    KIND: ClassVar[str] = "SelfSubjectRulesReview"

    spec: SelfSubjectRulesReviewSpec = msgspec.field(default_factory=SelfSubjectRulesReviewSpec)
    status: SubjectRulesReviewStatus = msgspec.field(default_factory=SubjectRulesReviewStatus)
