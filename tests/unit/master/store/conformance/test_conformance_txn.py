"""Txn: compares of every target and result (missing keys too), branches, nesting, limits."""

from __future__ import annotations

import pytest

from master.store.client import Client
from master.store.errors import DuplicateKeyError, EmptyKeyError, LeaseNotFoundError, TooManyOpsError
from master.store.types import (
    Compare,
    CompareResult,
    CompareTarget,
    DeleteRangeResponse,
    OpDelete,
    OpPut,
    OpRange,
    OpTxn,
    PutResponse,
    RangeResponse,
    TxnResponse,
    prefix_end,
)
from tests.fixtures.store_targets import Target

EQ, NE, GT, LT = CompareResult.EQUAL, CompareResult.NOT_EQUAL, CompareResult.GREATER, CompareResult.LESS
VERSION, CREATE, MOD, VALUE, LEASE = (
    CompareTarget.VERSION,
    CompareTarget.CREATE,
    CompareTarget.MOD,
    CompareTarget.VALUE,
    CompareTarget.LEASE,
)


# Key "k" is put at r0+1 (value "m") and r0+2 (value "m2"): version 2, create r0+1, mod r0+2.
# Values for revision targets are offsets from r0; "missing" compares a key that never existed.
@pytest.mark.parametrize(
    ("key", "target_", "result", "value", "want"),
    [
        pytest.param(b"k", VERSION, EQ, 2, True, id="version-eq"),
        pytest.param(b"k", VERSION, EQ, 1, False, id="version-eq-false"),
        pytest.param(b"k", VERSION, NE, 1, True, id="version-ne"),
        pytest.param(b"k", VERSION, GT, 1, True, id="version-gt"),
        pytest.param(b"k", VERSION, GT, 2, False, id="version-gt-false"),
        pytest.param(b"k", VERSION, LT, 3, True, id="version-lt"),
        pytest.param(b"k", CREATE, EQ, 1, True, id="create-eq"),
        pytest.param(b"k", CREATE, LT, 2, True, id="create-lt"),
        pytest.param(b"k", MOD, EQ, 2, True, id="mod-eq"),
        pytest.param(b"k", MOD, GT, 1, True, id="mod-gt"),
        pytest.param(b"k", MOD, LT, 2, False, id="mod-lt-false"),
        pytest.param(b"k", VALUE, EQ, b"m2", True, id="value-eq"),
        pytest.param(b"k", VALUE, NE, b"m", True, id="value-ne"),
        pytest.param(b"k", VALUE, GT, b"m", True, id="value-gt"),
        pytest.param(b"k", VALUE, LT, b"n", True, id="value-lt"),
        pytest.param(b"k", VALUE, LT, b"m", False, id="value-lt-false"),
        pytest.param(b"k", LEASE, EQ, 0, True, id="lease-eq-none"),
        pytest.param(b"missing", VERSION, EQ, 0, True, id="missing-version-0"),
        pytest.param(b"missing", CREATE, EQ, 0, True, id="missing-create-0"),
        pytest.param(b"missing", MOD, EQ, 0, True, id="missing-mod-0"),
        pytest.param(b"missing", MOD, GT, 0, False, id="missing-mod-gt"),
        pytest.param(b"missing", LEASE, EQ, 0, True, id="missing-lease-0"),
        pytest.param(b"missing", VALUE, EQ, b"", False, id="missing-value-eq"),
        pytest.param(b"missing", VALUE, NE, b"x", False, id="missing-value-ne"),
    ],
)
async def test_compare(
    target: Target,
    client: Client,
    key: bytes,
    target_: CompareTarget,
    result: CompareResult,
    value: int | bytes,
    want: bool,
) -> None:
    r0 = await target.revision()
    await client.put(b"k", b"m")
    await client.put(b"k", b"m2")
    if target_ in (CREATE, MOD) and isinstance(value, int) and value:
        value += r0
    resp = await client.txn(
        [Compare(key, target_, result, value)], [OpRange(b"k")], [OpRange(b"missing")]
    )
    assert resp.succeeded is want
    (inner,) = resp.responses
    assert isinstance(inner, RangeResponse)
    assert inner.count == (1 if want else 0)
    assert resp.header.revision == r0 + 2  # a read-only txn does not advance the revision


async def test_compare_lease(client: Client) -> None:
    lease = await client.lease_grant(60)
    await client.put(b"k", b"v", lease=lease.id)
    yes = await client.txn([Compare(b"k", LEASE, EQ, lease.id)], [])
    no = await client.txn([Compare(b"k", LEASE, EQ, 0)], [])
    assert (yes.succeeded, no.succeeded) == (True, False)
    await client.lease_revoke(lease.id)


async def test_compare_over_a_range(client: Client) -> None:
    await client.put(b"p/a", b"1")
    await client.put(b"p/b", b"1")
    await client.put(b"p/c", b"2")
    end = prefix_end(b"p/")
    everyone = await client.txn([Compare(b"p/", VALUE, EQ, b"1", end)], [])
    some = await client.txn([Compare(b"p/", VALUE, EQ, b"1", b"p/c")], [])
    versions = await client.txn([Compare(b"p/", VERSION, EQ, 1, end)], [])
    empty = await client.txn([Compare(b"q/", VERSION, EQ, 0, prefix_end(b"q/"))], [])
    empty_value = await client.txn([Compare(b"q/", VALUE, EQ, b"", prefix_end(b"q/"))], [])
    assert (everyone.succeeded, some.succeeded, versions.succeeded) == (False, True, True)
    assert (empty.succeeded, empty_value.succeeded) == (True, False)


async def test_all_compares_must_hold(client: Client) -> None:
    await client.put(b"a", b"1")
    both = await client.txn([Compare(b"a", VALUE, EQ, b"1"), Compare(b"a", VERSION, EQ, 1)], [])
    one = await client.txn([Compare(b"a", VALUE, EQ, b"1"), Compare(b"a", VERSION, EQ, 2)], [])
    assert (both.succeeded, one.succeeded) == (True, False)


async def test_branches_and_responses(target: Target, client: Client) -> None:
    r0 = await target.revision()
    await client.put(b"a", b"1")
    await client.put(b"gone", b"x")
    cmp = [Compare(b"a", VALUE, EQ, b"1")]
    ok = await client.txn(
        cmp,
        [OpPut(b"b", b"2", prev_kv=True), OpRange(b"a", b"c"), OpDelete(b"gone", prev_kv=True)],
        [OpPut(b"never", b"x")],
    )
    assert ok.succeeded
    assert ok.header.revision == r0 + 3
    put, rng, dele = ok.responses
    assert isinstance(put, PutResponse) and put.prev_kv is None
    assert isinstance(rng, RangeResponse)
    assert [(kv.key, kv.value) for kv in rng.kvs] == [(b"a", b"1"), (b"b", b"2")]  # sees its own put
    assert isinstance(dele, DeleteRangeResponse)
    assert dele.deleted == 1 and [kv.key for kv in dele.prev_kvs] == [b"gone"]
    assert (put.header.revision, rng.header.revision, dele.header.revision) == (r0 + 3, r0 + 3, r0 + 3)

    failed = await client.txn([Compare(b"a", VALUE, EQ, b"nope")], [OpPut(b"never", b"x")], [OpPut(b"c", b"3")])
    assert not failed.succeeded and failed.header.revision == r0 + 4
    got = await client.range(b"\0", b"\0")
    assert [(kv.key, kv.value, kv.mod_revision) for kv in got.kvs] == [
        (b"a", b"1", r0 + 1),
        (b"b", b"2", r0 + 3),
        (b"c", b"3", r0 + 4),
    ]


async def test_range_before_write_in_txn_sees_previous_revision(target: Target, client: Client) -> None:
    r0 = await target.revision()
    await client.put(b"a", b"1")
    resp = await client.txn([], [OpRange(b"a"), OpPut(b"a", b"2"), OpRange(b"a")])
    before, _, after = resp.responses
    assert isinstance(before, RangeResponse) and isinstance(after, RangeResponse)
    assert before.header.revision == r0 + 1 and before.kvs[0].value == b"1"
    assert after.header.revision == r0 + 2 and after.kvs[0].value == b"2"


async def test_compare_and_swap(client: Client) -> None:
    await client.put(b"lock", b"free")
    (kv,) = (await client.range(b"lock")).kvs
    take = [Compare(b"lock", MOD, EQ, kv.mod_revision)]
    first = await client.txn(take, [OpPut(b"lock", b"mine")])
    second = await client.txn(take, [OpPut(b"lock", b"theirs")], [OpRange(b"lock")])
    assert first.succeeded and not second.succeeded
    (got,) = second.responses
    assert isinstance(got, RangeResponse) and got.kvs[0].value == b"mine"


async def test_create_if_missing(client: Client) -> None:
    create = [Compare(b"new", CREATE, EQ, 0)]
    first = await client.txn(create, [OpPut(b"new", b"1")], [OpRange(b"new")])
    second = await client.txn(create, [OpPut(b"new", b"2")], [OpRange(b"new")])
    assert first.succeeded and not second.succeeded
    assert (await client.range(b"new")).kvs[0].value == b"1"


async def test_nested_txn(target: Target, client: Client) -> None:
    r0 = await target.revision()
    await client.put(b"a", b"1")
    inner_ok = OpTxn((Compare(b"a", VERSION, EQ, 1),), (OpPut(b"x", b"1"),), (OpPut(b"y", b"1"),))
    inner_no = OpTxn((Compare(b"a", VERSION, EQ, 9),), (OpPut(b"p", b"1"),), (OpPut(b"q", b"1"), OpRange(b"x")))
    resp = await client.txn([Compare(b"a", VALUE, EQ, b"1")], [inner_ok, inner_no])
    assert resp.succeeded and resp.header.revision == r0 + 2
    first, second = resp.responses
    assert isinstance(first, TxnResponse) and first.succeeded
    assert isinstance(second, TxnResponse) and not second.succeeded
    _, seen = second.responses
    assert isinstance(seen, RangeResponse) and seen.kvs[0].value == b"1"  # sees the first nested put
    got = await client.range(b"\0", b"\0")
    assert [kv.key for kv in got.kvs] == [b"a", b"q", b"x"]


async def test_nested_compares_see_the_state_before_the_txn(client: Client) -> None:
    # etcd evaluates every compare on the path before applying anything.
    resp = await client.txn(
        [],
        [OpPut(b"a", b"1"), OpTxn((Compare(b"a", VERSION, EQ, 0),), (OpPut(b"b", b"before"),), (OpPut(b"b", b"after"),))],
    )
    assert resp.succeeded
    assert (await client.range(b"b")).kvs[0].value == b"before"


@pytest.mark.parametrize(
    "ops",
    [
        pytest.param([OpPut(b"a", b"1"), OpPut(b"a", b"2")], id="put-put"),
        pytest.param([OpPut(b"b", b"1"), OpDelete(b"a", b"c")], id="put-in-deleted-range"),
        pytest.param([OpDelete(b"b"), OpPut(b"b", b"1")], id="delete-then-put"),
        pytest.param([OpPut(b"a", b"1"), OpTxn((), (OpPut(b"a", b"2"),))], id="nested-put"),
        pytest.param([OpDelete(b"a", b"z"), OpTxn((), (), (OpPut(b"b", b"2"),))], id="nested-put-in-delete"),
    ],
)
async def test_duplicate_keys(client: Client, ops: list[OpPut | OpDelete | OpTxn]) -> None:
    with pytest.raises(DuplicateKeyError):
        await client.txn([], ops)
    with pytest.raises(DuplicateKeyError):
        await client.txn([], [], ops)


@pytest.mark.parametrize(
    "ops",
    [
        pytest.param([OpTxn((), (OpPut(b"a", b"1"),), (OpPut(b"a", b"2"),))], id="nested-branches"),
        pytest.param([OpDelete(b"a"), OpDelete(b"a", b"c")], id="overlapping-deletes"),
        pytest.param([OpRange(b"a"), OpPut(b"a", b"1"), OpRange(b"a")], id="reads-and-a-put"),
    ],
)
async def test_not_duplicates(client: Client, ops: list[OpPut | OpDelete | OpTxn | OpRange]) -> None:
    assert (await client.txn([], ops)).succeeded


async def test_txn_limits(client: Client) -> None:
    many = [OpPut(f"k{i:03}".encode(), b"v") for i in range(129)]
    with pytest.raises(TooManyOpsError):
        await client.txn([], many)
    with pytest.raises(TooManyOpsError):
        await client.txn([Compare(f"k{i}".encode(), VERSION, EQ, 0) for i in range(129)], [])
    assert (await client.txn([], many[:128])).succeeded
    # A nested txn gets what its parent left: 128 - max(parent's compares, success, failure).
    nested = OpTxn((), tuple(OpRange(f"n{i}".encode()) for i in range(127)))
    with pytest.raises(TooManyOpsError):
        await client.txn([], [OpRange(b"x"), nested])
    assert (await client.txn([], [nested])).succeeded


async def test_txn_checks_fail_without_changes(target: Target, client: Client) -> None:
    r0 = await target.revision()
    with pytest.raises(LeaseNotFoundError):
        await client.txn([], [OpPut(b"a", b"1"), OpPut(b"b", b"1", lease=0x5EED)])
    with pytest.raises(EmptyKeyError):
        await client.txn([], [OpPut(b"a", b"1"), OpRange(b"")])
    with pytest.raises(EmptyKeyError):
        await client.txn([Compare(b"", VERSION, EQ, 0)], [])
    assert await target.revision() == r0
    assert (await client.range(b"a")).count == 0
