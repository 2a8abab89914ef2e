"""Errors and limits, with etcd's error classes and messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from master.store.client import Client
from master.store.errors import (
    CompactedError,
    EmptyKeyError,
    FutureRevisionError,
    KeyNotFoundError,
    LeaseNotFoundError,
    LeaseProvidedError,
    RequestTooLargeError,
    StoreError,
    TooManyOpsError,
    ValueProvidedError,
)
from master.store.types import OpPut
from tests.fixtures.store_targets import Target

MiB = 1024 * 1024
Call = Callable[[Client], Awaitable[object]]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        pytest.param(lambda c: c.put(b"", b"v"), EmptyKeyError, "etcdserver: key is not provided", id="put-empty-key"),
        pytest.param(lambda c: c.range(b""), EmptyKeyError, "etcdserver: key is not provided", id="range-empty-key"),
        pytest.param(lambda c: c.delete_range(b""), EmptyKeyError, "etcdserver: key is not provided", id="delete-empty-key"),
        pytest.param(
            lambda c: c.put(b"big", b"x" * (MiB + MiB // 2 + 100)),
            RequestTooLargeError,
            "etcdserver: request is too large",
            id="put-too-large",
        ),
        pytest.param(
            lambda c: c.txn([], [OpPut(b"t1", b"x" * MiB), OpPut(b"t2", b"x" * (MiB // 2 + 100))]),
            RequestTooLargeError,
            "etcdserver: request is too large",
            id="txn-too-large",
        ),
        pytest.param(
            lambda c: c.txn([], [OpPut(f"k{i}".encode(), b"") for i in range(129)]),
            TooManyOpsError,
            "etcdserver: too many operations in txn request",
            id="too-many-ops",
        ),
        pytest.param(
            lambda c: c.put(b"a", b"1", lease=0xBAD),
            LeaseNotFoundError,
            "etcdserver: requested lease not found",
            id="put-unknown-lease",
        ),
        pytest.param(
            lambda c: c.lease_revoke(0xBAD), LeaseNotFoundError, "etcdserver: requested lease not found", id="revoke-unknown"
        ),
        pytest.param(
            lambda c: c.put(b"missing", b"", ignore_value=True),
            KeyNotFoundError,
            "etcdserver: key not found",
            id="ignore-value-missing-key",
        ),
        pytest.param(
            lambda c: c.put(b"a", b"v", ignore_value=True),
            ValueProvidedError,
            "etcdserver: value is provided",
            id="ignore-value-with-value",
        ),
        pytest.param(
            lambda c: c.put(b"a", b"v", lease=7, ignore_lease=True),
            LeaseProvidedError,
            "etcdserver: lease is provided",
            id="ignore-lease-with-lease",
        ),
        pytest.param(
            lambda c: c.range(b"a", revision=1 << 40),
            FutureRevisionError,
            "etcdserver: mvcc: required revision is a future revision",
            id="future-revision",
        ),
        pytest.param(
            lambda c: c.compact(1 << 40),
            FutureRevisionError,
            "etcdserver: mvcc: required revision is a future revision",
            id="compact-future",
        ),
    ],
)
async def test_errors(client: Client, call: Call, error: type[StoreError], message: str) -> None:
    with pytest.raises(error) as info:
        await call(client)
    assert info.value.message == message


async def test_large_but_allowed_request(client: Client) -> None:
    resp = await client.put(b"big", b"x" * MiB)
    got = await client.range(b"big")
    assert len(got.kvs[0].value) == MiB and got.kvs[0].mod_revision == resp.header.revision


async def test_compacted_revision_message(target: Target, client: Client) -> None:
    await client.put(b"a", b"1")
    r = await target.revision()
    await client.put(b"a", b"2")
    await client.compact(r + 1)
    with pytest.raises(CompactedError) as info:
        await client.range(b"a", revision=r)
    assert info.value.message == "etcdserver: mvcc: required revision has been compacted"
