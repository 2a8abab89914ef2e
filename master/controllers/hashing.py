"""Pod template hashes: the ``pod-template-hash`` of Deployments, the ``controller-revision-hash`` of DaemonSets.

FNV-1a (32 bit) of the template's canonical JSON (keys sorted), with the collision count
appended when there is one, written with Kubernetes' safe alphabet: each decimal digit of the
hash maps to a letter or digit (no vowels, so no words; no look-alikes). An empty template
hashes to ``767f54bcf8``.
"""

from __future__ import annotations

import msgspec

from master.api import codec, core

__all__ = ["compute_hash"]

_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def _fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def compute_hash(template: core.PodTemplateSpec, collision_count: int | None = None) -> str:
    data = msgspec.json.encode(codec.to_builtins(template), order="sorted")
    if collision_count is not None:
        data += str(collision_count).encode()
    return "".join(_ALPHANUMS[ord(c) % len(_ALPHANUMS)] for c in str(_fnv32a(data)))
