"""Objects of one resource in the store: keys, encoding, and the transactions behind each verb.

Keys are ``/registry/<resource>/<namespace>/<name>`` (cluster-scoped: ``/registry/<resource>/<name>``),
so ``etcdctl get / --prefix --keys-only`` shows what Kubernetes shows. Values are the object's
JSON without ``metadata.resourceVersion``: the resourceVersion of an object is its key's
mod_revision, and of a list the store's header revision, so it is set on the way out.

The write paths, as etcd transactions::

    create   txn(create_revision(key) == 0            -> put key [+ extra puts], else range key)
    update   txn(mod_revision(key) == rv              -> put key,                else range key)
    delete   txn(mod_revision(key) == rv  (or exists)  -> delete key [+ extra],   else range key)

A failed compare reads the key in the failure branch, which tells 404 from 409 without a second
round trip. ``guaranteed_update`` is the retry loop for server-side read-modify-write (status,
finalizer removal, binding): read, apply the function, write with the read revision, retry on
conflict.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from master.apiserver import errors
from master.apiserver.transformer import Identity, Transformer
from master.store import errors as store_errors
from master.store.client import Client
from master.store.types import (
    Compare,
    CompareResult,
    CompareTarget,
    DeleteRangeResponse,
    KeyValue,
    OpDelete,
    OpPut,
    OpRange,
    RangeResponse,
    RequestOp,
    TxnResponse,
    prefix_end,
)

if TYPE_CHECKING:
    from master.apiserver.ttl import ExpiringLeases

__all__ = ["ListPage", "ResourceStorage", "decode_continue", "encode_continue", "store_call"]

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(dict)

GUARANTEED_UPDATE_RETRIES = 16
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ListPage:
    items: list[dict[str, Any]]
    revision: int
    # Set when more items remain: the key to continue from, and roughly how many remain.
    next_key: bytes | None = None
    remaining: int = 0


def encode_continue(revision: int, next_key: bytes) -> str:
    doc = {"v": "picluster/1", "rv": revision, "start": next_key.decode("utf-8", "surrogateescape")}
    return base64.urlsafe_b64encode(_encoder.encode(doc)).decode()


def decode_continue(token: str) -> tuple[int, bytes]:
    try:
        doc = _decoder.decode(base64.urlsafe_b64decode(token.encode()))
        rv, start = int(doc["rv"]), str(doc["start"]).encode("utf-8", "surrogateescape")
    except (binascii.Error, msgspec.DecodeError, KeyError, ValueError, TypeError, RecursionError) as exc:
        raise errors.bad_request(f"invalid continue token: {exc}") from exc
    if rv <= 0 or not start:
        raise errors.bad_request("invalid continue token")
    return rv, start


async def store_call(aw: Awaitable[T]) -> T:
    """Await a store call, turning store failures into API errors (never a 500 with a traceback)."""
    try:
        return await aw
    except store_errors.CompactedError as exc:
        raise errors.gone(f"too old resource version: the store compacted up to {exc.compact_revision}") from exc
    except store_errors.FutureRevisionError as exc:
        raise errors.ApiError(errors.status(504, "Timeout", "Too large resource version")) from exc
    except store_errors.RequestTooLargeError as exc:
        raise errors.too_large(1536 * 1024) from exc
    except store_errors.UnavailableError as exc:
        raise errors.service_unavailable(f"storage is unavailable: {exc.message}") from exc
    except store_errors.StoreError as exc:
        raise errors.internal_error(f"storage error: {exc.message}") from exc
    except (ConnectionError, TimeoutError, OSError) as exc:
        raise errors.service_unavailable(f"storage is unavailable: {exc}") from exc


class ResourceStorage:
    def __init__(
        self,
        client: Client,
        *,
        resource: str,
        group: str = "",
        namespaced: bool,
        transformer: Transformer | None = None,
        leases: ExpiringLeases | None = None,
    ) -> None:
        self.client = client
        self.resource = resource
        self.group = group
        self.namespaced = namespaced
        self.transformer: Transformer = transformer or Identity()
        # Set for resources whose objects expire (Events): every write is attached to a lease.
        self.leases = leases
        self.prefix = f"/registry/{resource}/".encode()

    # -- keys and bytes ----------------------------------------------------------------------

    def key(self, namespace: str, name: str) -> bytes:
        if self.namespaced:
            return self.prefix + f"{namespace}/{name}".encode()
        return self.prefix + name.encode()

    def scope_prefix(self, namespace: str) -> bytes:
        if self.namespaced and namespace:
            return self.prefix + f"{namespace}/".encode()
        return self.prefix

    def encode(self, key: bytes, obj: dict[str, Any]) -> bytes:
        meta = obj.get("metadata")
        if isinstance(meta, dict) and "resourceVersion" in meta:
            obj = {**obj, "metadata": {k: v for k, v in meta.items() if k != "resourceVersion"}}
        return self.transformer.to_storage(key, _encoder.encode(obj))

    def decode(self, kv: KeyValue, *, revision: int = 0) -> dict[str, Any]:
        """The stored object with resourceVersion = its mod_revision (or ``revision`` when given)."""
        try:
            obj = _decoder.decode(self.transformer.from_storage(kv.key, kv.value))
        except msgspec.DecodeError as exc:
            raise errors.internal_error(f"stored object {kv.key!r} is not valid JSON") from exc
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(revision or kv.mod_revision)
        return obj

    # -- reads -------------------------------------------------------------------------------

    async def get(self, namespace: str, name: str, *, revision: int = 0) -> dict[str, Any]:
        key = self.key(namespace, name)
        resp = await store_call(self.client.range(key, revision=revision))
        if not resp.kvs:
            raise errors.not_found(self.resource, name, self.group)
        return self.decode(resp.kvs[0])

    async def get_kv(self, key: bytes) -> KeyValue | None:
        resp = await store_call(self.client.range(key))
        return resp.kvs[0] if resp.kvs else None

    async def list(
        self,
        namespace: str,
        *,
        revision: int = 0,
        start: bytes | None = None,
        limit: int = 0,
        keep: Callable[[dict[str, Any]], bool] | None = None,
    ) -> ListPage:
        """A page of objects in key order. With ``limit``, pages through the store until ``limit``
        objects pass ``keep`` (so a selective filter still fills the page), at one revision."""
        prefix = self.scope_prefix(namespace)
        end = prefix_end(prefix)
        key = start if start is not None else prefix
        if not key.startswith(prefix):
            raise errors.bad_request("continue token does not belong to this list")
        items: list[dict[str, Any]] = []
        while True:
            batch = 0 if not limit else limit - len(items) + (0 if keep is None else 32)
            resp: RangeResponse = await store_call(self.client.range(key, end, revision=revision, limit=batch))
            revision = revision or resp.header.revision
            last = b""
            for kv in resp.kvs:
                last = kv.key
                obj = self.decode(kv)
                if keep is None or keep(obj):
                    items.append(obj)
                if limit and len(items) >= limit:
                    break
            if limit and len(items) >= limit:
                next_key = last + b"\0"
                rest = await store_call(self.client.range(next_key, end, revision=revision, count_only=True))
                if rest.count == 0:
                    return ListPage(items, revision)
                return ListPage(items, revision, next_key, rest.count)
            if not limit or not resp.more or not last:
                return ListPage(items, revision)
            key = last + b"\0"

    async def count(self) -> int:
        resp = await store_call(self.client.range(self.prefix, prefix_end(self.prefix), count_only=True))
        return resp.count

    # -- writes ------------------------------------------------------------------------------

    async def create(
        self,
        namespace: str,
        name: str,
        obj: dict[str, Any],
        *,
        extra_compare: Sequence[Compare] = (),
        extra_ops: Sequence[RequestOp] = (),
    ) -> dict[str, Any]:
        """Put a new object; 409 AlreadyExists if the key exists. ``extra_*`` join the same txn
        (allocations); when one of those compares fails, ``errors.conflict`` is raised."""
        key = self.key(namespace, name)
        compare = (Compare(key, CompareTarget.CREATE, CompareResult.EQUAL, 0), *extra_compare)
        resp = await self._put_txn(key, self.encode(key, obj), compare, extra_ops)
        if not resp.succeeded:
            existing = resp.responses[0]
            if isinstance(existing, RangeResponse) and existing.kvs:
                raise errors.already_exists(self.resource, name, self.group)
            raise errors.conflict(self.resource, name, self.group, "a resource it needs was taken concurrently")
        return self._with_rv(obj, resp.header.revision)

    async def update(
        self,
        namespace: str,
        name: str,
        obj: dict[str, Any],
        *,
        expected_rv: int,
        extra_compare: Sequence[Compare] = (),
        extra_ops: Sequence[RequestOp] = (),
    ) -> dict[str, Any]:
        key = self.key(namespace, name)
        compare = (Compare(key, CompareTarget.MOD, CompareResult.EQUAL, expected_rv), *extra_compare)
        resp = await self._put_txn(key, self.encode(key, obj), compare, extra_ops)
        if not resp.succeeded:
            current = resp.responses[0]
            if isinstance(current, RangeResponse) and not current.kvs:
                raise errors.not_found(self.resource, name, self.group)
            raise errors.conflict(self.resource, name, self.group)
        return self._with_rv(obj, resp.header.revision)

    async def _put_txn(self, key: bytes, value: bytes, compare: Sequence[Compare],
                       extra_ops: Sequence[RequestOp]) -> TxnResponse:
        """txn(compare -> put key [+ extra ops], else range key), the put on an expiring lease when
        this resource's objects expire (granted afresh once if the store has lost it)."""

        async def txn(lease: int) -> TxnResponse:
            return await store_call(
                self.client.txn(compare, (OpPut(key, value, lease=lease), *extra_ops), (OpRange(key),)))

        if self.leases is None:
            return await txn(0)
        lease = await self.leases.lease()
        try:
            return await txn(lease)
        except errors.ApiError as exc:
            if not isinstance(exc.__cause__, store_errors.LeaseNotFoundError):
                raise
            self.leases.forget(lease)
        return await txn(await self.leases.lease())

    async def delete(
        self,
        namespace: str,
        name: str,
        *,
        expected_rv: int = 0,
        extra_ops: Sequence[RequestOp] = (),
    ) -> dict[str, Any]:
        """Delete the key (only at ``expected_rv`` when given); returns the object as it was."""
        key = self.key(namespace, name)
        if expected_rv:
            compare = Compare(key, CompareTarget.MOD, CompareResult.EQUAL, expected_rv)
        else:
            compare = Compare(key, CompareTarget.CREATE, CompareResult.GREATER, 0)
        resp: TxnResponse = await store_call(
            self.client.txn((compare,), (OpDelete(key, prev_kv=True), *extra_ops), (OpRange(key),))
        )
        if not resp.succeeded:
            current = resp.responses[0]
            if isinstance(current, RangeResponse) and not current.kvs:
                raise errors.not_found(self.resource, name, self.group)
            raise errors.conflict(self.resource, name, self.group)
        deleted = resp.responses[0]
        assert isinstance(deleted, DeleteRangeResponse)
        if not deleted.prev_kvs:
            raise errors.not_found(self.resource, name, self.group)
        return self.decode(deleted.prev_kvs[0])

    async def guaranteed_update(
        self,
        namespace: str,
        name: str,
        mutate: Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]],
        *,
        current: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Read-modify-write with retries. ``mutate`` gets a fresh copy of the current object and
        returns the new one, or None to leave it as it is (then the current object is returned)."""
        for _ in range(GUARANTEED_UPDATE_RETRIES):
            if current is None:
                current = await self.get(namespace, name)
            rv = int(current["metadata"]["resourceVersion"])
            new = await mutate(current)
            if new is None:
                return current
            try:
                return await self.update(namespace, name, new, expected_rv=rv)
            except errors.ApiError as exc:
                if exc.reason != "Conflict":
                    raise
                current = None
        raise errors.conflict(self.resource, name, self.group, "too many concurrent updates; try again")

    @staticmethod
    def _with_rv(obj: dict[str, Any], revision: int) -> dict[str, Any]:
        meta = dict(obj.get("metadata") or {})
        meta["resourceVersion"] = str(revision)
        return {**obj, "metadata": meta}
