"""``pictl master`` flag errors are one readable line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from master.cli.main import main


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        pytest.param(["--service-cluster-ip-range", "bogus"], "invalid --service-cluster-ip-range", id="cidr"),
        pytest.param(["--service-cluster-ip-range", "fd00::/64"], "only IPv4", id="ipv6"),
        pytest.param(["--service-node-port-range", "40000-30000"], "invalid --service-node-port-range", id="ports"),
        pytest.param(["--secure-port", "70000"], "invalid --secure-port", id="secure-port"),
        pytest.param(["--store-backend", "paper"], "invalid --store-backend", id="backend"),
        pytest.param(["--etcd-servers", "ftp://x"], "unsupported scheme", id="etcd-url"),
        pytest.param(["--log-level", "loud"], "invalid --log-level", id="log-level"),
        pytest.param(["--event-ttl", "soon"], "invalid --event-ttl", id="event-ttl"),
        pytest.param(["--event-loop", "trio"], "invalid --event-loop", id="event-loop"),
    ],
)
def test_bad_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str) -> None:
    code = main(["master", "--data-dir", str(tmp_path), *flags])
    err = capsys.readouterr().err
    assert code != 0
    assert message in err and "Traceback" not in err


def test_store_errors_are_their_own_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # A second master on the same data dir printed "error: StoreError: store: data dir ...".
    from master.cli import master_cmd
    from master.store.errors import StoreError

    async def refuse(*_args: object, **_kw: object) -> None:
        raise StoreError("store: data dir /x/store is in use by another process")

    monkeypatch.setattr(master_cmd, "run_master", refuse)
    options = master_cmd.MasterOptions(Path("/x"), "127.0.0.1", 6443, "", (), (), "10.96.0.0/12", "30000-32767",
                                       event_loop="asyncio")
    assert master_cmd._run(options) == 1
    assert capsys.readouterr().err == "error: store: data dir /x/store is in use by another process\n"
