"""The storage transformer hook: bytes on their way to and from the store.

``Identity`` stores bytes as they are; ``encryption.ProviderChain`` (``--encryption-provider-config``)
encrypts with AES-GCM. ``key`` is passed so a transformer can bind ciphertext to its key
(authenticated data), as Kubernetes' transformers do.
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
