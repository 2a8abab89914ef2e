"""master.util.files.write_atomic: whole replacement, modes, nothing left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from master.util.files import write_atomic


@pytest.mark.parametrize("mode", [pytest.param(0o600, id="key"), pytest.param(0o644, id="config")])
@pytest.mark.parametrize("sync_dir", [pytest.param(False, id="file-only"), pytest.param(True, id="sync-dir")])
def test_replaces_whole_with_mode(tmp_path: Path, mode: int, sync_dir: bool) -> None:
    target = tmp_path / "admin.kubeconfig"
    target.write_bytes(b"old content, longer than the new one")
    os.chmod(target, 0o666)
    write_atomic(target, b"new", mode=mode, sync_dir=sync_dir)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["admin.kubeconfig"]


def test_creates_a_missing_file(tmp_path: Path) -> None:
    write_atomic(str(tmp_path / "state.json"), b"{}\n")
    assert (tmp_path / "state.json").read_bytes() == b"{}\n"


def test_failure_keeps_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "conf"
    target.mkdir()  # a directory cannot be replaced by a file
    with pytest.raises(OSError):
        write_atomic(target, b"x")
    assert target.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conf"]


def test_missing_directory_is_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "absent" / "f", b"x")
