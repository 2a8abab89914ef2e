"""autoscaling/v1 Scale: the scale subresource of Deployments and ReplicaSets."""

from __future__ import annotations

from typing import ClassVar

import msgspec

from master.api.meta import Object
from master.api.schema import Int32

__all__ = ["Scale", "ScaleSpec", "ScaleStatus"]


class ScaleSpec(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    # Required, so 0 is sent: scaling to zero must not look like "replicas not given".
    replicas: Int32


class ScaleStatus(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    replicas: Int32
    selector: str = ""  # the label selector in string form


class Scale(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = "autoscaling/v1"
    KIND: ClassVar[str] = "Scale"

    spec: ScaleSpec = msgspec.field(default_factory=lambda: ScaleSpec(replicas=0))
    status: ScaleStatus = msgspec.field(default_factory=lambda: ScaleStatus(replicas=0))
