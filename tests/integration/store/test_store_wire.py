"""Bad input on the wire never crashes ``pictl store``: raw garbage, malformed protobuf,
out-of-range enums, oversized messages, deep nesting, abrupt disconnects. After each case the
server still answers, and the error a client sees is etcd's where etcd has one."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Iterator

import grpc
import grpc.aio
import pytest

from master.store.etcdpb import rpc_pb2, rpc_pb2_grpc
from tests.fixtures.store_process import StoreProcess, start_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreProcess]:
    proc = start_store(tmp_path_factory.mktemp("wire"))
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def channel(store: StoreProcess) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(
        store.endpoint, options=[("grpc.max_send_message_length", 16 * 1024 * 1024)]
    ) as ch:
        yield ch
    # Every case must leave the server up and answering.
    assert store.process is not None and store.process.poll() is None, store.log()[-2000:]
    with grpc.insecure_channel(store.endpoint) as ch:
        rpc_pb2_grpc.KVStub(ch).Put(rpc_pb2.PutRequest(key=b"/alive", value=b"1"), timeout=10)


def _raw(channel: grpc.Channel, method: str) -> Callable[..., bytes]:
    return channel.unary_unary(method, request_serializer=None, response_deserializer=None)


def _status(fn: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as info:
        fn()
    err = info.value
    return err.code(), err.details()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"\xff\xff\xff\xff", id="bad-varint"),
        pytest.param(b"\x0a\x64abc", id="truncated-bytes"),
        pytest.param(os.urandom(4096), id="random"),
        pytest.param(b"\x0f" * 100, id="bad-wire-types"),
    ],
)
@pytest.mark.parametrize(
    "method", ["/etcdserverpb.KV/Put", "/etcdserverpb.KV/Txn", "/etcdserverpb.Lease/LeaseGrant"]
)
def test_malformed_protobuf_is_refused(channel: grpc.Channel, method: str, payload: bytes) -> None:
    try:
        _raw(channel, method)(payload, timeout=10)
    except grpc.RpcError as exc:
        assert exc.code() in (grpc.StatusCode.INTERNAL, grpc.StatusCode.INVALID_ARGUMENT)  # type: ignore[attr-defined]


@pytest.mark.parametrize("method", ["/etcdserverpb.Watch/Watch", "/etcdserverpb.Lease/LeaseKeepAlive"])
def test_malformed_message_on_a_stream(channel: grpc.Channel, method: str) -> None:
    call = channel.stream_stream(method, request_serializer=None, response_deserializer=None)
    code, details = _status(lambda: list(call(iter([b"\xff\xff\xff"]), timeout=10)))
    assert code is grpc.StatusCode.INTERNAL and details.startswith("grpc: error unmarshalling request")


def test_unknown_method_is_unimplemented(channel: grpc.Channel) -> None:
    code, _ = _status(lambda: _raw(channel, "/etcdserverpb.KV/Nope")(b"", timeout=10))
    assert code is grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        pytest.param(rpc_pb2.RangeRequest(key=b"a", sort_order=42), "invalid sort order", id="sort-order"),  # type: ignore[arg-type]
        pytest.param(rpc_pb2.RangeRequest(key=b"a", sort_target=42), "invalid sort target", id="sort-target"),  # type: ignore[arg-type]
    ],
)
def test_out_of_range_enums(channel: grpc.Channel, request_: rpc_pb2.RangeRequest, message: str) -> None:
    code, details = _status(lambda: rpc_pb2_grpc.KVStub(channel).Range(request_, timeout=10))
    assert code is grpc.StatusCode.INVALID_ARGUMENT and message in details


def test_bad_compare_target_in_txn(channel: grpc.Channel) -> None:
    txn = rpc_pb2.TxnRequest(compare=[rpc_pb2.Compare(key=b"a", target=9, result=7)])  # type: ignore[arg-type]
    code, details = _status(lambda: rpc_pb2_grpc.KVStub(channel).Txn(txn, timeout=10))
    assert code is grpc.StatusCode.INVALID_ARGUMENT and "compare" in details


def test_empty_txn_op_is_refused(channel: grpc.Channel) -> None:
    txn = rpc_pb2.TxnRequest(success=[rpc_pb2.RequestOp()])
    code, _ = _status(lambda: rpc_pb2_grpc.KVStub(channel).Txn(txn, timeout=10))
    assert code is grpc.StatusCode.INVALID_ARGUMENT


def test_request_over_the_limit_gets_etcds_error(channel: grpc.Channel) -> None:
    put = rpc_pb2.PutRequest(key=b"big", value=b"x" * (1536 * 1024))
    code, details = _status(lambda: rpc_pb2_grpc.KVStub(channel).Put(put, timeout=10))
    assert (code, details) == (grpc.StatusCode.INVALID_ARGUMENT, "etcdserver: request is too large")


def test_message_over_grpc_limit_is_resource_exhausted(channel: grpc.Channel) -> None:
    put = rpc_pb2.PutRequest(key=b"huge", value=b"x" * (3 * 1024 * 1024))
    code, _ = _status(lambda: rpc_pb2_grpc.KVStub(channel).Put(put, timeout=10))
    assert code is grpc.StatusCode.RESOURCE_EXHAUSTED


def test_deeply_nested_txn(channel: grpc.Channel) -> None:
    txn = rpc_pb2.TxnRequest(
        success=[rpc_pb2.RequestOp(request_put=rpc_pb2.PutRequest(key=b"deep", value=b"1"))]
    )
    for _ in range(40):
        txn = rpc_pb2.TxnRequest(success=[rpc_pb2.RequestOp(request_txn=txn)])
    resp = rpc_pb2_grpc.KVStub(channel).Txn(txn, timeout=10)
    assert resp.succeeded


def test_nesting_beyond_protobufs_limit(channel: grpc.Channel) -> None:
    # 200 levels of RequestOp/TxnRequest exceed protobuf's recursion limit: refused, not a crash.
    payload = b""
    for _ in range(200):
        op = b"\x22" + _varint(len(payload)) + payload  # RequestOp.request_txn
        payload = b"\x12" + _varint(len(op)) + op  # TxnRequest.success
    try:
        _raw(channel, "/etcdserverpb.KV/Txn")(payload, timeout=10)
    except grpc.RpcError as exc:
        assert exc.code() in (grpc.StatusCode.INTERNAL, grpc.StatusCode.INVALID_ARGUMENT)  # type: ignore[attr-defined]


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", id="http1"),
        pytest.param(os.urandom(64 * 1024), id="random"),
        pytest.param(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + os.urandom(1024), id="h2-preface-then-garbage"),
        pytest.param(b"", id="connect-and-close"),
    ],
)
def test_raw_socket_garbage(store: StoreProcess, channel: grpc.Channel, data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", store.client_port), timeout=10) as sock:
        if data:
            sock.sendall(data)
        sock.settimeout(2)
        try:
            sock.recv(4096)
        except (TimeoutError, ConnectionError):
            pass


async def test_watch_stream_abuse(store: StoreProcess, channel: grpc.Channel) -> None:
    """Empty requests, cancels of unknown ids, duplicate ids, empty ranges, then a vanishing client."""
    async with grpc.aio.insecure_channel(store.endpoint) as ch:
        call = rpc_pb2_grpc.WatchStub(ch).Watch()
        await call.write(rpc_pb2.WatchRequest())
        await call.write(rpc_pb2.WatchRequest(cancel_request=rpc_pb2.WatchCancelRequest(watch_id=12345)))
        create = rpc_pb2.WatchCreateRequest(key=b"/w", watch_id=7)
        await call.write(rpc_pb2.WatchRequest(create_request=create))
        first = await asyncio.wait_for(call.read(), 10)
        assert first.created and first.watch_id == 7 and not first.canceled
        await call.write(rpc_pb2.WatchRequest(create_request=create))
        dup = await asyncio.wait_for(call.read(), 10)
        assert dup.created and dup.canceled and "duplicate watch ID" in dup.cancel_reason
        empty = rpc_pb2.WatchCreateRequest(key=b"b", range_end=b"a")
        await call.write(rpc_pb2.WatchRequest(create_request=empty))
        refused = await asyncio.wait_for(call.read(), 10)
        assert refused.canceled and refused.cancel_reason == "mvcc: watcher range is empty"
        for _ in range(50):
            await call.write(rpc_pb2.WatchRequest(create_request=rpc_pb2.WatchCreateRequest(key=b"/w")))
        call.cancel()  # vanish with 50 watches open and responses unread


async def test_many_clients_vanishing_mid_stream(store: StoreProcess, channel: grpc.Channel) -> None:
    async def one() -> None:
        async with grpc.aio.insecure_channel(store.endpoint) as ch:
            call = rpc_pb2_grpc.LeaseStub(ch).LeaseKeepAlive()
            await call.write(rpc_pb2.LeaseKeepAliveRequest(ID=1))
            call.cancel()

    await asyncio.gather(*(one() for _ in range(20)))


def test_server_log_has_no_traceback(store: StoreProcess, channel: grpc.Channel) -> None:
    assert "Traceback" not in store.log()
