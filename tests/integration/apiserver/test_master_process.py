"""``pictl master`` runs as a lean process: same pid, no CLI libraries, its command line kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from master.cli import master_cmd
from tests.fixtures.apiserver import start_master

pytestmark = pytest.mark.slow


def test_the_running_master_has_no_cli_libraries(tmp_path: Path) -> None:
    m = start_master(tmp_path / "m")
    try:
        pid = m.proc.pid
        maps = Path(f"/proc/{pid}/maps").read_text()
        assert "pydantic_core" not in maps and "typer" not in maps
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert str(tmp_path / "m").encode() in args, "ps and the testbed still see --data-dir"
    finally:
        assert m.stop() == 0


def test_sigterm_while_starting_is_a_clean_stop(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "master.cli.main", "master", "--data-dir", str(tmp_path / "m"),
           "--bind-address", "127.0.0.1", "--secure-port", "0", "--listen-client-urls", "http://127.0.0.1:0",
           "--components", "apiserver"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # Once exec'd, early in start-up.
        deadline = time.monotonic() + 60
        while b"launched" not in Path(f"/proc/{proc.pid}/cmdline").read_bytes():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "Traceback" not in out


def test_launched_without_options_is_one_line(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(master_cmd.LAUNCH_ENV, "bm90IGEgcGlja2xl")
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        assert master_cmd.launched() == 2
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
