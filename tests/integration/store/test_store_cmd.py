"""``pictl store``: start-up log lines, clean shutdown on SIGTERM and Ctrl-C, one readable line
(no traceback) for every bad flag, and /metrics with etcd's names."""

from __future__ import annotations

import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

import grpc
import pytest

from master.store.etcdpb import rpc_pb2, rpc_pb2_grpc
from tests.fixtures.ports import free_port
from tests.fixtures.store_process import PICTL, StoreProcess, start_store


def _pictl_store(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PICTL), "store", *args], capture_output=True, text=True, timeout=timeout)


def _assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], proc.stderr


@pytest.mark.parametrize(
    ("flags", "fragments"),
    [
        pytest.param(
            ("--listen-client-urls", "ftp://127.0.0.1:1"), ("--listen-client-urls", "ftp"), id="bad-scheme"
        ),
        pytest.param(("--listen-client-urls", "http://127.0.0.1:99999"), ("port",), id="bad-port"),
        pytest.param(("--listen-client-urls", "https://127.0.0.1:2379"), ("TLS",), id="https"),
        pytest.param(("--listen-client-urls", ","), ("no URL",), id="empty"),
        pytest.param(
            ("--listen-metrics-urls", "gopher://x"), ("--listen-metrics-urls",), id="bad-metrics-url"
        ),
        pytest.param(("--backend", "bolt"), ("--backend", "bolt"), id="bad-backend"),
        pytest.param(
            ("--auto-compaction-retention", "soon"), ("--auto-compaction-retention",), id="bad-retention"
        ),
        pytest.param(
            ("--auto-compaction-mode", "revision", "--auto-compaction-retention", "1h"),
            ("revision",),
            id="bad-revisions",
        ),
        pytest.param(("--auto-compaction-mode", "sometimes"), ("--auto-compaction-mode",), id="bad-mode"),
        pytest.param(("--log-level", "loud"), ("--log-level",), id="bad-log-level"),
        pytest.param(("--max-txn-ops", "0"), ("--max-txn-ops",), id="bad-max-txn-ops"),
        pytest.param(("--event-loop", "tokio"), ("--event-loop", "tokio"), id="bad-event-loop"),
    ],
)
def test_bad_flags(tmp_path: Path, flags: tuple[str, ...], fragments: tuple[str, ...]) -> None:
    _assert_one_line_error(_pictl_store("--data-dir", str(tmp_path / "d"), *flags), *fragments)


def test_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = _pictl_store(
            "--data-dir", str(tmp_path / "d"), "--listen-client-urls", f"http://127.0.0.1:{port}"
        )
    _assert_one_line_error(proc, "--listen-client-urls", f"127.0.0.1:{port}")


def test_metrics_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = _pictl_store(
            "--data-dir", str(tmp_path / "d"),
            "--listen-client-urls", f"http://127.0.0.1:{free_port()}",
            "--listen-metrics-urls", f"http://127.0.0.1:{port}",
        )  # fmt: skip
    _assert_one_line_error(proc, "--listen-metrics-urls", str(port))


@pytest.mark.parametrize("where", ["file", "under-a-file"])
def test_data_dir_that_cannot_be_used(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    data_dir = blocker if where == "file" else blocker / "store"
    proc = _pictl_store(
        "--data-dir", str(data_dir), "--listen-client-urls", f"http://127.0.0.1:{free_port()}"
    )
    _assert_one_line_error(proc, "data dir", str(data_dir))


def test_data_dir_held_by_another_store(store_process: StoreProcess) -> None:
    proc = _pictl_store(
        "--data-dir", str(store_process.data_dir), "--listen-client-urls", f"http://127.0.0.1:{free_port()}"
    )
    _assert_one_line_error(proc, "cannot open the store", str(store_process.data_dir))


@pytest.mark.parametrize(
    ("sig", "loop"),
    [
        pytest.param(signal.SIGTERM, "auto", id="sigterm"),
        pytest.param(signal.SIGINT, "auto", id="ctrl-c"),
        pytest.param(signal.SIGTERM, "asyncio", id="sigterm-asyncio-loop"),
    ],
)
def test_start_up_lines_and_clean_shutdown(tmp_path: Path, sig: signal.Signals, loop: str) -> None:
    proc = start_store(tmp_path, extra=("--event-loop", loop))
    try:
        with grpc.insecure_channel(proc.endpoint) as ch:
            rpc_pb2_grpc.KVStub(ch).Put(rpc_pb2.PutRequest(key=b"k", value=b"v"), timeout=10)
        assert proc.process is not None
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode()
        proc.process.send_signal(sig)
        assert proc.process.wait(20) == 0
    finally:
        proc.stop()
    log = proc.log()
    assert cmdline and "master.store.main" in cmdline  # the lean process, not the CLI
    assert f"store: serving etcd v3 on 127.0.0.1:{proc.client_port}" in log
    assert f"store: metrics on http://127.0.0.1:{proc.metrics_port}/metrics" in log
    assert "store: shutting down" in log and "store: stopped" in log
    assert "Traceback" not in log
    # The put survived the shutdown.
    again = start_store(tmp_path)
    try:
        with grpc.insecure_channel(again.endpoint) as ch:
            resp = rpc_pb2_grpc.KVStub(ch).Range(rpc_pb2.RangeRequest(key=b"k"), timeout=10)
        assert [kv.value for kv in resp.kvs] == [b"v"]
    finally:
        again.stop()


def test_metrics_have_etcds_names(store_process: StoreProcess) -> None:
    with grpc.insecure_channel(store_process.endpoint) as ch:
        kv = rpc_pb2_grpc.KVStub(ch)
        for i in range(3):
            kv.Put(rpc_pb2.PutRequest(key=f"/m/{i}".encode(), value=b"v"), timeout=10)
        kv.Range(rpc_pb2.RangeRequest(key=b"/m/", range_end=b"/m0"), timeout=10)
        with pytest.raises(grpc.RpcError):
            kv.Range(rpc_pb2.RangeRequest(key=b""), timeout=10)
    with urllib.request.urlopen(store_process.metrics_url, timeout=10) as resp:
        text = resp.read().decode()
    samples = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert samples["etcd_debugging_mvcc_keys_total"] == 3
    assert samples["etcd_mvcc_put_total"] == 3
    assert samples["etcd_server_has_leader"] == 1
    assert samples["etcd_mvcc_db_total_size_in_bytes"] > 0
    assert samples["etcd_mvcc_db_total_size_in_use_in_bytes"] > 0
    assert samples["etcd_debugging_mvcc_watcher_total"] == 0
    assert samples["etcd_disk_wal_fsync_duration_seconds_count"] >= 3
    assert "etcd_mvcc_range_total" in samples
    assert samples["process_resident_memory_bytes"] > 0
    ok = 'grpc_server_handled_total{grpc_code="OK",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"}'
    assert samples[ok] == 3
    bad = (
        'grpc_server_handled_total{grpc_code="InvalidArgument",grpc_method="Range",'
        'grpc_service="etcdserverpb.KV",grpc_type="unary"}'
    )
    assert samples[bad] == 1
