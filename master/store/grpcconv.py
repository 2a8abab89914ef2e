"""Conversions at the gRPC boundary: ``master.store.types`` <-> etcd v3 protobuf, and store
errors <-> gRPC status.

Both sides of the wire use this module: the gRPC service (``grpcserver``) turns requests into
store calls and results into responses; the gRPC client (``grpcclient``) does the reverse.

Status codes and messages are etcd's (``api/v3rpc/rpctypes``), so etcdctl prints the same
``Error: etcdserver: ...`` line against our store as against etcd::

    InvalidRequestError and its subclasses           INVALID_ARGUMENT
      (empty key, too large, too many ops, ...)
    CompactedError, FutureRevisionError,
    LeaseTTLTooLargeError                            OUT_OF_RANGE
    LeaseNotFoundError                               NOT_FOUND
    LeaseExistsError                                 FAILED_PRECONDITION
    UnavailableError                                 UNAVAILABLE
    any other StoreError                             UNKNOWN

etcd's status for a compacted range does not carry the compact revision, so a
``CompactedError`` decoded from the wire has ``compact_revision == 0`` (watch cancellations do
carry it, in the response).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any, TypeVar

import grpc

from master.store import errors
from master.store.etcdpb import kv_pb2, rpc_pb2
from master.store.types import (
    CompactResponse,
    Compare,
    CompareResult,
    CompareTarget,
    DeleteRangeResponse,
    Event,
    EventType,
    KeyValue,
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
    ResponseHeader,
    SortOrder,
    SortTarget,
    StatusResponse,
    TxnResponse,
    WatchResponse,
)

__all__ = [
    "compare_from_pb",
    "compare_to_pb",
    "error_from_status",
    "event_from_pb",
    "event_to_pb",
    "header_from_pb",
    "header_to_pb",
    "kv_from_pb",
    "kv_to_pb",
    "op_from_pb",
    "op_to_pb",
    "range_request",
    "range_response_from_pb",
    "range_response_to_pb",
    "status_for_error",
]

# ---- errors ----

_CODES: tuple[tuple[type[errors.StoreError], grpc.StatusCode], ...] = (
    (errors.InvalidRequestError, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.CompactedError, grpc.StatusCode.OUT_OF_RANGE),
    (errors.FutureRevisionError, grpc.StatusCode.OUT_OF_RANGE),
    (errors.LeaseNotFoundError, grpc.StatusCode.NOT_FOUND),
    (errors.LeaseExistsError, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.LeaseTTLTooLargeError, grpc.StatusCode.OUT_OF_RANGE),
    (errors.UnavailableError, grpc.StatusCode.UNAVAILABLE),
)

# etcd's exact messages, decoded back into our classes.
_BY_MESSAGE: dict[str, type[errors.StoreError]] = {
    cls.message: cls
    for cls in (
        errors.EmptyKeyError,
        errors.RequestTooLargeError,
        errors.TooManyOpsError,
        errors.DuplicateKeyError,
        errors.KeyNotFoundError,
        errors.ValueProvidedError,
        errors.LeaseProvidedError,
        errors.FutureRevisionError,
        errors.LeaseNotFoundError,
        errors.LeaseExistsError,
        errors.LeaseTTLTooLargeError,
    )
}


def status_for_error(exc: errors.StoreError) -> tuple[grpc.StatusCode, str]:
    """The gRPC status code and message etcd sends for this error."""
    for cls, code in _CODES:
        if isinstance(exc, cls):
            return code, exc.message
    return grpc.StatusCode.UNKNOWN, exc.message


def error_from_status(code: grpc.StatusCode | None, message: str) -> errors.StoreError:
    """The store error for a gRPC status received from an etcd v3 server."""
    cls = _BY_MESSAGE.get(message)
    if cls is not None:
        return cls()
    if message == errors.CompactedError.message:
        return errors.CompactedError(0)
    if code is grpc.StatusCode.RESOURCE_EXHAUSTED and "message larger than max" in message:
        # The gRPC transport refused it before etcd could (etcd's gRPC limit is 2 MiB).
        return errors.RequestTooLargeError()
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED):
        return errors.UnavailableError(message or errors.UnavailableError.message)
    if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.OUT_OF_RANGE):
        return errors.InvalidRequestError(message)
    return errors.StoreError(message or f"gRPC status {code}")


# ---- key-values and events ----


def header_to_pb(h: ResponseHeader) -> rpc_pb2.ResponseHeader:
    return rpc_pb2.ResponseHeader(
        cluster_id=h.cluster_id, member_id=h.member_id, revision=h.revision, raft_term=h.raft_term
    )


def header_from_pb(h: rpc_pb2.ResponseHeader) -> ResponseHeader:
    return ResponseHeader(
        revision=h.revision, cluster_id=h.cluster_id, member_id=h.member_id, raft_term=h.raft_term
    )


def kv_to_pb(kv: KeyValue) -> kv_pb2.KeyValue:
    return kv_pb2.KeyValue(
        key=kv.key,
        create_revision=kv.create_revision,
        mod_revision=kv.mod_revision,
        version=kv.version,
        value=kv.value,
        lease=kv.lease,
    )


def kv_from_pb(kv: kv_pb2.KeyValue) -> KeyValue:
    return KeyValue(
        key=kv.key,
        create_revision=kv.create_revision,
        mod_revision=kv.mod_revision,
        version=kv.version,
        value=kv.value,
        lease=kv.lease,
    )


def event_to_pb(ev: Event) -> kv_pb2.Event:
    out = kv_pb2.Event(type=int(ev.type), kv=kv_to_pb(ev.kv))  # type: ignore[arg-type]
    if ev.prev_kv is not None:
        out.prev_kv.CopyFrom(kv_to_pb(ev.prev_kv))
    return out


def event_from_pb(ev: kv_pb2.Event) -> Event:
    return Event(
        type=EventType(ev.type),
        kv=kv_from_pb(ev.kv),
        prev_kv=kv_from_pb(ev.prev_kv) if ev.HasField("prev_kv") else None,
    )


def _kvs_from_pb(kvs: Iterable[kv_pb2.KeyValue]) -> tuple[KeyValue, ...]:
    return tuple(kv_from_pb(kv) for kv in kvs)


# ---- requests ----


_E = TypeVar("_E", bound=enum.IntEnum)


def _enum(cls: type[_E], value: int, what: str) -> _E:
    try:
        return cls(value)
    except ValueError:
        raise errors.InvalidRequestError(f"etcdserver: invalid {what} {value}") from None


def range_request(op: OpRange) -> rpc_pb2.RangeRequest:
    return rpc_pb2.RangeRequest(
        key=op.key,
        range_end=op.range_end,
        limit=op.limit,
        revision=op.revision,
        sort_order=int(op.sort_order),  # type: ignore[arg-type]
        sort_target=int(op.sort_target),  # type: ignore[arg-type]
        serializable=op.serializable,
        keys_only=op.keys_only,
        count_only=op.count_only,
        min_mod_revision=op.min_mod_revision,
        max_mod_revision=op.max_mod_revision,
        min_create_revision=op.min_create_revision,
        max_create_revision=op.max_create_revision,
    )


def range_op_from_pb(r: rpc_pb2.RangeRequest) -> OpRange:
    return OpRange(
        key=r.key,
        range_end=r.range_end,
        limit=r.limit,
        revision=r.revision,
        keys_only=r.keys_only,
        count_only=r.count_only,
        sort_order=_enum(SortOrder, r.sort_order, "sort order"),
        sort_target=_enum(SortTarget, r.sort_target, "sort target"),
        serializable=r.serializable,
        min_mod_revision=r.min_mod_revision,
        max_mod_revision=r.max_mod_revision,
        min_create_revision=r.min_create_revision,
        max_create_revision=r.max_create_revision,
    )


def put_request(op: OpPut) -> rpc_pb2.PutRequest:
    return rpc_pb2.PutRequest(
        key=op.key,
        value=op.value,
        lease=op.lease,
        prev_kv=op.prev_kv,
        ignore_value=op.ignore_value,
        ignore_lease=op.ignore_lease,
    )


def put_op_from_pb(r: rpc_pb2.PutRequest) -> OpPut:
    return OpPut(
        key=r.key,
        value=r.value,
        lease=r.lease,
        prev_kv=r.prev_kv,
        ignore_value=r.ignore_value,
        ignore_lease=r.ignore_lease,
    )


def delete_request(op: OpDelete) -> rpc_pb2.DeleteRangeRequest:
    return rpc_pb2.DeleteRangeRequest(key=op.key, range_end=op.range_end, prev_kv=op.prev_kv)


def delete_op_from_pb(r: rpc_pb2.DeleteRangeRequest) -> OpDelete:
    return OpDelete(key=r.key, range_end=r.range_end, prev_kv=r.prev_kv)


# Compare.target -> the field of the target_union oneof that carries its operand.
_COMPARE_FIELD = {
    CompareTarget.VERSION: "version",
    CompareTarget.CREATE: "create_revision",
    CompareTarget.MOD: "mod_revision",
    CompareTarget.VALUE: "value",
    CompareTarget.LEASE: "lease",
}


def compare_to_pb(c: Compare) -> rpc_pb2.Compare:
    out = rpc_pb2.Compare(
        result=int(c.result),  # type: ignore[arg-type]
        target=int(c.target),  # type: ignore[arg-type]
        key=c.key,
        range_end=c.range_end,
    )
    field = _COMPARE_FIELD[c.target]
    if (c.target is CompareTarget.VALUE) != isinstance(c.value, bytes):
        raise errors.InvalidRequestError(f"compare on {field} cannot take {c.value!r}")
    setattr(out, field, c.value)
    return out


def compare_from_pb(c: rpc_pb2.Compare) -> Compare:
    target = _enum(CompareTarget, c.target, "compare target")
    return Compare(
        key=c.key,
        target=target,
        result=_enum(CompareResult, c.result, "compare result"),
        value=getattr(c, _COMPARE_FIELD[target]),
        range_end=c.range_end,
    )


def txn_request(
    compare: Iterable[Compare], success: Iterable[RequestOp], failure: Iterable[RequestOp]
) -> rpc_pb2.TxnRequest:
    return rpc_pb2.TxnRequest(
        compare=[compare_to_pb(c) for c in compare],
        success=[op_to_pb(op) for op in success],
        failure=[op_to_pb(op) for op in failure],
    )


def op_to_pb(op: RequestOp) -> rpc_pb2.RequestOp:
    if isinstance(op, OpRange):
        return rpc_pb2.RequestOp(request_range=range_request(op))
    if isinstance(op, OpPut):
        return rpc_pb2.RequestOp(request_put=put_request(op))
    if isinstance(op, OpDelete):
        return rpc_pb2.RequestOp(request_delete_range=delete_request(op))
    return rpc_pb2.RequestOp(request_txn=txn_request(op.compare, op.success, op.failure))


def txn_op_from_pb(r: rpc_pb2.TxnRequest) -> OpTxn:
    return OpTxn(
        compare=tuple(compare_from_pb(c) for c in r.compare),
        success=tuple(op_from_pb(op) for op in r.success),
        failure=tuple(op_from_pb(op) for op in r.failure),
    )


def op_from_pb(op: rpc_pb2.RequestOp) -> RequestOp:
    which = op.WhichOneof("request")
    if which == "request_range":
        return range_op_from_pb(op.request_range)
    if which == "request_put":
        return put_op_from_pb(op.request_put)
    if which == "request_delete_range":
        return delete_op_from_pb(op.request_delete_range)
    if which == "request_txn":
        return txn_op_from_pb(op.request_txn)
    raise errors.InvalidRequestError("etcdserver: empty operation in txn request")


# ---- responses ----


def range_response_to_pb(r: RangeResponse) -> rpc_pb2.RangeResponse:
    out = rpc_pb2.RangeResponse(header=header_to_pb(r.header), more=r.more, count=r.count)
    _add_kvs(out.kvs, r.kvs)
    return out


def _add_kvs(field: Any, kvs: Iterable[KeyValue]) -> None:
    # add() builds each message in place: a third cheaper than building and copying it in.
    add = field.add
    for kv in kvs:
        add(
            key=kv.key,
            create_revision=kv.create_revision,
            mod_revision=kv.mod_revision,
            version=kv.version,
            value=kv.value,
            lease=kv.lease,
        )


def range_response_from_pb(r: rpc_pb2.RangeResponse) -> RangeResponse:
    return RangeResponse(header=header_from_pb(r.header), kvs=_kvs_from_pb(r.kvs), more=r.more, count=r.count)


def put_response_to_pb(r: PutResponse) -> rpc_pb2.PutResponse:
    out = rpc_pb2.PutResponse(header=header_to_pb(r.header))
    if r.prev_kv is not None:
        out.prev_kv.CopyFrom(kv_to_pb(r.prev_kv))
    return out


def put_response_from_pb(r: rpc_pb2.PutResponse) -> PutResponse:
    return PutResponse(
        header=header_from_pb(r.header), prev_kv=kv_from_pb(r.prev_kv) if r.HasField("prev_kv") else None
    )


def delete_response_to_pb(r: DeleteRangeResponse) -> rpc_pb2.DeleteRangeResponse:
    out = rpc_pb2.DeleteRangeResponse(header=header_to_pb(r.header), deleted=r.deleted)
    _add_kvs(out.prev_kvs, r.prev_kvs)
    return out


def delete_response_from_pb(r: rpc_pb2.DeleteRangeResponse) -> DeleteRangeResponse:
    return DeleteRangeResponse(
        header=header_from_pb(r.header), deleted=r.deleted, prev_kvs=_kvs_from_pb(r.prev_kvs)
    )


def txn_response_to_pb(r: TxnResponse) -> rpc_pb2.TxnResponse:
    ops: list[rpc_pb2.ResponseOp] = []
    for resp in r.responses:
        if isinstance(resp, RangeResponse):
            ops.append(rpc_pb2.ResponseOp(response_range=range_response_to_pb(resp)))
        elif isinstance(resp, PutResponse):
            ops.append(rpc_pb2.ResponseOp(response_put=put_response_to_pb(resp)))
        elif isinstance(resp, DeleteRangeResponse):
            ops.append(rpc_pb2.ResponseOp(response_delete_range=delete_response_to_pb(resp)))
        else:
            ops.append(rpc_pb2.ResponseOp(response_txn=txn_response_to_pb(resp)))
    return rpc_pb2.TxnResponse(header=header_to_pb(r.header), succeeded=r.succeeded, responses=ops)


def txn_response_from_pb(r: rpc_pb2.TxnResponse) -> TxnResponse:
    out: list[RangeResponse | PutResponse | DeleteRangeResponse | TxnResponse] = []
    for op in r.responses:
        which = op.WhichOneof("response")
        if which == "response_range":
            out.append(range_response_from_pb(op.response_range))
        elif which == "response_put":
            out.append(put_response_from_pb(op.response_put))
        elif which == "response_delete_range":
            out.append(delete_response_from_pb(op.response_delete_range))
        elif which == "response_txn":
            out.append(txn_response_from_pb(op.response_txn))
    return TxnResponse(header=header_from_pb(r.header), succeeded=r.succeeded, responses=tuple(out))


def compact_response_from_pb(r: rpc_pb2.CompactionResponse) -> CompactResponse:
    return CompactResponse(header=header_from_pb(r.header))


def watch_response_to_pb(r: WatchResponse) -> rpc_pb2.WatchResponse:
    return rpc_pb2.WatchResponse(
        header=header_to_pb(r.header),
        watch_id=r.watch_id,
        created=r.created,
        canceled=r.canceled,
        compact_revision=r.compact_revision,
        cancel_reason=r.cancel_reason,
        fragment=r.fragment,
        events=[event_to_pb(ev) for ev in r.events],
    )


def watch_response_from_pb(r: rpc_pb2.WatchResponse) -> WatchResponse:
    return WatchResponse(
        header=header_from_pb(r.header),
        watch_id=r.watch_id,
        events=tuple(event_from_pb(ev) for ev in r.events),
        created=r.created,
        canceled=r.canceled,
        compact_revision=r.compact_revision,
        cancel_reason=r.cancel_reason,
        fragment=r.fragment,
    )


def lease_grant_from_pb(r: rpc_pb2.LeaseGrantResponse) -> LeaseGrantResponse:
    return LeaseGrantResponse(header=header_from_pb(r.header), id=r.ID, ttl=r.TTL, error=r.error)


def lease_keep_alive_from_pb(r: rpc_pb2.LeaseKeepAliveResponse) -> LeaseKeepAliveResponse:
    return LeaseKeepAliveResponse(header=header_from_pb(r.header), id=r.ID, ttl=r.TTL)


def lease_ttl_from_pb(r: rpc_pb2.LeaseTimeToLiveResponse) -> LeaseTimeToLiveResponse:
    return LeaseTimeToLiveResponse(
        header=header_from_pb(r.header), id=r.ID, ttl=r.TTL, granted_ttl=r.grantedTTL, keys=tuple(r.keys)
    )


def lease_statuses_from_pb(r: rpc_pb2.LeaseLeasesResponse) -> tuple[LeaseStatus, ...]:
    return tuple(LeaseStatus(id=lease.ID) for lease in r.leases)


def member_to_pb(m: Member) -> rpc_pb2.Member:
    return rpc_pb2.Member(
        ID=m.id,
        name=m.name,
        peerURLs=list(m.peer_urls),
        clientURLs=list(m.client_urls),
        isLearner=m.is_learner,
    )


def member_from_pb(m: rpc_pb2.Member) -> Member:
    return Member(
        id=m.ID,
        name=m.name,
        peer_urls=tuple(m.peerURLs),
        client_urls=tuple(m.clientURLs),
        is_learner=m.isLearner,
    )


def status_to_pb(s: StatusResponse) -> rpc_pb2.StatusResponse:
    return rpc_pb2.StatusResponse(
        header=header_to_pb(s.header),
        version=s.version,
        dbSize=s.db_size,
        leader=s.leader,
        raftIndex=s.raft_index,
        raftTerm=s.raft_term,
        raftAppliedIndex=s.raft_index,
        errors=list(s.errors),
        dbSizeInUse=s.db_size_in_use,
        isLearner=s.is_learner,
    )


def status_from_pb(s: rpc_pb2.StatusResponse) -> StatusResponse:
    return StatusResponse(
        header=header_from_pb(s.header),
        version=s.version,
        db_size=s.dbSize,
        leader=s.leader,
        raft_index=s.raftIndex,
        raft_term=s.raftTerm,
        db_size_in_use=s.dbSizeInUse,
        is_learner=s.isLearner,
        errors=tuple(s.errors),
    )
