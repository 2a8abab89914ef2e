"""Import image archives into a containerd, in the namespace its CRI reads (``k8s.io``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from hw.images.errors import ImageImportError

__all__ = ["CRI_NAMESPACE", "import_archive"]

CRI_NAMESPACE = "k8s.io"


def import_archive(
    address: str | Path,
    archive: Path,
    *,
    namespace: str = CRI_NAMESPACE,
    snapshotter: str = "overlayfs",
    timeout: float = 120.0,
) -> list[str]:
    """Import and unpack every image in ``archive``; returns the names containerd now has.

    ``address`` is the containerd socket path (``unix://`` prefix allowed).
    """
    ctr = shutil.which("ctr")
    if ctr is None:
        raise ImageImportError("images: ctr not found (install containerd)")
    sock = str(address).removeprefix("unix://")
    cmd = [ctr, "--address", sock, "--namespace", namespace, "images", "import",
           "--snapshotter", snapshotter, str(archive)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise ImageImportError(f"images: importing {archive.name} into {sock} timed out after {timeout:g}s") from exc
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise ImageImportError(
            f"images: importing {archive.name} into {sock} failed: {detail[-1] if detail else proc.returncode}"
        )
    # ctr prints "unpacking <name> (sha256:...)...done" per image.
    names = []
    for line in proc.stdout.splitlines():
        if line.startswith("unpacking "):
            names.append(line.split()[1])
    return names
