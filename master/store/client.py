"""The async etcd v3 client contract that the apiserver uses.

Two implementations satisfy it and are held to one conformance suite
(``tests/unit/master/store/conformance``):

- ``master.store.local.LocalClient``: this store in-process, no gRPC hop (the default).
- ``master.store.grpcclient.GrpcClient``: any etcd v3 server over gRPC, ours or a real etcd
  cluster (``--etcd-servers``), with failover across endpoints.

Semantics are etcd's (see ``master.store.types`` for revisions and range ends). Every method
raises a ``master.store.errors.StoreError`` subclass for the outcomes etcd reports as errors.

Watches::

    stream = client.watch(b"/registry/pods/", prefix_end(b"/registry/pods/"), start_revision=rev + 1)
    async for resp in stream:          # WatchResponse batches, in revision order, no gaps
        for ev in resp.events: ...
    # iteration ends when ``stream.cancel()`` is called; a server-side cancel raises:
    #   CompactedError(compact_revision)  the start revision was compacted
    #   WatcherCanceledError(reason)      the watcher fell too far behind (slow-consumer policy)
    #                                     or the server shut down
    # and a consumer resumes from its last seen revision + 1 (or relists on CompactedError).

start_revision 0 means "from the next change". A start revision in the past replays history
first, then continues live; a start revision in the future waits for it.

What a stream yields (as etcd's clientv3 does without WithCreatedNotify):

- event batches: ``events`` non-empty, in revision order, never splitting one revision;
- progress notifications: no events, and ``header.revision`` = R promises that every event of
  this watch with revision <= R has already been yielded. They come on ``request_progress()``
  and, with ``progress_notify=True``, periodically while the watch is idle.

The creation acknowledgement (``created=True``) is not yielded, and a cancellation is raised,
never yielded. Worked example (store at revision 10, a/b written at 8 and 9)::

    stream = client.watch(b"a", b"c", start_revision=8)
    -> WatchResponse(events=(PUT a @8,)) ; WatchResponse(events=(PUT b @9,))   (replay)
    await stream.request_progress()
    -> WatchResponse(header.revision=10, events=())                           (progress)
    put a -> WatchResponse(events=(PUT a @11,))                                (live)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from master.store.types import (
    CompactResponse,
    Compare,
    DeleteRangeResponse,
    LeaseGrantResponse,
    LeaseKeepAliveResponse,
    LeaseStatus,
    LeaseTimeToLiveResponse,
    Member,
    PutResponse,
    RangeResponse,
    RequestOp,
    SortOrder,
    SortTarget,
    StatusResponse,
    TxnResponse,
    WatchResponse,
)

__all__ = ["Client", "WatchStream"]


class WatchStream(Protocol):
    """One watch. Async-iterate it for ``WatchResponse`` batches; ``cancel()`` ends it."""

    @property
    def watch_id(self) -> int: ...

    def __aiter__(self) -> AsyncIterator[WatchResponse]: ...

    async def request_progress(self) -> None:
        """Ask for a progress notification (etcd's WatchProgressRequest); it arrives in order."""
        ...

    async def cancel(self) -> None: ...


class Client(Protocol):
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
    ) -> RangeResponse: ...

    async def put(
        self,
        key: bytes,
        value: bytes,
        *,
        lease: int = 0,
        prev_kv: bool = False,
        ignore_value: bool = False,
        ignore_lease: bool = False,
    ) -> PutResponse: ...

    async def delete_range(
        self, key: bytes, range_end: bytes = b"", *, prev_kv: bool = False
    ) -> DeleteRangeResponse: ...

    async def txn(
        self,
        compare: Sequence[Compare],
        success: Sequence[RequestOp],
        failure: Sequence[RequestOp] = (),
    ) -> TxnResponse: ...

    async def compact(self, revision: int, *, physical: bool = False) -> CompactResponse: ...

    def watch(
        self,
        key: bytes,
        range_end: bytes = b"",
        *,
        start_revision: int = 0,
        prev_kv: bool = False,
        progress_notify: bool = False,
    ) -> WatchStream: ...

    async def lease_grant(self, ttl: int, *, lease_id: int = 0) -> LeaseGrantResponse: ...

    async def lease_revoke(self, lease_id: int) -> None: ...

    async def lease_keep_alive_once(self, lease_id: int) -> LeaseKeepAliveResponse: ...

    async def lease_time_to_live(self, lease_id: int, *, keys: bool = False) -> LeaseTimeToLiveResponse: ...

    async def lease_leases(self) -> tuple[LeaseStatus, ...]: ...

    async def status(self) -> StatusResponse: ...

    async def member_list(self) -> tuple[Member, ...]: ...

    async def close(self) -> None: ...
