"""The store's data model: etcd v3 shapes, as plain frozen dataclasses.

These are the values that cross every store boundary: the MVCC core returns them, the etcd v3
gRPC service converts them to and from protobuf, and the async clients (in-process and gRPC)
hand them to the apiserver. Field names and meanings follow etcd's ``rpc.proto`` and
``kv.proto`` so that a reader who knows etcd knows these.

Revisions, with a worked example (a fresh store starts at revision 1, like etcd)::

    put a=1       -> header.revision 2; a: create_revision 2, mod_revision 2, version 1
    put a=2       -> header.revision 3; a: create_revision 2, mod_revision 3, version 2
    put b=1       -> header.revision 4; b: create_revision 4, mod_revision 4, version 1
    delete a      -> header.revision 5; a is gone (a tombstone at 5)
    put a=3       -> header.revision 6; a: create_revision 6, mod_revision 6, version 1
    txn(put c, put d) -> header.revision 7 for both (one revision per write txn)
    range a @rev=3 -> a=2 (create 2, mod 3, version 2)

A request that changes nothing (a delete of a missing key, a txn whose ops are all reads)
does not advance the revision.

Range ends, as in etcd:
    range_end == b""      the single key ``key``
    range_end == b"\\0"    every key >= ``key`` (with key == b"\\0": all keys)
    otherwise             keys in [key, range_end)
``prefix_end(b"/registry/pods/")`` gives the range_end for a prefix.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = [
    "CompactResponse",
    "Compare",
    "CompareResult",
    "CompareTarget",
    "DeleteRangeResponse",
    "Event",
    "EventType",
    "KeyValue",
    "LeaseGrantResponse",
    "LeaseKeepAliveResponse",
    "LeaseStatus",
    "LeaseTimeToLiveResponse",
    "Member",
    "OpDelete",
    "OpPut",
    "OpRange",
    "OpTxn",
    "PutResponse",
    "RangeResponse",
    "RequestOp",
    "ResponseHeader",
    "SortOrder",
    "SortTarget",
    "StatusResponse",
    "TxnResponse",
    "WatchResponse",
    "prefix_end",
]


def prefix_end(prefix: bytes) -> bytes:
    """The range_end that selects every key starting with ``prefix`` (etcd's GetPrefixRangeEnd).

    >>> prefix_end(b"/registry/pods/")
    b'/registry/pods0'
    >>> prefix_end(b"\\xff")
    b'\\x00'
    """
    end = bytearray(prefix)
    for i in range(len(end) - 1, -1, -1):
        if end[i] < 0xFF:
            end[i] += 1
            return bytes(end[: i + 1])
    # Every byte is 0xff (or the prefix is empty): the range runs to the end of the keyspace.
    return b"\0"


@dataclass(frozen=True, slots=True)
class ResponseHeader:
    revision: int
    cluster_id: int = 0
    member_id: int = 0
    raft_term: int = 0


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: bytes
    create_revision: int
    mod_revision: int
    version: int
    value: bytes = b""
    lease: int = 0


class EventType(enum.IntEnum):
    PUT = 0
    DELETE = 1


@dataclass(frozen=True, slots=True)
class Event:
    """One change. For DELETE, ``kv`` holds the key and the deleting revision as mod_revision
    (create_revision and version 0, value empty), as etcd reports it."""

    type: EventType
    kv: KeyValue
    prev_kv: KeyValue | None = None


class SortOrder(enum.IntEnum):
    NONE = 0
    ASCEND = 1
    DESCEND = 2


class SortTarget(enum.IntEnum):
    KEY = 0
    VERSION = 1
    CREATE = 2
    MOD = 3
    VALUE = 4


@dataclass(frozen=True, slots=True)
class RangeResponse:
    header: ResponseHeader
    kvs: tuple[KeyValue, ...]
    more: bool
    count: int


@dataclass(frozen=True, slots=True)
class PutResponse:
    header: ResponseHeader
    prev_kv: KeyValue | None = None


@dataclass(frozen=True, slots=True)
class DeleteRangeResponse:
    header: ResponseHeader
    deleted: int
    prev_kvs: tuple[KeyValue, ...] = ()


class CompareResult(enum.IntEnum):
    EQUAL = 0
    GREATER = 1
    LESS = 2
    NOT_EQUAL = 3


class CompareTarget(enum.IntEnum):
    VERSION = 0
    CREATE = 1
    MOD = 2
    VALUE = 3
    LEASE = 4


@dataclass(frozen=True, slots=True)
class Compare:
    """``target(key) <result> value``; with range_end set, every key in the range must match.

    A missing key has version, create and mod revision 0, lease 0 and no value (a VALUE
    compare against a missing key is false, as in etcd).
    """

    key: bytes
    target: CompareTarget
    result: CompareResult
    value: int | bytes
    range_end: bytes = b""


@dataclass(frozen=True, slots=True)
class OpRange:
    key: bytes
    range_end: bytes = b""
    limit: int = 0
    revision: int = 0
    keys_only: bool = False
    count_only: bool = False
    sort_order: SortOrder = SortOrder.NONE
    sort_target: SortTarget = SortTarget.KEY
    serializable: bool = False
    min_mod_revision: int = 0
    max_mod_revision: int = 0
    min_create_revision: int = 0
    max_create_revision: int = 0


@dataclass(frozen=True, slots=True)
class OpPut:
    key: bytes
    value: bytes = b""
    lease: int = 0
    prev_kv: bool = False
    ignore_value: bool = False
    ignore_lease: bool = False


@dataclass(frozen=True, slots=True)
class OpDelete:
    key: bytes
    range_end: bytes = b""
    prev_kv: bool = False


@dataclass(frozen=True, slots=True)
class OpTxn:
    compare: tuple[Compare, ...] = ()
    success: tuple[RequestOp, ...] = ()
    failure: tuple[RequestOp, ...] = ()


RequestOp = OpRange | OpPut | OpDelete | OpTxn


@dataclass(frozen=True, slots=True)
class TxnResponse:
    header: ResponseHeader
    succeeded: bool
    responses: tuple[RangeResponse | PutResponse | DeleteRangeResponse | TxnResponse, ...]


@dataclass(frozen=True, slots=True)
class CompactResponse:
    header: ResponseHeader


@dataclass(frozen=True, slots=True)
class WatchResponse:
    """One batch from a watch stream.

    ``events`` are in revision order; a batch never splits one revision's events. A progress
    notification has no events and ``header.revision`` = the store's current revision. A
    cancelled watch ends with ``canceled=True`` and, when it was cancelled because its start
    revision was compacted, ``compact_revision`` > 0.
    """

    header: ResponseHeader
    watch_id: int
    events: tuple[Event, ...] = ()
    created: bool = False
    canceled: bool = False
    compact_revision: int = 0
    cancel_reason: str = ""
    fragment: bool = False


@dataclass(frozen=True, slots=True)
class LeaseGrantResponse:
    header: ResponseHeader
    id: int
    ttl: int
    error: str = ""


@dataclass(frozen=True, slots=True)
class LeaseKeepAliveResponse:
    header: ResponseHeader
    id: int
    ttl: int  # 0 (or less) when the lease is gone


@dataclass(frozen=True, slots=True)
class LeaseTimeToLiveResponse:
    header: ResponseHeader
    id: int
    ttl: int  # remaining seconds; -1 when the lease does not exist
    granted_ttl: int
    keys: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class LeaseStatus:
    id: int


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    name: str
    peer_urls: tuple[str, ...] = ()
    client_urls: tuple[str, ...] = ()
    is_learner: bool = False


@dataclass(frozen=True, slots=True)
class StatusResponse:
    header: ResponseHeader
    version: str
    db_size: int
    leader: int
    raft_index: int
    raft_term: int
    db_size_in_use: int = 0
    is_learner: bool = False
    errors: tuple[str, ...] = field(default_factory=tuple)
