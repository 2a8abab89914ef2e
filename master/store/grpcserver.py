"""The etcd v3 gRPC face of a ``Store``: KV, Watch, Lease, Cluster, Maintenance (and Auth's
answers for a cluster without auth), so that etcdctl and etcd client libraries work against it.

Requests become the store's request types (``master.store.grpcconv``); store errors become
etcd's status codes and messages, so etcdctl prints the same ``Error: etcdserver: ...`` line as
against etcd. Anything else that goes wrong in a handler is logged and answered with INTERNAL;
malformed messages are refused by gRPC itself; neither ever stops the server.

Limits, as etcd sets them: a write request larger than ``max_request_bytes`` (1.5 MiB) is
refused with "etcdserver: request is too large"; gRPC itself refuses messages larger than
``max_request_bytes`` + 512 KiB (etcd's ``grpcOverheadBytes``) with RESOURCE_EXHAUSTED.

Watch streams, as etcd serves them. One stream carries many watches, each with an id chosen by
the client (``watch_id`` > 0) or by the server (the lowest free id, from 0). Every create is
answered with ``created=True`` and header.revision = the store's revision, before any event of
that watch. A start revision below the compact revision ends the watch with ``canceled=True``
and ``compact_revision``; the core's slow-watcher policy ends it with ``canceled=True`` and a
``cancel_reason``. A progress request makes every watch of the stream report its progress, in
order with its events (a stream without watches gets etcd's stream-wide answer, watch_id -1).
``fragment`` is accepted but never needed: responses are not size-limited on the way out.
Worked example (store at revision 7)::

    -> create key=a start_revision=0          <- created watch_id=0 header.revision=7
    -> create key=b watch_id=5                <- created watch_id=5 header.revision=7
       put a (rev 8)                          <- watch_id=0 events=[PUT a @8]
    -> progress                               <- watch_id=0 header.revision=8, no events
                                              <- watch_id=5 header.revision=8, no events
    -> cancel watch_id=0                      <- watch_id=0 canceled
    -> create key=a start_revision=2, compacted at 4
                                              <- created watch_id=0
                                              <- watch_id=0 canceled compact_revision=4
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import socket
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import grpc
import grpc.aio
from google.protobuf.message import DecodeError

from master.store import errors, grpcconv
from master.store.etcdpb import rpc_pb2
from master.store.store import Store
from master.store.types import EventType, WatchResponse
from master.store.watch import Watcher

if TYPE_CHECKING:  # metrics are optional: prometheus_client is only imported when they are on
    from master.store.metrics import GrpcMetrics

__all__ = ["EtcdGrpcServer", "GrpcServerSettings", "ServerTLS", "parse_url", "serve"]

log = logging.getLogger(__name__)

# etcd adds this much to --max-request-bytes for gRPC's own message limit.
GRPC_OVERHEAD_BYTES = 512 * 1024


@dataclass(frozen=True, slots=True)
class GrpcServerSettings:
    # etcd's server keepalive: ping idle connections every 2 h, and refuse clients that ping
    # more often than every 5 s (--grpc-keepalive-interval, --grpc-keepalive-min-time).
    keepalive_time: float = 2 * 3600.0
    keepalive_timeout: float = 20.0
    keepalive_min_time: float = 5.0
    # Responses waiting to be written per watch stream, before its watches stop being read
    # (and the core's slow-watcher policy takes over).
    watch_send_buffer: int = 128


class Refused(Exception):
    """An RPC answered with a fixed status: etcd's answer for a cluster without auth, or a
    method a single-member store does not support."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class BadMessage(Exception):
    """A request that is not a valid protobuf message of its type."""


def _status(exc: Exception, service: str, method: str) -> tuple[grpc.StatusCode, str]:
    if isinstance(exc, errors.StoreError):
        return grpcconv.status_for_error(exc)
    if isinstance(exc, (BadMessage, Refused)):
        return getattr(exc, "code", grpc.StatusCode.INTERNAL), str(exc)
    log.exception("store: %s/%s failed", service, method)
    return grpc.StatusCode.INTERNAL, f"etcdserver: internal error: {type(exc).__name__}: {exc}"


def _unsupported(method: str, why: str) -> NoReturn:
    raise Refused(grpc.StatusCode.UNIMPLEMENTED, f"etcdserver: {method} is not supported: {why}")


class _Service:
    """A servicer: unary methods take the request and return the response or raise (the
    registration below turns errors into statuses and counts every RPC); streaming methods
    take the request stream and the context."""

    service = ""

    def __init__(self, store: Store, metrics: GrpcMetrics | None) -> None:
        self.store = store
        self.metrics = metrics

    def header(self) -> rpc_pb2.ResponseHeader:
        return grpcconv.header_to_pb(self.store.header())


class KVService(_Service):
    service = "etcdserverpb.KV"

    async def Range(self, request: rpc_pb2.RangeRequest) -> rpc_pb2.RangeResponse:
        return grpcconv.range_response_to_pb(self.store.range(grpcconv.range_op_from_pb(request)))

    async def Put(self, request: rpc_pb2.PutRequest) -> rpc_pb2.PutResponse:
        if request.ByteSize() > self.store.settings.max_request_bytes:
            raise errors.RequestTooLargeError()
        return grpcconv.put_response_to_pb(await self.store.put(grpcconv.put_op_from_pb(request)))

    async def DeleteRange(self, request: rpc_pb2.DeleteRangeRequest) -> rpc_pb2.DeleteRangeResponse:
        if request.ByteSize() > self.store.settings.max_request_bytes:
            raise errors.RequestTooLargeError()
        return grpcconv.delete_response_to_pb(
            await self.store.delete_range(grpcconv.delete_op_from_pb(request))
        )

    async def Txn(self, request: rpc_pb2.TxnRequest) -> rpc_pb2.TxnResponse:
        if request.ByteSize() > self.store.settings.max_request_bytes:
            raise errors.RequestTooLargeError()
        return grpcconv.txn_response_to_pb(await self.store.txn(grpcconv.txn_op_from_pb(request)))

    async def Compact(self, request: rpc_pb2.CompactionRequest) -> rpc_pb2.CompactionResponse:
        resp = await self.store.compact(request.revision, physical=request.physical)
        return rpc_pb2.CompactionResponse(header=grpcconv.header_to_pb(resp.header))


class LeaseService(_Service):
    service = "etcdserverpb.Lease"

    async def LeaseGrant(self, request: rpc_pb2.LeaseGrantRequest) -> rpc_pb2.LeaseGrantResponse:
        resp = await self.store.lease_grant(request.TTL, request.ID)
        return rpc_pb2.LeaseGrantResponse(header=grpcconv.header_to_pb(resp.header), ID=resp.id, TTL=resp.ttl)

    async def LeaseRevoke(self, request: rpc_pb2.LeaseRevokeRequest) -> rpc_pb2.LeaseRevokeResponse:
        header = await self.store.lease_revoke(request.ID)
        return rpc_pb2.LeaseRevokeResponse(header=grpcconv.header_to_pb(header))

    async def LeaseKeepAlive(
        self, requests: AsyncIterator[rpc_pb2.LeaseKeepAliveRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[rpc_pb2.LeaseKeepAliveResponse]:
        metrics = self.metrics
        if metrics is not None:
            metrics.start("bidi_stream", self.service, "LeaseKeepAlive")
        code = grpc.StatusCode.OK
        try:
            async for request in requests:
                # A lease that is gone is answered with TTL 0, as etcd does; the client gives up.
                resp = self.store.lease_keep_alive(request.ID)
                yield rpc_pb2.LeaseKeepAliveResponse(
                    header=grpcconv.header_to_pb(resp.header), ID=resp.id, TTL=resp.ttl
                )
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED
            raise
        except Exception as exc:
            code, message = _status(exc, self.service, "LeaseKeepAlive")
            await context.abort(code, message)
        finally:
            if metrics is not None:
                metrics.done("bidi_stream", self.service, "LeaseKeepAlive", code)

    async def LeaseTimeToLive(
        self, request: rpc_pb2.LeaseTimeToLiveRequest
    ) -> rpc_pb2.LeaseTimeToLiveResponse:
        resp = self.store.lease_time_to_live(request.ID, keys=request.keys)
        return rpc_pb2.LeaseTimeToLiveResponse(
            header=grpcconv.header_to_pb(resp.header),
            ID=resp.id,
            TTL=resp.ttl,
            grantedTTL=resp.granted_ttl,
            keys=list(resp.keys),
        )

    async def LeaseLeases(self, request: rpc_pb2.LeaseLeasesRequest) -> rpc_pb2.LeaseLeasesResponse:
        leases = [rpc_pb2.LeaseStatus(ID=lease.id) for lease in self.store.lease_leases()]
        return rpc_pb2.LeaseLeasesResponse(header=self.header(), leases=leases)


_ONE_MEMBER = "picluster's store is a single member; use a real etcd cluster (--etcd-servers) for more"


class ClusterService(_Service):
    service = "etcdserverpb.Cluster"

    async def MemberList(self, request: rpc_pb2.MemberListRequest) -> rpc_pb2.MemberListResponse:
        members = [grpcconv.member_to_pb(m) for m in self.store.member_list()]
        header = self.header()
        header.revision = 0  # etcd leaves it unset: membership is not in the key space
        return rpc_pb2.MemberListResponse(header=header, members=members)

    async def MemberAdd(self, request: Any) -> NoReturn:
        _unsupported("MemberAdd", _ONE_MEMBER)

    async def MemberRemove(self, request: Any) -> NoReturn:
        _unsupported("MemberRemove", _ONE_MEMBER)

    async def MemberUpdate(self, request: Any) -> NoReturn:
        _unsupported("MemberUpdate", _ONE_MEMBER)

    async def MemberPromote(self, request: Any) -> NoReturn:
        _unsupported("MemberPromote", _ONE_MEMBER)


class MaintenanceService(_Service):
    service = "etcdserverpb.Maintenance"

    async def Status(self, request: rpc_pb2.StatusRequest) -> rpc_pb2.StatusResponse:
        return grpcconv.status_to_pb(self.store.status())

    async def Alarm(self, request: rpc_pb2.AlarmRequest) -> rpc_pb2.AlarmResponse:
        # No quota, no corruption checks: there is never an alarm to list or to clear.
        return rpc_pb2.AlarmResponse(header=self.header())

    async def Defragment(self, request: rpc_pb2.DefragmentRequest) -> rpc_pb2.DefragmentResponse:
        # The SQLite backend gives free pages back after every compaction (incremental vacuum and
        # a WAL truncate), so there is nothing left for a defragment to do.
        self.store.status()  # fails like the other calls when the store is closed
        return rpc_pb2.DefragmentResponse(header=self.header())

    async def Hash(self, request: Any) -> NoReturn:
        _unsupported("Hash", "there is one member, nothing to compare with")

    async def HashKV(self, request: Any) -> NoReturn:
        _unsupported("HashKV", "there is one member, nothing to compare with")

    async def Snapshot(self, request: Any) -> NoReturn:
        _unsupported("Snapshot", "back up the data dir's store.db with sqlite3 .backup")

    async def MoveLeader(self, request: Any) -> NoReturn:
        _unsupported("MoveLeader", "there is one member, always the leader")


class AuthService(_Service):
    """etcd's answers for a cluster whose auth is disabled and has no users."""

    service = "etcdserverpb.Auth"

    async def AuthStatus(self, request: rpc_pb2.AuthStatusRequest) -> rpc_pb2.AuthStatusResponse:
        return rpc_pb2.AuthStatusResponse(header=self.header(), enabled=False)

    async def AuthDisable(self, request: rpc_pb2.AuthDisableRequest) -> rpc_pb2.AuthDisableResponse:
        return rpc_pb2.AuthDisableResponse(header=self.header())

    async def UserList(self, request: rpc_pb2.AuthUserListRequest) -> rpc_pb2.AuthUserListResponse:
        return rpc_pb2.AuthUserListResponse(header=self.header())

    async def RoleList(self, request: rpc_pb2.AuthRoleListRequest) -> rpc_pb2.AuthRoleListResponse:
        return rpc_pb2.AuthRoleListResponse(header=self.header())

    async def AuthEnable(self, request: Any) -> NoReturn:
        raise Refused(grpc.StatusCode.FAILED_PRECONDITION, "etcdserver: root user does not exist")

    async def Authenticate(self, request: Any) -> NoReturn:
        raise Refused(grpc.StatusCode.FAILED_PRECONDITION, "etcdserver: authentication is not enabled")


# ---- Watch ----


class _Watch:
    __slots__ = ("id", "no_delete", "no_put", "task", "watcher")

    def __init__(self, watch_id: int, watcher: Watcher, filters: Iterable[int]) -> None:
        self.id = watch_id
        self.watcher = watcher
        kinds = set(filters)
        self.no_put = rpc_pb2.WatchCreateRequest.NOPUT in kinds
        self.no_delete = rpc_pb2.WatchCreateRequest.NODELETE in kinds
        self.task: asyncio.Task[None] | None = None


class _WatchSession:
    """One Watch stream: its watches by id, and the single queue every response goes through."""

    def __init__(self, store: Store, send_buffer: int) -> None:
        self.store = store
        self.out: asyncio.Queue[rpc_pb2.WatchResponse | None] = asyncio.Queue(maxsize=send_buffer)
        self.watches: dict[int, _Watch] = {}
        self._next_id = 0
        # What broke the request side of the stream (a malformed message, a dropped client).
        self.failure: Exception | None = None

    def header(self) -> rpc_pb2.ResponseHeader:
        return grpcconv.header_to_pb(self.store.header())

    async def read(self, requests: AsyncIterator[rpc_pb2.WatchRequest]) -> None:
        """Handle requests until the client half-closes; the stream stays open after that (as in
        etcd) until the client goes away. A broken request stream ends the RPC."""
        try:
            async for req in requests:
                which = req.WhichOneof("request_union")
                if which == "create_request":
                    await self.create(req.create_request)
                elif which == "cancel_request":
                    await self.cancel(req.cancel_request.watch_id)
                elif which == "progress_request":
                    await self.progress()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.debug("store: watch stream request side failed: %s", exc)
            self.failure = exc
            self.end()

    async def create(self, creq: rpc_pb2.WatchCreateRequest) -> None:
        key = creq.key or b"\0"
        end = creq.range_end
        watch_id = creq.watch_id
        if watch_id > 0 and watch_id in self.watches:
            await self._refuse("mvcc: duplicate watch ID provided on the WatchStream")
            return
        if end not in (b"", b"\0") and key >= end:
            await self._refuse("mvcc: watcher range is empty")
            return
        if watch_id <= 0:
            while self._next_id in self.watches:
                self._next_id += 1
            watch_id = self._next_id
            self._next_id += 1
        try:
            watcher = self.store.watch(
                key,
                end,
                start_revision=creq.start_revision,
                prev_kv=creq.prev_kv,
                progress_notify=creq.progress_notify,
            )
        except errors.StoreError as exc:
            await self._refuse(exc.message)
            return
        w = _Watch(watch_id, watcher, creq.filters)
        self.watches[watch_id] = w
        # The created response goes out before any event of this watch: the pump starts after.
        await self.out.put(rpc_pb2.WatchResponse(header=self.header(), watch_id=watch_id, created=True))
        if self.watches.get(watch_id) is w:
            w.task = asyncio.create_task(self._pump(w), name=f"etcd-watch-send-{watch_id}")

    async def _refuse(self, reason: str) -> None:
        await self.out.put(
            rpc_pb2.WatchResponse(
                header=self.header(), watch_id=-1, created=True, canceled=True, cancel_reason=reason
            )
        )

    async def cancel(self, watch_id: int) -> None:
        w = self.watches.pop(watch_id, None)
        if w is None:
            return
        self._stop(w)
        await self.out.put(rpc_pb2.WatchResponse(header=self.header(), watch_id=watch_id, canceled=True))

    async def progress(self) -> None:
        if not self.watches:
            await self.out.put(rpc_pb2.WatchResponse(header=self.header(), watch_id=-1))
            return
        for w in self.watches.values():
            w.watcher.request_progress()

    async def _pump(self, w: _Watch) -> None:
        """Move one watch's batches from the core to the stream, in order."""
        try:
            while True:
                resp = await w.watcher.next()
                if resp is None:
                    return
                msg = self._message(w, resp)
                if msg is not None:
                    await self.out.put(msg)
        except errors.CompactedError as exc:
            await self._ended(w, rpc_pb2.WatchResponse(compact_revision=exc.compact_revision))
        except errors.StoreError as exc:
            await self._ended(w, rpc_pb2.WatchResponse(cancel_reason=exc.message))

    def _message(self, w: _Watch, resp: WatchResponse) -> rpc_pb2.WatchResponse | None:
        events = resp.events
        if events and (w.no_put or w.no_delete):
            events = tuple(
                ev
                for ev in events
                if not (w.no_put and ev.type is EventType.PUT)
                and not (w.no_delete and ev.type is EventType.DELETE)
            )
            if not events:
                return None
        return rpc_pb2.WatchResponse(
            header=grpcconv.header_to_pb(resp.header),
            watch_id=w.id,
            events=[grpcconv.event_to_pb(ev) for ev in events],
        )

    async def _ended(self, w: _Watch, msg: rpc_pb2.WatchResponse) -> None:
        if self.watches.get(w.id) is w:
            del self.watches[w.id]
        msg.header.CopyFrom(self.header())
        msg.watch_id = w.id
        msg.canceled = True
        await self.out.put(msg)

    def _stop(self, w: _Watch) -> None:
        w.watcher.cancel()
        if w.task is not None and w.task is not asyncio.current_task():
            w.task.cancel()

    def close(self) -> None:
        for w in self.watches.values():
            self._stop(w)
        self.watches.clear()

    def end(self) -> None:
        """Close every watch and end the stream now (server shutdown)."""
        self.close()
        while not self.out.empty():
            self.out.get_nowait()
        self.out.put_nowait(None)


class WatchService(_Service):
    service = "etcdserverpb.Watch"

    def __init__(self, store: Store, metrics: GrpcMetrics | None, send_buffer: int) -> None:
        super().__init__(store, metrics)
        self.send_buffer = send_buffer
        self.sessions: set[_WatchSession] = set()

    async def Watch(
        self, request_iterator: AsyncIterator[rpc_pb2.WatchRequest], context: grpc.aio.ServicerContext
    ) -> None:
        metrics = self.metrics
        if metrics is not None:
            metrics.start("bidi_stream", self.service, "Watch")
        code = grpc.StatusCode.OK
        session = _WatchSession(self.store, self.send_buffer)
        self.sessions.add(session)
        reader = asyncio.create_task(session.read(request_iterator), name="etcd-watch-recv")
        try:
            while True:
                msg = await session.out.get()
                if msg is None:
                    break
                await context.write(msg)
            if isinstance(session.failure, BadMessage):
                code = grpc.StatusCode.INTERNAL
                await context.abort(code, str(session.failure))
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED
            raise
        except Exception as exc:  # the client went away mid-write
            log.debug("store: watch stream ended: %s", exc)
            code = grpc.StatusCode.CANCELLED
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            session.close()
            self.sessions.discard(session)
            if metrics is not None:
                metrics.done("bidi_stream", self.service, "Watch", code)


# ---- registration ----
#
# Services are registered from rpc.proto's descriptors, with requests decoded by us rather than
# by gRPC: a malformed message then gets Go gRPC's answer (INTERNAL, "grpc: error unmarshalling
# request: ...") instead of an UNKNOWN status and a logged traceback.


def _decode(cls: Any, data: bytes) -> Any:
    try:
        return cls.FromString(data)
    except DecodeError as exc:
        raise BadMessage(f"grpc: error unmarshalling request: {exc}") from None


def _serialize(message: Any) -> bytes:
    return bytes(message.SerializeToString())


async def _decoded(requests: AsyncIterator[bytes], cls: Any) -> AsyncIterator[Any]:
    async for data in requests:
        yield _decode(cls, data)


def _unary(service: _Service, name: str, cls: Any) -> Callable[..., Any]:
    """The handler of one unary RPC: decode, call, count, and map failures to statuses."""
    fn = getattr(service, name)
    label = service.service
    metrics = service.metrics

    async def handle(data: bytes, context: grpc.aio.ServicerContext) -> Any:
        if metrics is not None:
            metrics.start("unary", label, name)
        try:
            response = await fn(_decode(cls, data))
        except Exception as exc:
            code, message = _status(exc, label, name)
            if metrics is not None:
                metrics.done("unary", label, name, code)
            await context.abort(code, message)
            raise AssertionError("abort returned") from exc
        if metrics is not None:
            metrics.done("unary", label, name, grpc.StatusCode.OK)
        return response

    return handle


def _bidi(fn: Callable[..., Any], cls: Any) -> Callable[..., Any]:
    if inspect.isasyncgenfunction(fn):

        async def generate(
            requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            async for response in fn(_decoded(requests, cls), context):
                yield response

        return generate

    async def handle(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> None:
        await fn(_decoded(requests, cls), context)

    return handle


def _generic_handler(service: _Service) -> grpc.GenericRpcHandler:
    name = service.service.rsplit(".", 1)[1]
    handlers: dict[str, grpc.RpcMethodHandler] = {}
    for method in rpc_pb2.DESCRIPTOR.services_by_name[name].methods:
        cls = getattr(rpc_pb2, method.input_type.name)
        if method.client_streaming:
            handlers[method.name] = grpc.stream_stream_rpc_method_handler(
                _bidi(getattr(service, method.name), cls),
                request_deserializer=None,
                response_serializer=_serialize,
            )
        elif method.server_streaming:  # Snapshot: refused before anything is streamed
            handlers[method.name] = grpc.unary_stream_rpc_method_handler(
                _unary(service, method.name, cls), request_deserializer=None, response_serializer=_serialize
            )
        else:
            handlers[method.name] = grpc.unary_unary_rpc_method_handler(
                _unary(service, method.name, cls), request_deserializer=None, response_serializer=_serialize
            )
    return grpc.method_handlers_generic_handler(service.service, handlers)


def _probe(host: str, port: int) -> None:
    """Bind host:port once ourselves, so that "address in use" is one clear OSError rather
    than gRPC core's log line and a generic failure."""
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                raise OSError(
                    f"cannot listen on {host}:{port}: {(exc.strerror or str(exc)).lower()}"
                ) from None


class EtcdGrpcServer:
    """A gRPC server with the etcd v3 services over one ``Store``. The caller owns the store.

    ::

        server = EtcdGrpcServer(store, metrics=StoreMetrics(store).grpc)
        port = await server.start("127.0.0.1", 2379)
        ...
        await server.stop()            # before closing the store
    """

    def __init__(
        self,
        store: Store,
        *,
        metrics: GrpcMetrics | None = None,
        settings: GrpcServerSettings | None = None,
    ) -> None:
        self.store = store
        self.settings = settings or GrpcServerSettings()
        s = self.settings
        options = [
            ("grpc.max_receive_message_length", store.settings.max_request_bytes + GRPC_OVERHEAD_BYTES),
            ("grpc.max_send_message_length", -1),
            ("grpc.keepalive_time_ms", int(s.keepalive_time * 1000)),
            ("grpc.keepalive_timeout_ms", int(s.keepalive_timeout * 1000)),
            ("grpc.http2.min_ping_interval_without_data_ms", int(s.keepalive_min_time * 1000)),
            ("grpc.http2.min_recv_ping_interval_without_data_ms", int(s.keepalive_min_time * 1000)),
            # Without this a second server could bind the same port and share its traffic.
            ("grpc.so_reuseport", 0),
        ]
        self._server = grpc.aio.server(options=options)
        self._watch = WatchService(store, metrics, s.watch_send_buffer)
        services: tuple[_Service, ...] = (
            KVService(store, metrics),
            self._watch,
            LeaseService(store, metrics),
            ClusterService(store, metrics),
            MaintenanceService(store, metrics),
            AuthService(store, metrics),
        )
        self._server.add_generic_rpc_handlers(tuple(_generic_handler(svc) for svc in services))
        self._started = False

    def add_port(self, host: str, port: int, *, tls: ServerTLS | None = None) -> int:
        """Listen on host:port (port 0: any free port); returns the port. Raises OSError.

        With ``tls`` the port speaks TLS and requires a client certificate from ``tls.ca``."""
        target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        _probe(host, port)
        try:
            if tls is not None:
                creds = grpc.ssl_server_credentials([(tls.key, tls.cert)], root_certificates=tls.ca,
                                                    require_client_auth=True)
                bound = self._server.add_secure_port(target, creds)
            else:
                bound = self._server.add_insecure_port(target)
        except RuntimeError as exc:
            raise OSError(f"cannot listen on {target}: {exc}") from exc
        if not bound:
            raise OSError(f"cannot listen on {target} (address in use or not available)")
        return bound

    async def start(self) -> None:
        await self._server.start()
        self._started = True

    async def stop(self, grace: float = 1.0) -> None:
        """Stop accepting RPCs, let unary RPCs finish for ``grace`` seconds, end every stream.

        Watch streams end without a cancel response, which etcd clients would take as final:
        clients see the stream close and resume elsewhere (or here, after a restart) from their
        last revision + 1."""
        if not self._started:
            return
        self._started = False
        for session in list(self._watch.sessions):
            session.end()
        await self._server.stop(grace)


@dataclass(frozen=True)
class ServerTLS:
    """PEM serving certificate and key, and the CA client certificates must chain to."""

    cert: bytes
    key: bytes
    ca: bytes


def parse_url(url: str, *, default_port: int = 2379, allow_https: bool = False) -> tuple[str, int]:
    """``http://127.0.0.1:2379`` (or ``127.0.0.1:2379``) -> ("127.0.0.1", 2379).

    Raises ValueError with a readable message; https only with ``allow_https`` (a caller that
    has TLS material for it)."""
    text = url.strip()
    parts = urlsplit(text if "://" in text else f"http://{text}")
    if parts.scheme == "https" and not allow_https:
        raise ValueError(f"{url!r}: TLS needs certificates (pictl master makes them); use http:// here")
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {parts.scheme!r} in {url!r} (want http)")
    if parts.path not in ("", "/") or parts.query:
        raise ValueError(f"{url!r}: want http://HOST:PORT, without a path")
    try:
        port = parts.port if parts.port is not None else default_port
    except ValueError:
        raise ValueError(f"invalid port in {url!r}") from None
    return parts.hostname or "127.0.0.1", port


async def serve(
    store: Store,
    url: str,
    *,
    metrics: GrpcMetrics | None = None,
    settings: GrpcServerSettings | None = None,
    tls: ServerTLS | None = None,
) -> EtcdGrpcServer:
    """Serve ``store``'s etcd v3 API on ``url`` (``http://127.0.0.1:2379``) until ``await server.stop()``.

    For a component that embeds the store (``pictl master``); raises ValueError for a bad URL and
    OSError when the address cannot be bound. An ``https://`` URL needs ``tls`` (mutual TLS).
    """
    host, port = parse_url(url, allow_https=tls is not None)
    if url.strip().startswith("https://") != (tls is not None):
        raise ValueError(f"{url!r}: TLS material is given for https:// URLs only")
    server = EtcdGrpcServer(store, metrics=metrics, settings=settings)
    server.add_port(host, port, tls=tls)
    await server.start()
    return server
