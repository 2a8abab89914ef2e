"""Replacing a file whole: a reader, or the next boot after a crash, finds the old content or
the new, never a mix or a truncated file (kubeconfigs, keys, CNI config, testbed state).

The data goes to a temporary file beside the target (same filesystem, so the rename is
atomic), is fsynced, gets its mode, and is renamed over the target. The temporary file is
created 0600, so a key is never readable by others even for a moment. With ``sync_dir`` the
directory is fsynced too, so the rename itself survives a power cut (SD cards)::

    write_atomic(Path("/etc/cni/net.d/10-picluster.conflist"), data, mode=0o644, sync_dir=True)
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644, sync_dir: bool = False) -> None:
    """Replace ``path`` with ``data`` (its directory must exist); OSError as the OS raised it."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if sync_dir:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
