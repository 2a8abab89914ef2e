"""Encryption at rest (``--encryption-provider-config``): Kubernetes' EncryptionConfiguration.

::

    apiVersion: apiserver.config.k8s.io/v1
    kind: EncryptionConfiguration
    resources:
    - resources: [secrets, configmaps]
      providers:
      - aesgcm:
          keys:
          - name: key2                           # the first key of the first provider writes
            secret: c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/Cg==   # base64 of 16, 24 or 32 bytes
          - name: key1                           # older keys still read
            secret: dGhpcyBpcyBwYXNzd29yZA==
      - identity: {}                             # reads what was stored before encryption

A stored value written by ``aesgcm`` key ``key2`` is::

    k8s:enc:aesgcm:v1:key2:<12-byte random nonce><AES-GCM ciphertext and 16-byte tag>

with the store key (``/registry/secrets/ns/name``) as authenticated data, so a value copied to
another key does not decrypt. Reads try every provider: a value with an ``aesgcm`` prefix needs
that key; one without any ``k8s:enc:`` prefix is read by ``identity`` only when it is listed.
Rotation: put the new key first, restart, then ``pictl secrets reencrypt`` rewrites every
object with it; then the old key may go.

Resource names: ``secrets`` (core), ``<plural>.<group>`` (``deployments.apps``), or ``*.*``.
Only ``aesgcm`` and ``identity`` are supported; anything else is a start-up error.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from master.apiserver import configfile, errors
from master.apiserver.transformer import Identity, Transformer

__all__ = ["AESGCMProvider", "EncryptionConfig", "ProviderChain", "load_config", "parse_config"]

ENC_PREFIX = b"k8s:enc:"
AESGCM_PREFIX = b"k8s:enc:aesgcm:v1:"
NONCE = 12


class AESGCMProvider:
    def __init__(self, name: str, key: bytes) -> None:
        self.name = name
        self.prefix = AESGCM_PREFIX + name.encode() + b":"
        self._aead = AESGCM(key)

    def to_storage(self, key: bytes, data: bytes) -> bytes:
        nonce = os.urandom(NONCE)
        return self.prefix + nonce + self._aead.encrypt(nonce, data, key)

    def from_storage(self, key: bytes, data: bytes) -> bytes:
        body = data[len(self.prefix):]
        if len(body) < NONCE + 16:
            raise errors.internal_error(f"stored value at {key.decode(errors='replace')} is truncated")
        try:
            return self._aead.decrypt(body[:NONCE], body[NONCE:], key)
        except InvalidTag:
            raise errors.internal_error(
                f"cannot decrypt the stored value at {key.decode(errors='replace')} with key {self.name!r}") from None


class ProviderChain:
    """The first provider writes; reads pick the provider by the value's prefix."""

    def __init__(self, providers: list[AESGCMProvider | Identity]) -> None:
        self.providers = providers
        self.writer = providers[0]
        self.identity_reads = any(isinstance(p, Identity) for p in providers)
        self.by_prefix = [p for p in providers if isinstance(p, AESGCMProvider)]

    def to_storage(self, key: bytes, data: bytes) -> bytes:
        return self.writer.to_storage(key, data)

    def from_storage(self, key: bytes, data: bytes) -> bytes:
        if data.startswith(ENC_PREFIX):
            for p in self.by_prefix:
                if data.startswith(p.prefix):
                    return p.from_storage(key, data)
            raise errors.internal_error(
                f"no key in the encryption configuration reads the value at {key.decode(errors='replace')}")
        if self.identity_reads:
            return data
        raise errors.internal_error(
            f"the value at {key.decode(errors='replace')} is not encrypted and identity is not a provider")


@dataclass(frozen=True)
class EncryptionConfig:
    # resource name as written ("secrets", "deployments.apps", "*.*") -> its chain
    chains: dict[str, ProviderChain]

    def transformers(self, served: Iterable[tuple[str, str]]) -> dict[str, Transformer]:
        """plural -> transformer for the served (plural, group) pairs the config names."""
        out: dict[str, Transformer] = {}
        for plural, group in served:
            for name in (plural if not group else f"{plural}.{group}", f"*.{group}" if group else "*.", "*.*"):
                if name in self.chains:
                    out[plural] = self.chains[name]
                    break
        return out

    def encrypted(self, served: Iterable[tuple[str, str]]) -> list[str]:
        return sorted(p for p, chain in self.transformers(served).items()
                      if not isinstance(chain, ProviderChain) or not isinstance(chain.writer, Identity))


def _key(raw: Any, where: str) -> AESGCMProvider:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not isinstance(raw.get("secret"), str):
        raise ValueError(f"{where}: want {{name, secret}}")
    name = raw["name"]
    if not name or ":" in name:
        raise ValueError(f"{where}.name: must be non-empty and without ':'")
    try:
        secret = base64.b64decode(raw["secret"], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}.secret: must be base64") from None
    if len(secret) not in (16, 24, 32):
        raise ValueError(f"{where}.secret: an AES-GCM key is 16, 24 or 32 bytes, got {len(secret)}")
    return AESGCMProvider(name, secret)


def _provider(raw: Any, where: str) -> list[AESGCMProvider | Identity]:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ValueError(f"{where}: want exactly one of aesgcm, identity")
    (kind, conf), = raw.items()
    if kind == "identity":
        return [Identity()]
    if kind != "aesgcm":
        raise ValueError(f"{where}: provider {kind!r} is not supported (want aesgcm or identity)")
    keys = conf.get("keys") if isinstance(conf, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValueError(f"{where}.aesgcm.keys: want at least one key")
    providers: list[AESGCMProvider | Identity] = [_key(k, f"{where}.aesgcm.keys[{i}]") for i, k in enumerate(keys)]
    names = [p.name for p in providers if isinstance(p, AESGCMProvider)]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}.aesgcm.keys: key names must be unique")
    return providers


def parse_config(doc: Any) -> EncryptionConfig:
    if not isinstance(doc, dict) or doc.get("kind") != "EncryptionConfiguration" or doc.get("apiVersion") not in (
            "apiserver.config.k8s.io/v1", "apiserver.config.k8s.io/v1beta1"):
        raise ValueError("want apiVersion apiserver.config.k8s.io/v1 and kind EncryptionConfiguration")
    resources = doc.get("resources")
    if not isinstance(resources, list) or not resources:
        raise ValueError("resources: want at least one entry")
    chains: dict[str, ProviderChain] = {}
    for i, entry in enumerate(resources):
        where = f"resources[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: want {{resources, providers}}")
        names = entry.get("resources")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"{where}.resources: want a list of resource names")
        raw_providers = entry.get("providers")
        if not isinstance(raw_providers, list) or not raw_providers:
            raise ValueError(f"{where}.providers: want at least one provider")
        providers: list[AESGCMProvider | Identity] = []
        for j, p in enumerate(raw_providers):
            providers.extend(_provider(p, f"{where}.providers[{j}]"))
        chain = ProviderChain(providers)
        for n in names:
            if n in chains:
                raise ValueError(f"{where}.resources: {n!r} is named twice")
            chains[n] = chain
    return EncryptionConfig(chains)


def load_config(path: Path) -> EncryptionConfig:
    """ValueError naming the file (never a key) for anything unreadable or malformed."""
    return configfile.load(path, "--encryption-provider-config", parse_config)
