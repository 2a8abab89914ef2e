"""Replace a directory's files all at once, as the kubelet's AtomicWriter does for configMap and
secret volumes, so a running container never sees half an update.

Layout after ``write(d, {"a": ..., "conf/b": ...})``::

    d/..2025_01_31_12_00_00.123456789/a         the files of this version
    d/..2025_01_31_12_00_00.123456789/conf/b
    d/..data -> ..2025_01_31_12_00_00.123456789 swapped with one rename(2)
    d/a      -> ..data/a                        what the container sees
    d/conf   -> ..data/conf

A container that bind-mounts ``d`` follows the symlinks inside it and sees the new version the
moment ``..data`` is renamed; the old version's directory is removed afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

__all__ = ["DATA", "read", "write"]

DATA = "..data"
_DIR_MODE = 0o755


def _current(d: Path) -> Path | None:
    try:
        target = os.readlink(d / DATA)
    except OSError:
        return None
    return d / target


def read(d: Path) -> dict[str, tuple[bytes, int]]:
    """The files of the current version: relative path -> (content, mode)."""
    cur = _current(d)
    out: dict[str, tuple[bytes, int]] = {}
    if cur is None or not cur.is_dir():
        return out
    for root, _dirs, files in os.walk(cur):
        for name in files:
            p = Path(root) / name
            out[str(p.relative_to(cur))] = (p.read_bytes(), p.stat().st_mode & 0o777)
    return out


def _check(rel: str) -> None:
    parts = Path(rel).parts
    if not rel or rel.startswith("/") or ".." in parts or (parts and parts[0].startswith("..")):
        raise ValueError(f"invalid file path {rel!r} in volume")


def write(d: Path, files: Mapping[str, tuple[bytes, int]]) -> bool:
    """Make ``d`` hold exactly ``files`` (relative path -> (content, mode)); whether it changed."""
    for rel in files:
        _check(rel)
    d.mkdir(parents=True, exist_ok=True)
    if read(d) == dict(files) and (d / DATA).exists():
        return False
    stamp = time.strftime("%Y_%m_%d_%H_%M_%S", time.gmtime()) + f".{time.time_ns() % 1_000_000_000:09d}"
    new = d / f"..{stamp}"
    new.mkdir(mode=_DIR_MODE)
    for rel, (content, mode) in files.items():
        p = new / rel
        p.parent.mkdir(parents=True, exist_ok=True, mode=_DIR_MODE)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.chmod(p, mode)
    old = _current(d)
    tmp = d / "..data_tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(new.name, tmp)
    os.replace(tmp, d / DATA)
    tops = {Path(rel).parts[0] for rel in files}
    for top in tops:
        link = d / top
        if not link.is_symlink():
            if link.exists():
                shutil.rmtree(link) if link.is_dir() else link.unlink()
            os.symlink(f"{DATA}/{top}", link)
    for entry in os.listdir(d):
        if entry.startswith(".."):
            continue
        if entry not in tops:
            p = d / entry
            if p.is_symlink() or p.is_file():
                p.unlink()
            else:
                shutil.rmtree(p, ignore_errors=True)
    if old is not None and old != new:
        shutil.rmtree(old, ignore_errors=True)
    return True
