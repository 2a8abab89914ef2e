"""The storage transformer hook: bytes on their way to and from the store.

Issue 8 adds AES-GCM encryption at rest for secrets behind this Protocol; today the only
transformer is ``Identity``. ``key`` is passed so a transformer can bind ciphertext to its key
(authenticated data), as Kubernetes' envelope transformers do.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Identity", "Transformer"]


class Transformer(Protocol):
    def to_storage(self, key: bytes, data: bytes) -> bytes: ...

    def from_storage(self, key: bytes, data: bytes) -> bytes: ...


class Identity:
    def to_storage(self, key: bytes, data: bytes) -> bytes:
        return data

    def from_storage(self, key: bytes, data: bytes) -> bytes:
        return data
