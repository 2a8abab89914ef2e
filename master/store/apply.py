"""What range, put, delete and txn requests do to the MVCC store, as etcd's applier does it.

A txn runs in three passes, like etcd's: first every compare on the chosen path is evaluated
against the state *before* the txn (nested txns included: their compares do not see the
outer txn's writes), then the requests on that path are checked (lease exists, key exists for
ignore_value/ignore_lease, range revision not compacted or in the future), and only then
applied in order, so a failing check changes nothing. Requests applied later in a txn see the
earlier ones: ``txn(success=[put a=1, range a])`` returns a=1.

Response headers inside a txn carry only a revision: the txn's revision once it has written
something, the revision before it otherwise (etcd does the same).
"""

from __future__ import annotations

from collections.abc import Iterator

from master.store.errors import (
    CompactedError,
    FutureRevisionError,
    InvalidRequestError,
    KeyNotFoundError,
    LeaseNotFoundError,
)
from master.store.kv import KV, WriteTxn
from master.store.lease import Lessor
from master.store.types import (
    Compare,
    CompareResult,
    CompareTarget,
    DeleteRangeResponse,
    KeyValue,
    OpDelete,
    OpPut,
    OpRange,
    OpTxn,
    PutResponse,
    RangeResponse,
    ResponseHeader,
    SortOrder,
    SortTarget,
    TxnResponse,
)

__all__ = ["Applier"]

_SORT_KEYS = {
    SortTarget.KEY: lambda kv: kv.key,
    SortTarget.VERSION: lambda kv: kv.version,
    SortTarget.CREATE: lambda kv: kv.create_revision,
    SortTarget.MOD: lambda kv: kv.mod_revision,
    SortTarget.VALUE: lambda kv: kv.value,
}


class Applier:
    def __init__(self, kv: KV, lessor: Lessor) -> None:
        self.kv = kv
        self.lessor = lessor
        self.ranges = 0
        self.puts = 0
        self.deletes = 0

    # -- range --------------------------------------------------------------------------------

    def check_range(self, op: OpRange, view: int) -> None:
        if op.revision > view:
            raise FutureRevisionError()
        if 0 < op.revision < self.kv.compact_rev:
            raise CompactedError(self.kv.compact_rev)

    def range(self, op: OpRange, view: int, header: ResponseHeader) -> RangeResponse:
        """Range at ``view`` (or at ``op.revision``); ``check_range`` has passed."""
        self.ranges += 1
        found = self.kv.visible(op.key, op.range_end, op.revision if op.revision > 0 else view)
        count = len(found)
        if op.count_only:
            return RangeResponse(header, (), False, count)
        order = op.sort_order
        if op.sort_target != SortTarget.KEY and order == SortOrder.NONE:
            order = SortOrder.ASCEND  # etcd: a sort target without an order sorts ascending
        filtered = bool(op.min_mod_revision or op.max_mod_revision or op.min_create_revision or op.max_create_revision)
        natural = op.sort_target == SortTarget.KEY and order != SortOrder.DESCEND
        if op.limit > 0 and natural and not filtered:
            found = found[: op.limit + 1]
        with_values = not op.keys_only or op.sort_target == SortTarget.VALUE
        kvs = [row.kv() for row in self.kv.rows([rev for _, rev in found], value=with_values)]
        if filtered:
            kvs = [kv for kv in kvs if _passes(op, kv)]
        if not natural:
            kvs.sort(key=_SORT_KEYS[op.sort_target], reverse=order == SortOrder.DESCEND)
        more = False
        if op.limit > 0 and len(kvs) > op.limit:
            kvs = kvs[: op.limit]
            more = True
        if op.keys_only:
            kvs = [KeyValue(kv.key, kv.create_revision, kv.mod_revision, kv.version, b"", kv.lease) for kv in kvs]
        return RangeResponse(header, tuple(kvs), more, count)

    # -- put, delete --------------------------------------------------------------------------

    def check_put(self, op: OpPut, view: int) -> None:
        if op.lease and op.lease not in self.lessor.leases:
            raise LeaseNotFoundError()
        if (op.ignore_value or op.ignore_lease) and self.kv.current(op.key, view) is None:
            raise KeyNotFoundError()

    def put(self, w: WriteTxn, op: OpPut) -> PutResponse:
        """Put; ``check_put`` has passed."""
        self.puts += 1
        kv = self.kv
        prev_row = None
        if op.prev_kv or op.ignore_value or op.ignore_lease:
            cur = kv.current(op.key, w.main)
            if cur is not None:
                prev_row = kv.row(cur[0])
        value, lease = op.value, op.lease
        if prev_row is not None:
            if op.ignore_value:
                value = prev_row.value
            if op.ignore_lease:
                lease = prev_row.lease
        w.put(op.key, value, lease)
        self.lessor.attach(lease, op.key)
        prev_kv = prev_row.kv() if op.prev_kv and prev_row is not None else None
        return PutResponse(ResponseHeader(revision=w.main), prev_kv)

    def delete(self, w: WriteTxn, op: OpDelete) -> DeleteRangeResponse:
        kv = self.kv
        prev_kvs: tuple[KeyValue, ...] = ()
        if op.prev_kv:
            prev_kvs = tuple(row.kv() for row in kv.rows([rev for _, rev in kv.visible(op.key, op.range_end, w.main)]))
        deleted = w.delete(op.key, op.range_end)
        self.deletes += len(deleted)
        for key, _ in deleted:
            self.lessor.attach(0, key)
        return DeleteRangeResponse(ResponseHeader(revision=w.rev), len(deleted), prev_kvs)

    # -- txn ----------------------------------------------------------------------------------

    def txn(self, w: WriteTxn, op: OpTxn) -> TxnResponse:
        view = w.rev
        path = self._path(op, view)
        self._check(op, iter(path), view)
        return self._apply(w, op, iter(path))

    def _path(self, op: OpTxn, view: int) -> list[bool]:
        """The compare outcome of every txn that will run, outer first, depth first."""
        ok = all(self._compare(c, view) for c in op.compare)
        path = [ok]
        for req in op.success if ok else op.failure:
            if isinstance(req, OpTxn):
                path.extend(self._path(req, view))
        return path

    def _check(self, op: OpTxn, path: Iterator[bool], view: int) -> None:
        for req in op.success if next(path) else op.failure:
            if isinstance(req, OpRange):
                self.check_range(req, view)
            elif isinstance(req, OpPut):
                self.check_put(req, view)
            elif isinstance(req, OpTxn):
                self._check(req, path, view)

    def _apply(self, w: WriteTxn, op: OpTxn, path: Iterator[bool]) -> TxnResponse:
        ok = next(path)
        responses: list[RangeResponse | PutResponse | DeleteRangeResponse | TxnResponse] = []
        for req in op.success if ok else op.failure:
            if isinstance(req, OpRange):
                responses.append(self.range(req, w.rev, ResponseHeader(revision=w.rev)))
            elif isinstance(req, OpPut):
                responses.append(self.put(w, req))
            elif isinstance(req, OpDelete):
                responses.append(self.delete(w, req))
            else:
                responses.append(self._apply(w, req, path))
        return TxnResponse(ResponseHeader(revision=w.rev), ok, tuple(responses))

    def _compare(self, c: Compare, view: int) -> bool:
        """etcd's compare: every key in the range must match; no key compares as a zero KeyValue,
        except that a VALUE compare against no key is false."""
        if (c.target == CompareTarget.VALUE) != isinstance(c.value, bytes):
            raise InvalidRequestError(f"etcdserver: compare {c.target.name} needs a {'bytes' if c.target == CompareTarget.VALUE else 'int'} value")
        found = self.kv.visible(c.key, c.range_end, view)
        if not found:
            if c.target == CompareTarget.VALUE:
                return False
            return _holds(c, KeyValue(c.key, 0, 0, 0))
        rows = self.kv.rows([rev for _, rev in found], value=c.target == CompareTarget.VALUE)
        return all(_holds(c, row.kv()) for row in rows)


def _holds(c: Compare, kv: KeyValue) -> bool:
    actual: int | bytes
    if c.target == CompareTarget.VALUE:
        actual = kv.value
    elif c.target == CompareTarget.VERSION:
        actual = kv.version
    elif c.target == CompareTarget.CREATE:
        actual = kv.create_revision
    elif c.target == CompareTarget.MOD:
        actual = kv.mod_revision
    else:
        actual = kv.lease
    target = c.value
    cmp = (actual > target) - (actual < target)  # type: ignore[operator]
    if c.result == CompareResult.EQUAL:
        return cmp == 0
    if c.result == CompareResult.NOT_EQUAL:
        return cmp != 0
    if c.result == CompareResult.GREATER:
        return cmp > 0
    return cmp < 0


def _passes(op: OpRange, kv: KeyValue) -> bool:
    if op.min_mod_revision and kv.mod_revision < op.min_mod_revision:
        return False
    if op.max_mod_revision and kv.mod_revision > op.max_mod_revision:
        return False
    if op.min_create_revision and kv.create_revision < op.min_create_revision:
        return False
    return not (op.max_create_revision and kv.create_revision > op.max_create_revision)
