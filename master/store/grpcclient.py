"""``GrpcClient``: the store client contract (``master.store.client.Client``) over etcd's v3 gRPC
API, against our store's gRPC face or a real etcd cluster (the apiserver's ``--etcd-servers``).

Endpoints and failover. The client keeps one channel per endpoint and sends every call to the
current endpoint. When a call fails with UNAVAILABLE it moves on to the next endpoint and tries
again, until the call's deadline (``settings.timeout``) runs out. Reads are retried on any
UNAVAILABLE; writes only when the request certainly never left the client (no connection could
be made), so a put or a compare-and-swap txn is never applied twice.

Watches. Each watch runs on its own gRPC stream, read by a background task into a small bounded
queue; when the consumer falls behind, the task stops reading and HTTP/2 flow control pushes the
back-pressure to the server, whose slow-watcher policy then applies. A stream broken by a
failing member is re-opened on the next endpoint from the last delivered revision + 1, so the
consumer sees no gap and no duplicate. A server-side cancellation ends the iteration with
``CompactedError`` or ``WatcherCanceledError`` (see ``master.store.client``).

Every ``grpc.aio.AioRpcError`` is turned into a ``master.store.errors`` class (``raise ... from``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import grpc
import grpc.aio

from master.store import errors, grpcconv
from master.store.etcdpb import rpc_pb2, rpc_pb2_grpc
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
    PutResponse,
    RangeResponse,
    RequestOp,
    SortOrder,
    SortTarget,
    StatusResponse,
    TxnResponse,
    WatchResponse,
)

__all__ = ["GrpcClient", "GrpcClientSettings", "parse_endpoint"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class GrpcClientSettings:
    # Per call, across all failover attempts.
    timeout: float = 5.0
    # Pause between rounds over all endpoints when none answers.
    retry_backoff: float = 0.05
    retry_backoff_max: float = 1.0
    # A broken watch keeps trying to re-open for this long before the consumer sees UnavailableError.
    watch_reconnect_timeout: float = 30.0
    # Watch responses buffered per watch before the stream stops being read.
    watch_buffer: int = 64
    # HTTP/2 pings on busy connections; etcd refuses pings more often than every 5 s.
    keepalive_time: float = 30.0
    keepalive_timeout: float = 10.0
    # etcd's client default: larger requests fail before they are sent.
    max_send_bytes: int = 2 * 1024 * 1024
    # TLS for https:// endpoints (etcd's --cacert/--cert/--key); the system roots when ca_file is None.
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None


def parse_endpoint(url: str) -> tuple[str, bool]:
    """``http://127.0.0.1:2379`` -> ("127.0.0.1:2379", False); ``https://...`` -> (..., True).

    A bare ``host:port`` is plain text. Raises ValueError with a readable message.
    """
    text = url.strip()
    parts = urlsplit(text if "://" in text else f"http://{text}")
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"unsupported scheme {parts.scheme!r} in etcd endpoint {url!r} (want http or https)")
    if not parts.hostname:
        raise ValueError(f"etcd endpoint {url!r} has no host")
    try:
        port = parts.port or 2379
    except ValueError as exc:
        raise ValueError(f"invalid port in etcd endpoint {url!r}") from exc
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{port}", parts.scheme == "https"


class _Endpoint:
    """One server: its channel (opened on first use) and the service stubs on it."""

    def __init__(self, url: str, target: str, secure: bool) -> None:
        self.url = url
        self.target = target
        self.secure = secure
        self.channel: grpc.aio.Channel | None = None
        self.kv: rpc_pb2_grpc.KVStub
        self.watch: rpc_pb2_grpc.WatchStub
        self.lease: rpc_pb2_grpc.LeaseStub
        self.cluster: rpc_pb2_grpc.ClusterStub
        self.maintenance: rpc_pb2_grpc.MaintenanceStub

    def open(self, settings: GrpcClientSettings) -> None:
        if self.channel is not None:
            return
        options = [
            ("grpc.max_send_message_length", settings.max_send_bytes),
            ("grpc.max_receive_message_length", -1),
            ("grpc.keepalive_time_ms", int(settings.keepalive_time * 1000)),
            ("grpc.keepalive_timeout_ms", int(settings.keepalive_timeout * 1000)),
            # etcd answers pings on idle connections with GOAWAY (too_many_pings).
            ("grpc.keepalive_permit_without_calls", 0),
            # A member that comes back is used again within a second, not after minutes of backoff.
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.min_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 1000),
            # Distinct channels per client: failover must not share one subchannel's state.
            ("grpc.use_local_subchannel_pool", 1),
        ]
        if self.secure:
            creds = grpc.ssl_channel_credentials(
                root_certificates=_read(settings.ca_file),
                private_key=_read(settings.key_file),
                certificate_chain=_read(settings.cert_file),
            )
            channel = grpc.aio.secure_channel(self.target, creds, options=options)
        else:
            channel = grpc.aio.insecure_channel(self.target, options=options)
        self.channel = channel
        self.kv = rpc_pb2_grpc.KVStub(channel)
        self.watch = rpc_pb2_grpc.WatchStub(channel)
        self.lease = rpc_pb2_grpc.LeaseStub(channel)
        self.cluster = rpc_pb2_grpc.ClusterStub(channel)
        self.maintenance = rpc_pb2_grpc.MaintenanceStub(channel)

    async def close(self) -> None:
        if self.channel is not None:
            channel, self.channel = self.channel, None
            await channel.close()


def _read(path: str | None) -> bytes | None:
    return Path(path).read_bytes() if path else None


def _never_sent(exc: grpc.aio.AioRpcError) -> bool:
    """True when the request cannot have reached a server, so even a write may be retried."""
    details = (exc.details() or "").lower()
    return exc.code() is grpc.StatusCode.UNAVAILABLE and (
        "failed to connect" in details or "etcdserver: no leader" in details
    )


def _retryable(exc: grpc.aio.AioRpcError, *, idempotent: bool) -> bool:
    if exc.code() is not grpc.StatusCode.UNAVAILABLE:
        return False
    return idempotent or _never_sent(exc)


class GrpcClient:
    """An etcd v3 client over gRPC with failover across ``endpoints`` (URLs or host:port)."""

    def __init__(self, endpoints: Sequence[str], settings: GrpcClientSettings | None = None) -> None:
        if isinstance(endpoints, str):
            endpoints = [e for e in endpoints.split(",") if e.strip()]
        if not endpoints:
            raise ValueError("no etcd endpoints given")
        self._settings = settings or GrpcClientSettings()
        self._endpoints = [_Endpoint(url, *parse_endpoint(url)) for url in endpoints]
        self._current = 0
        self._watch_ids = itertools.count(1)
        self._watches: set[_GrpcWatch] = set()
        self._closed = False

    @property
    def endpoints(self) -> tuple[str, ...]:
        return tuple(ep.url for ep in self._endpoints)

    @property
    def settings(self) -> GrpcClientSettings:
        return self._settings

    async def __aenter__(self) -> GrpcClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    # ---- plumbing ----

    def _endpoint(self) -> tuple[int, _Endpoint]:
        if self._closed:
            raise errors.UnavailableError("store client is closed")
        index = self._current
        ep = self._endpoints[index]
        ep.open(self._settings)
        return index, ep

    def _failover(self, index: int, exc: grpc.aio.AioRpcError) -> None:
        if len(self._endpoints) > 1 and self._current == index:
            self._current = (index + 1) % len(self._endpoints)
            log.info(
                "store: %s unavailable (%s), trying %s",
                self._endpoints[index].url,
                exc.details(),
                self._endpoints[self._current].url,
            )

    async def _call(
        self,
        invoke: Callable[[_Endpoint, float], Awaitable[_T]],
        *,
        idempotent: bool,
    ) -> _T:
        """Run ``invoke(endpoint, timeout)`` with failover until it succeeds or the deadline passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._settings.timeout
        backoff = self._settings.retry_backoff
        for attempt in itertools.count(1):
            index, ep = self._endpoint()
            remaining = deadline - loop.time()
            try:
                return await invoke(ep, max(remaining, 0.001))
            except grpc.aio.AioRpcError as exc:
                if not _retryable(exc, idempotent=idempotent) or loop.time() >= deadline:
                    if exc.code() is grpc.StatusCode.DEADLINE_EXCEEDED:
                        raise errors.UnavailableError(
                            f"etcdserver: request timed out after {self._settings.timeout:g}s "
                            f"({', '.join(self.endpoints)})"
                        ) from exc
                    raise grpcconv.error_from_status(exc.code(), exc.details() or "") from exc
                self._failover(index, exc)
                if attempt % len(self._endpoints) == 0:
                    await asyncio.sleep(min(backoff, max(deadline - loop.time(), 0)))
                    backoff = min(backoff * 2, self._settings.retry_backoff_max)
        raise AssertionError("unreachable")

    # ---- KV ----

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
        req = grpcconv.range_request(
            OpRange(
                key=key,
                range_end=range_end,
                limit=limit,
                revision=revision,
                keys_only=keys_only,
                count_only=count_only,
                sort_order=sort_order,
                sort_target=sort_target,
                serializable=serializable,
            )
        )
        resp = await self._call(lambda ep, t: ep.kv.Range(req, timeout=t), idempotent=True)
        return grpcconv.range_response_from_pb(resp)

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
        req = grpcconv.put_request(
            OpPut(key, value, lease=lease, prev_kv=prev_kv, ignore_value=ignore_value, ignore_lease=ignore_lease)
        )
        resp = await self._call(lambda ep, t: ep.kv.Put(req, timeout=t), idempotent=False)
        return grpcconv.put_response_from_pb(resp)

    async def delete_range(
        self, key: bytes, range_end: bytes = b"", *, prev_kv: bool = False
    ) -> DeleteRangeResponse:
        req = grpcconv.delete_request(OpDelete(key, range_end, prev_kv=prev_kv))
        resp = await self._call(lambda ep, t: ep.kv.DeleteRange(req, timeout=t), idempotent=False)
        return grpcconv.delete_response_from_pb(resp)

    async def txn(
        self,
        compare: Sequence[Compare],
        success: Sequence[RequestOp],
        failure: Sequence[RequestOp] = (),
    ) -> TxnResponse:
        req = grpcconv.txn_request(compare, success, failure)
        resp = await self._call(lambda ep, t: ep.kv.Txn(req, timeout=t), idempotent=False)
        return grpcconv.txn_response_from_pb(resp)

    async def compact(self, revision: int, *, physical: bool = False) -> CompactResponse:
        req = rpc_pb2.CompactionRequest(revision=revision, physical=physical)
        resp = await self._call(lambda ep, t: ep.kv.Compact(req, timeout=t), idempotent=True)
        return grpcconv.compact_response_from_pb(resp)

    # ---- Watch ----

    def watch(
        self,
        key: bytes,
        range_end: bytes = b"",
        *,
        start_revision: int = 0,
        prev_kv: bool = False,
        progress_notify: bool = False,
    ) -> _GrpcWatch:
        if self._closed:
            raise errors.UnavailableError("store client is closed")
        w = _GrpcWatch(
            self,
            next(self._watch_ids),
            key=key,
            range_end=range_end,
            start_revision=start_revision,
            prev_kv=prev_kv,
            progress_notify=progress_notify,
        )
        self._watches.add(w)
        return w

    # ---- Lease ----

    async def lease_grant(self, ttl: int, *, lease_id: int = 0) -> LeaseGrantResponse:
        req = rpc_pb2.LeaseGrantRequest(TTL=ttl, ID=lease_id)
        resp = await self._call(lambda ep, t: ep.lease.LeaseGrant(req, timeout=t), idempotent=False)
        return grpcconv.lease_grant_from_pb(resp)

    async def lease_revoke(self, lease_id: int) -> None:
        req = rpc_pb2.LeaseRevokeRequest(ID=lease_id)
        await self._call(lambda ep, t: ep.lease.LeaseRevoke(req, timeout=t), idempotent=True)

    async def lease_keep_alive_once(self, lease_id: int) -> LeaseKeepAliveResponse:
        async def once(ep: _Endpoint, seconds: float) -> rpc_pb2.LeaseKeepAliveResponse:
            call = ep.lease.LeaseKeepAlive(timeout=seconds)
            try:
                await call.write(rpc_pb2.LeaseKeepAliveRequest(ID=lease_id))
                resp = await call.read()
                if resp is grpc.aio.EOF:
                    raise errors.UnavailableError("etcdserver: keep-alive stream closed by the server")
                return resp
            finally:
                call.cancel()

        resp = await self._call(once, idempotent=True)
        return grpcconv.lease_keep_alive_from_pb(resp)

    async def lease_time_to_live(self, lease_id: int, *, keys: bool = False) -> LeaseTimeToLiveResponse:
        req = rpc_pb2.LeaseTimeToLiveRequest(ID=lease_id, keys=keys)
        resp = await self._call(lambda ep, t: ep.lease.LeaseTimeToLive(req, timeout=t), idempotent=True)
        return grpcconv.lease_ttl_from_pb(resp)

    async def lease_leases(self) -> tuple[LeaseStatus, ...]:
        req = rpc_pb2.LeaseLeasesRequest()
        resp = await self._call(lambda ep, t: ep.lease.LeaseLeases(req, timeout=t), idempotent=True)
        return grpcconv.lease_statuses_from_pb(resp)

    # ---- Maintenance, Cluster ----

    async def status(self) -> StatusResponse:
        req = rpc_pb2.StatusRequest()
        resp = await self._call(lambda ep, t: ep.maintenance.Status(req, timeout=t), idempotent=True)
        return grpcconv.status_from_pb(resp)

    async def member_list(self) -> tuple[Member, ...]:
        req = rpc_pb2.MemberListRequest()
        resp = await self._call(lambda ep, t: ep.cluster.MemberList(req, timeout=t), idempotent=True)
        return tuple(grpcconv.member_from_pb(m) for m in resp.members)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for w in list(self._watches):
            await w.cancel()
        for ep in self._endpoints:
            await ep.close()


class _Reconnect(Exception):
    """The watch stream broke in a way that re-opening it (elsewhere) may fix."""


class _GrpcWatch:
    """One watch on its own gRPC stream; implements ``master.store.client.WatchStream``."""

    def __init__(
        self,
        client: GrpcClient,
        watch_id: int,
        *,
        key: bytes,
        range_end: bytes,
        start_revision: int,
        prev_kv: bool,
        progress_notify: bool,
    ) -> None:
        self._client = client
        self._id = watch_id
        self._key = key
        self._range_end = range_end
        self._prev_kv = prev_kv
        self._progress_notify = progress_notify
        # The revision to (re)start from: the first one the consumer has not seen; 0 = "now".
        self._next_rev = start_revision
        self._queue: asyncio.Queue[WatchResponse | BaseException | None] = asyncio.Queue(
            maxsize=client.settings.watch_buffer
        )
        self._done = False
        self._established = False
        self._progress_wanted = False
        self._call: Any = None
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"etcd-watch-{watch_id}")

    @property
    def watch_id(self) -> int:
        return self._id

    def __aiter__(self) -> AsyncIterator[WatchResponse]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[WatchResponse]:
        while True:
            item = await self._queue.get()
            if item is None:
                self._queue.put_nowait(None)  # later iterations end too
                return
            if isinstance(item, BaseException):
                self._queue.put_nowait(None)
                raise item
            yield item

    async def request_progress(self) -> None:
        """Ask the server for a progress notification; on a stream being re-opened, the request
        is sent once the watch exists again."""
        if self._done:
            return
        self._progress_wanted = True
        if self._call is not None and self._established:
            self._progress_wanted = False
            with contextlib.suppress(grpc.aio.AioRpcError, asyncio.InvalidStateError):
                await self._call.write(rpc_pb2.WatchRequest(progress_request=rpc_pb2.WatchProgressRequest()))

    async def cancel(self) -> None:
        if self._done:
            return
        self._done = True
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._client._watches.discard(self)
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def _run(self) -> None:
        settings = self._client.settings
        loop = asyncio.get_running_loop()
        backoff = settings.retry_backoff
        give_up_at = loop.time() + settings.watch_reconnect_timeout
        outcome: BaseException | None = None
        try:
            while True:
                try:
                    await self._stream()
                    raise _Reconnect("watch stream ended by the server")
                except _Reconnect as exc:
                    if self._established:
                        give_up_at = loop.time() + settings.watch_reconnect_timeout
                        backoff = settings.retry_backoff
                    if loop.time() >= give_up_at:
                        raise errors.UnavailableError(
                            "etcdserver: watch could not be re-established on "
                            f"{', '.join(self._client.endpoints)}: {exc}"
                        ) from exc
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, settings.retry_backoff_max)
        except errors.StoreError as exc:
            outcome = exc
        except Exception as exc:  # never lose a watch silently: the consumer sees the fault
            log.exception("store: watch %d failed", self._id)
            outcome = errors.StoreError(f"watch failed: {exc}")
        self._client._watches.discard(self)
        self._done = True
        if outcome is not None:
            await self._queue.put(outcome)
        await self._queue.put(None)

    async def _stream(self) -> None:
        """Open one stream, create the watch, and pump responses until the stream breaks."""
        self._established = False
        index, ep = self._client._endpoint()
        call: Any = ep.watch.Watch()
        self._call = call
        try:
            create = rpc_pb2.WatchCreateRequest(
                key=self._key,
                range_end=self._range_end,
                start_revision=self._next_rev,
                progress_notify=self._progress_notify,
                prev_kv=self._prev_kv,
                watch_id=self._id,
            )
            await call.write(rpc_pb2.WatchRequest(create_request=create))
            while True:
                resp = await call.read()
                if resp is grpc.aio.EOF:
                    return
                self._track(resp)
                if resp.created:
                    self._established = True
                    if self._progress_wanted:
                        self._progress_wanted = False
                        await call.write(
                            rpc_pb2.WatchRequest(progress_request=rpc_pb2.WatchProgressRequest())
                        )
                elif resp.events or resp.header.revision:
                    # etcd answers a progress request with watch_id -1 (for the whole stream).
                    resp.watch_id = self._id
                    await self._queue.put(grpcconv.watch_response_from_pb(resp))
        except grpc.aio.AioRpcError as exc:
            if exc.code() is grpc.StatusCode.UNAVAILABLE:
                self._client._failover(index, exc)
                raise _Reconnect(exc.details()) from exc
            raise grpcconv.error_from_status(exc.code(), exc.details() or "") from exc
        finally:
            self._call = None
            call.cancel()

    def _track(self, resp: rpc_pb2.WatchResponse) -> None:
        """Track the resume revision; turn a server-side cancel into the contract's errors."""
        if resp.canceled:
            if resp.compact_revision:
                raise errors.CompactedError(resp.compact_revision)
            raise errors.WatcherCanceledError(resp.cancel_reason or errors.WatcherCanceledError.message)
        if resp.created:
            if self._next_rev == 0:
                self._next_rev = resp.header.revision + 1
            return
        if resp.events:
            self._next_rev = resp.events[-1].kv.mod_revision + 1
        elif resp.header.revision >= self._next_rev:
            # A progress notification: every later event has a higher revision.
            self._next_rev = resp.header.revision + 1
