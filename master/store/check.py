"""Request checks that need no state: the ones etcd makes before a request reaches raft.

Empty keys, put flags that contradict each other, the txn op limit, duplicate keys in a txn,
and the request size limit, each with etcd's error.

Txn limits, as etcd counts them: ``max(len(compare), len(success), len(failure))`` must not
exceed ``max_txn_ops`` (128), and a nested txn gets what its parent left (128 - the parent's
count). Duplicate keys, per etcd's ``checkIntervals``: within one branch a key may be put only
once and not inside a range the same branch deletes; the success and failure branches of a
nested txn may put the same key (only one of them runs). Worked examples::

    success [put a, put a]              -> DuplicateKeyError
    success [delete [a, c), put b]      -> DuplicateKeyError
    success [txn(success [put a], failure [put a])]   -> fine
    success [delete [a, "\\0"), put b]    -> fine: etcd reads the end "\\0" here as an empty interval
"""

from __future__ import annotations

from master.store.errors import (
    DuplicateKeyError,
    EmptyKeyError,
    LeaseProvidedError,
    RequestTooLargeError,
    TooManyOpsError,
    ValueProvidedError,
)
from master.store.types import Compare, OpDelete, OpPut, OpRange, OpTxn, RequestOp

__all__ = ["check_delete", "check_put", "check_range", "check_size", "check_txn", "request_size"]


def check_range(op: OpRange) -> None:
    if not op.key:
        raise EmptyKeyError()


def check_put(op: OpPut) -> None:
    if not op.key:
        raise EmptyKeyError()
    if op.ignore_value and op.value:
        raise ValueProvidedError()
    if op.ignore_lease and op.lease:
        raise LeaseProvidedError()


def check_delete(op: OpDelete) -> None:
    if not op.key:
        raise EmptyKeyError()


def check_txn(op: OpTxn, max_ops: int) -> None:
    _check_txn(op, max_ops)
    for branch in (op.success, op.failure):
        _intervals(branch)


def _check_txn(op: OpTxn, max_ops: int) -> None:
    count = max(len(op.compare), len(op.success), len(op.failure))
    if count > max_ops:
        raise TooManyOpsError()
    for c in op.compare:
        if not c.key:
            raise EmptyKeyError()
    for req in (*op.success, *op.failure):
        if isinstance(req, OpRange):
            check_range(req)
        elif isinstance(req, OpPut):
            check_put(req)
        elif isinstance(req, OpDelete):
            check_delete(req)
        else:
            _check_txn(req, max_ops - count)


def _deleted(key: bytes, dels: list[tuple[bytes, bytes]]) -> bool:
    for start, end in dels:
        if not end:
            if key == start:
                return True
        elif start <= key < end:  # an end of b"\0" makes this empty, as in etcd
            return True
    return False


def _intervals(reqs: tuple[RequestOp, ...]) -> tuple[set[bytes], list[tuple[bytes, bytes]]]:
    dels = [(r.key, r.range_end) for r in reqs if isinstance(r, OpDelete)]
    puts: set[bytes] = set()
    for r in reqs:
        if not isinstance(r, OpTxn):
            continue
        puts_then, dels_then = _intervals(r.success)
        puts_else, dels_else = _intervals(r.failure)
        for k in puts_then:
            if k in puts or _deleted(k, dels):
                raise DuplicateKeyError()
            puts.add(k)
        for k in puts_else:
            if (k in puts and k not in puts_then) or _deleted(k, dels):
                raise DuplicateKeyError()
            puts.add(k)
        dels.extend(dels_then)
        dels.extend(dels_else)
    for r in reqs:
        if isinstance(r, OpPut):
            if r.key in puts or _deleted(r.key, dels):
                raise DuplicateKeyError()
            puts.add(r.key)
    return puts, dels


def request_size(op: RequestOp | Compare) -> int:
    """About the size of the request's protobuf encoding, which is what etcd limits."""
    if isinstance(op, OpPut):
        return 16 + len(op.key) + len(op.value)
    if isinstance(op, (OpRange, OpDelete)):
        return 16 + len(op.key) + len(op.range_end)
    if isinstance(op, Compare):
        value = op.value if isinstance(op.value, bytes) else b""
        return 16 + len(op.key) + len(op.range_end) + len(value)
    return 8 + sum(request_size(r) for r in (*op.compare, *op.success, *op.failure))


def check_size(op: RequestOp, max_bytes: int) -> None:
    if request_size(op) > max_bytes:
        raise RequestTooLargeError()
