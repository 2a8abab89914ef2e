"""Put, range, delete and compaction, as etcd does them. Revisions are relative to the start."""

from __future__ import annotations

import pytest

from master.store.client import Client
from master.store.errors import CompactedError, FutureRevisionError
from master.store.types import KeyValue, OpPut, SortOrder, SortTarget, prefix_end
from tests.fixtures.store_targets import Target


async def test_revisions_count_writes(target: Target, client: Client) -> None:
    r0 = await target.revision()
    assert (await client.put(b"a", b"1")).header.revision == r0 + 1
    assert (await client.put(b"a", b"2")).header.revision == r0 + 2
    assert (await client.put(b"b", b"1")).header.revision == r0 + 3
    assert (await client.delete_range(b"a")).header.revision == r0 + 4
    assert (await client.put(b"a", b"3")).header.revision == r0 + 5
    resp = await client.txn([], [OpPut(b"c", b"1"), OpPut(b"d", b"1")])
    assert resp.header.revision == r0 + 6

    got = await client.range(b"\0", b"\0")
    assert got.header.revision == r0 + 6
    assert got.kvs == (
        KeyValue(b"a", r0 + 5, r0 + 5, 1, b"3"),
        KeyValue(b"b", r0 + 3, r0 + 3, 1, b"1"),
        KeyValue(b"c", r0 + 6, r0 + 6, 1, b"1"),
        KeyValue(b"d", r0 + 6, r0 + 6, 1, b"1"),
    )


async def test_versions_and_create_revision(target: Target, client: Client) -> None:
    r0 = await target.revision()
    for i in range(3):
        await client.put(b"k", str(i).encode())
    (kv,) = (await client.range(b"k")).kvs
    assert (kv.create_revision, kv.mod_revision, kv.version, kv.value) == (r0 + 1, r0 + 3, 3, b"2")


async def test_no_op_writes_do_not_advance_the_revision(target: Target, client: Client) -> None:
    r0 = await target.revision()
    resp = await client.delete_range(b"missing")
    assert (resp.deleted, resp.header.revision) == (0, r0)
    resp2 = await client.txn([], [])
    assert resp2.header.revision == r0
    assert await target.revision() == r0


KEYS = [b"a", b"a/1", b"a/2", b"b", b"c"]


@pytest.mark.parametrize(
    ("key", "end", "want"),
    [
        pytest.param(b"b", b"", [b"b"], id="single-key"),
        pytest.param(b"bb", b"", [], id="single-missing"),
        pytest.param(b"a/1", b"b", [b"a/1", b"a/2"], id="half-open"),
        pytest.param(b"a/", prefix_end(b"a/"), [b"a/1", b"a/2"], id="prefix"),
        pytest.param(b"a/2", b"\0", [b"a/2", b"b", b"c"], id="from-key"),
        pytest.param(b"\0", b"\0", KEYS, id="all-keys"),
        pytest.param(b"c", b"a", [], id="end-before-key"),
        pytest.param(b"a", b"a", [], id="end-equals-key"),
    ],
)
async def test_range_kinds(client: Client, key: bytes, end: bytes, want: list[bytes]) -> None:
    for k in KEYS:
        await client.put(k, b"v-" + k)
    resp = await client.range(key, end)
    assert [kv.key for kv in resp.kvs] == want
    assert [kv.value for kv in resp.kvs] == [b"v-" + k for k in want]
    assert resp.count == len(want)
    assert resp.more is False


@pytest.mark.parametrize(
    ("limit", "keys", "more"),
    [
        pytest.param(0, KEYS, False, id="no-limit"),
        pytest.param(2, KEYS[:2], True, id="limit-2"),
        pytest.param(5, KEYS, False, id="limit-equal"),
        pytest.param(9, KEYS, False, id="limit-above"),
    ],
)
async def test_range_limit_more_count(client: Client, limit: int, keys: list[bytes], more: bool) -> None:
    for k in KEYS:
        await client.put(k, b"v")
    resp = await client.range(b"\0", b"\0", limit=limit)
    assert [kv.key for kv in resp.kvs] == keys
    assert resp.more is more
    assert resp.count == len(KEYS)


async def test_keys_only_and_count_only(target: Target, client: Client) -> None:
    r0 = await target.revision()
    await client.put(b"a", b"1")
    await client.put(b"b", b"2")
    resp = await client.range(b"a", b"c", keys_only=True)
    assert resp.kvs == (KeyValue(b"a", r0 + 1, r0 + 1, 1, b""), KeyValue(b"b", r0 + 2, r0 + 2, 1, b""))
    counted = await client.range(b"a", b"c", count_only=True)
    assert (counted.kvs, counted.count, counted.more) == ((), 2, False)
    limited = await client.range(b"a", b"c", count_only=True, limit=1)
    assert (limited.kvs, limited.count) == ((), 2)


async def test_historical_reads(target: Target, client: Client) -> None:
    r0 = await target.revision()
    await client.put(b"a", b"1")  # r0+1
    await client.put(b"a", b"2")  # r0+2
    await client.put(b"b", b"1")  # r0+3
    await client.delete_range(b"a")  # r0+4
    await client.put(b"a", b"3")  # r0+5

    async def at(rev: int) -> tuple[tuple[bytes, bytes, int, int, int], ...]:
        resp = await client.range(b"a", b"c", revision=rev)
        assert resp.header.revision == r0 + 5  # the header always carries the current revision
        return tuple((kv.key, kv.value, kv.create_revision, kv.mod_revision, kv.version) for kv in resp.kvs)

    assert await at(r0) == ()
    assert await at(r0 + 1) == ((b"a", b"1", r0 + 1, r0 + 1, 1),)
    assert await at(r0 + 2) == ((b"a", b"2", r0 + 1, r0 + 2, 2),)
    assert await at(r0 + 3) == ((b"a", b"2", r0 + 1, r0 + 2, 2), (b"b", b"1", r0 + 3, r0 + 3, 1))
    assert await at(r0 + 4) == ((b"b", b"1", r0 + 3, r0 + 3, 1),)
    assert await at(r0 + 5) == ((b"a", b"3", r0 + 5, r0 + 5, 1), (b"b", b"1", r0 + 3, r0 + 3, 1))
    assert await at(0) == await at(r0 + 5)
    with pytest.raises(FutureRevisionError):
        await client.range(b"a", revision=r0 + 6)


async def _sort_fixture(client: Client) -> None:
    # key, value, puts: versions and revisions all differ, so every sort has one answer.
    await client.put(b"k1", b"m")
    await client.put(b"k2", b"z")
    await client.put(b"k3", b"a")
    await client.put(b"k3", b"b")
    await client.put(b"k1", b"n")
    await client.put(b"k1", b"o")


@pytest.mark.parametrize(
    ("order", "sort_target", "limit", "want"),
    [
        pytest.param(SortOrder.NONE, SortTarget.KEY, 0, [b"k1", b"k2", b"k3"], id="none"),
        pytest.param(SortOrder.ASCEND, SortTarget.KEY, 0, [b"k1", b"k2", b"k3"], id="key-asc"),
        pytest.param(SortOrder.DESCEND, SortTarget.KEY, 0, [b"k3", b"k2", b"k1"], id="key-desc"),
        pytest.param(SortOrder.DESCEND, SortTarget.KEY, 2, [b"k3", b"k2"], id="key-desc-limit"),
        pytest.param(SortOrder.ASCEND, SortTarget.VALUE, 0, [b"k3", b"k1", b"k2"], id="value-asc"),
        pytest.param(SortOrder.DESCEND, SortTarget.VALUE, 0, [b"k2", b"k1", b"k3"], id="value-desc"),
        pytest.param(SortOrder.NONE, SortTarget.VALUE, 0, [b"k3", b"k1", b"k2"], id="value-no-order-ascends"),
        pytest.param(SortOrder.ASCEND, SortTarget.VERSION, 0, [b"k2", b"k3", b"k1"], id="version-asc"),
        pytest.param(SortOrder.DESCEND, SortTarget.CREATE, 0, [b"k3", b"k2", b"k1"], id="create-desc"),
        pytest.param(SortOrder.ASCEND, SortTarget.MOD, 0, [b"k2", b"k3", b"k1"], id="mod-asc"),
        pytest.param(SortOrder.DESCEND, SortTarget.MOD, 1, [b"k1"], id="mod-desc-limit"),
    ],
)
async def test_range_sort(
    client: Client, order: SortOrder, sort_target: SortTarget, limit: int, want: list[bytes]
) -> None:
    await _sort_fixture(client)
    resp = await client.range(b"k", prefix_end(b"k"), sort_order=order, sort_target=sort_target, limit=limit)
    assert [kv.key for kv in resp.kvs] == want
    assert resp.count == 3
    assert resp.more is (0 < limit < 3)


async def test_put_prev_kv(target: Target, client: Client) -> None:
    r0 = await target.revision()
    first = await client.put(b"a", b"1", prev_kv=True)
    assert first.prev_kv is None
    second = await client.put(b"a", b"2", prev_kv=True)
    assert second.prev_kv == KeyValue(b"a", r0 + 1, r0 + 1, 1, b"1")
    third = await client.put(b"a", b"3")
    assert third.prev_kv is None  # not asked for


async def test_delete_prev_kv_and_ranges(target: Target, client: Client) -> None:
    r0 = await target.revision()
    for k in KEYS:
        await client.put(k, b"v-" + k)
    resp = await client.delete_range(b"a/", prefix_end(b"a/"), prev_kv=True)
    assert resp.deleted == 2
    assert resp.header.revision == r0 + 6  # one revision for the whole range
    assert [(kv.key, kv.value, kv.mod_revision) for kv in resp.prev_kvs] == [
        (b"a/1", b"v-a/1", r0 + 2),
        (b"a/2", b"v-a/2", r0 + 3),
    ]
    plain = await client.delete_range(b"a")
    assert (plain.deleted, plain.prev_kvs) == (1, ())
    rest = await client.delete_range(b"\0", b"\0")
    assert rest.deleted == 2
    assert (await client.range(b"\0", b"\0")).count == 0


async def test_recreated_key_starts_a_new_life(target: Target, client: Client) -> None:
    r0 = await target.revision()
    await client.put(b"a", b"1")
    await client.put(b"a", b"2")
    await client.delete_range(b"a")
    await client.put(b"a", b"3")
    (kv,) = (await client.range(b"a")).kvs
    assert (kv.create_revision, kv.mod_revision, kv.version) == (r0 + 4, r0 + 4, 1)


async def test_ignore_value_and_ignore_lease(target: Target, client: Client) -> None:
    lease = await client.lease_grant(60)
    await client.put(b"a", b"1", lease=lease.id)
    await client.put(b"a", b"", ignore_value=True)  # keeps the value, drops the lease (lease=0)
    (kv,) = (await client.range(b"a")).kvs
    assert (kv.value, kv.lease, kv.version) == (b"1", 0, 2)
    await client.put(b"a", b"2", lease=lease.id)
    await client.put(b"a", b"3", ignore_lease=True)  # keeps the lease
    (kv,) = (await client.range(b"a")).kvs
    assert (kv.value, kv.lease, kv.version) == (b"3", lease.id, 4)
    await client.lease_revoke(lease.id)


async def test_compaction(target: Target, client: Client) -> None:
    r0 = await target.revision()
    await client.put(b"a", b"1")  # r0+1
    await client.put(b"a", b"2")  # r0+2
    await client.put(b"b", b"1")  # r0+3
    await client.delete_range(b"b")  # r0+4
    resp = await client.compact(r0 + 3)
    assert resp.header.revision == r0 + 4

    with pytest.raises(CompactedError):
        await client.range(b"a", revision=r0 + 2)
    at3 = await client.range(b"\0", b"\0", revision=r0 + 3)
    assert [(kv.key, kv.value) for kv in at3.kvs] == [(b"a", b"2"), (b"b", b"1")]
    now = await client.range(b"\0", b"\0")
    assert [(kv.key, kv.value, kv.version) for kv in now.kvs] == [(b"a", b"2", 2)]

    with pytest.raises(CompactedError):
        await client.compact(r0 + 3)
    with pytest.raises(CompactedError):
        await client.compact(r0 + 1)
    with pytest.raises(FutureRevisionError):
        await client.compact(r0 + 5)
    await client.compact(r0 + 4, physical=True)
    now = await client.range(b"\0", b"\0", revision=r0 + 4)
    assert [(kv.key, kv.value) for kv in now.kvs] == [(b"a", b"2")]
    # Versions and create revisions survive compaction.
    await client.put(b"a", b"3")
    (kv,) = (await client.range(b"a")).kvs
    assert (kv.create_revision, kv.version) == (r0 + 1, 3)
