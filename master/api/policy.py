"""policy/v1 Eviction: the body of a pods/eviction create."""

from __future__ import annotations

from typing import ClassVar

from master.api.meta import DeleteOptions, Object

__all__ = ["Eviction"]


class Eviction(Object, kw_only=True, omit_defaults=True, rename="camel"):
    API_VERSION: ClassVar[str] = "policy/v1"
    KIND: ClassVar[str] = "Eviction"

    delete_options: DeleteOptions | None = None
