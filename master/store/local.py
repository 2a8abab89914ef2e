"""``LocalClient``: the ``master.store.client.Client`` contract on a ``Store`` in this process.

No gRPC hop: requests become the store's request types and responses come back as they are.
The apiserver uses it for the embedded store::

    client = await LocalClient.open(StoreSettings(data_dir=path))   # owns the store
    ...
    await client.close()                                             # closes the store too

or ``LocalClient(store)`` to share a store someone else opens and closes (the gRPC server
serves the same ``Store``).
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Sequence

from master.store.errors import UnavailableError
from master.store.settings import StoreSettings
from master.store.store import Store
from master.store.types import (
    CompactResponse,
    Compare,
    DeleteRangeResponse,
    LeaseGrantResponse,
    LeaseKeepAliveResponse,
    LeaseStatus,
    LeaseTimeToLiveResponse,
    Member,
    OpDelete,
    OpPut,
    OpRange,
    OpTxn,
    PutResponse,
    RangeResponse,
    RequestOp,
    SortOrder,
    SortTarget,
    StatusResponse,
    TxnResponse,
    WatchResponse,
)
from master.store.watch import Watcher

__all__ = ["LocalClient", "LocalWatchStream"]


class LocalWatchStream:
    def __init__(self, watcher: Watcher) -> None:
        self._watcher = watcher

    @property
    def watch_id(self) -> int:
        return self._watcher.id

    def __aiter__(self) -> AsyncIterator[WatchResponse]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[WatchResponse]:
        while True:
            resp = await self._watcher.next()
            if resp is None:
                return
            yield resp

    async def request_progress(self) -> None:
        self._watcher.request_progress()

    async def cancel(self) -> None:
        self._watcher.cancel()


class LocalClient:
    def __init__(self, store: Store, *, owns_store: bool = False) -> None:
        self.store = store
        self._owns_store = owns_store
        self._closed = False
        self._streams: weakref.WeakSet[LocalWatchStream] = weakref.WeakSet()

    @classmethod
    async def open(cls, settings: StoreSettings) -> LocalClient:
        store = Store(settings)
        await store.open()
        return cls(store, owns_store=True)

    def _live(self) -> Store:
        if self._closed:
            raise UnavailableError("etcdserver: client is closed")
        return self.store

    async def range(
        self,
        key: bytes,
        range_end: bytes = b"",
        *,
        revision: int = 0,
        limit: int = 0,
        keys_only: bool = False,
        count_only: bool = False,
        sort_order: SortOrder = SortOrder.NONE,
        sort_target: SortTarget = SortTarget.KEY,
        serializable: bool = False,
    ) -> RangeResponse:
        op = OpRange(
            key,
            range_end,
            limit=limit,
            revision=revision,
            keys_only=keys_only,
            count_only=count_only,
            sort_order=sort_order,
            sort_target=sort_target,
            serializable=serializable,
        )
        return self._live().range(op)

    async def put(
        self,
        key: bytes,
        value: bytes,
        *,
        lease: int = 0,
        prev_kv: bool = False,
        ignore_value: bool = False,
        ignore_lease: bool = False,
    ) -> PutResponse:
        op = OpPut(key, value, lease, prev_kv, ignore_value, ignore_lease)
        return await self._live().put(op)

    async def delete_range(
        self, key: bytes, range_end: bytes = b"", *, prev_kv: bool = False
    ) -> DeleteRangeResponse:
        return await self._live().delete_range(OpDelete(key, range_end, prev_kv))

    async def txn(
        self,
        compare: Sequence[Compare],
        success: Sequence[RequestOp],
        failure: Sequence[RequestOp] = (),
    ) -> TxnResponse:
        return await self._live().txn(OpTxn(tuple(compare), tuple(success), tuple(failure)))

    async def compact(self, revision: int, *, physical: bool = False) -> CompactResponse:
        return await self._live().compact(revision, physical=physical)

    def watch(
        self,
        key: bytes,
        range_end: bytes = b"",
        *,
        start_revision: int = 0,
        prev_kv: bool = False,
        progress_notify: bool = False,
    ) -> LocalWatchStream:
        watcher = self._live().watch(
            key, range_end, start_revision=start_revision, prev_kv=prev_kv, progress_notify=progress_notify
        )
        stream = LocalWatchStream(watcher)
        self._streams.add(stream)
        return stream

    async def lease_grant(self, ttl: int, *, lease_id: int = 0) -> LeaseGrantResponse:
        return await self._live().lease_grant(ttl, lease_id)

    async def lease_revoke(self, lease_id: int) -> None:
        await self._live().lease_revoke(lease_id)

    async def lease_keep_alive_once(self, lease_id: int) -> LeaseKeepAliveResponse:
        return self._live().lease_keep_alive(lease_id)

    async def lease_time_to_live(self, lease_id: int, *, keys: bool = False) -> LeaseTimeToLiveResponse:
        return self._live().lease_time_to_live(lease_id, keys=keys)

    async def lease_leases(self) -> tuple[LeaseStatus, ...]:
        return self._live().lease_leases()

    async def status(self) -> StatusResponse:
        return self._live().status()

    async def member_list(self) -> tuple[Member, ...]:
        return self._live().member_list()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for stream in list(self._streams):
            await stream.cancel()
        if self._owns_store:
            await self.store.close()
