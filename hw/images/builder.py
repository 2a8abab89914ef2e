"""Build image archives from specs, with busybox as the base, cached by content.

The cache key is a digest of everything that shapes the archive (the spec, every file's
bytes, the busybox binary, the platform), so a second build of the same images is one
``stat``. Archives are written to a temporary name and renamed, so concurrent builders
(several tests, several testbeds) never see a half-written file.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from hw.images.errors import ImageError
from hw.images.oci import (
    Entry,
    File,
    ImageSpec,
    Symlink,
    canonical_json,
    host_platform,
    layer_tar,
    write_archive,
)

__all__ = ["BUSYBOX", "DEFAULT_CACHE_DIR", "build_archive", "build_image", "rootfs_entries"]

BUSYBOX = Path("/bin/busybox")
DEFAULT_CACHE_DIR = Path(os.environ.get("PICLUSTER_IMAGE_CACHE", "/var/lib/picluster/images"))
# Bump when the archive format changes, so old cached archives are not reused.
_FORMAT = "picluster-oci-1"

_BASE_DIRS = (("dev", 0o755), ("etc", 0o755), ("proc", 0o555), ("sys", 0o555), ("root", 0o700),
              ("tmp", 0o1777), ("var", 0o755), ("var/run", 0o755), ("var/tmp", 0o1777))
_PASSWD = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
_GROUP = b"root:x:0:\nnogroup:x:65534:\n"


@functools.cache
def _busybox(path: Path, mtime_ns: int) -> tuple[bytes, tuple[str, ...]]:
    """The binary and the install path of every applet (``bin/sh``, ``usr/bin/wget``, ...)."""
    del mtime_ns  # part of the cache key only
    try:
        data = path.read_bytes()
        listing = subprocess.run([str(path), "--list-full"], capture_output=True, text=True, check=True,
                                 timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise ImageError(f"images: cannot use {path} (install busybox-static): {exc}") from exc
    applets = tuple(sorted(
        p for p in listing.split()
        if "/" in p and p != "bin/busybox" and re.fullmatch(r"[\w./\[\]-]+", p)
    ))
    return data, applets


def rootfs_entries(spec: ImageSpec, busybox: Path = BUSYBOX) -> tuple[dict[str, Entry], list[tuple[str, int]]]:
    """The files and explicit directories of the image's single layer."""
    entries: dict[str, Entry] = {}
    dirs: list[tuple[str, int]] = list(_BASE_DIRS)
    if spec.busybox:
        try:
            mtime = busybox.stat().st_mtime_ns
        except OSError as exc:
            raise ImageError(f"images: {busybox} not found (install busybox-static)") from exc
        data, applets = _busybox(busybox, mtime)
        entries["bin/busybox"] = File(data, 0o755)
        entries.update({a: Symlink("/bin/busybox") for a in applets})
        entries["etc/passwd"] = File(_PASSWD)
        entries["etc/group"] = File(_GROUP)
    entries.update(dict(spec.entries))
    return entries, dirs


def _cache_key(specs: Sequence[ImageSpec], plat: Mapping[str, str], busybox: Path) -> str:
    h = hashlib.sha256()
    h.update(_FORMAT.encode())
    h.update(canonical_json(dict(plat)))
    for spec in specs:
        files = {
            p: ({"sha256": hashlib.sha256(e.data).hexdigest(), "mode": e.mode} if isinstance(e, File)
                else {"symlink": e.target})
            for p, e in spec.entries
        }
        h.update(canonical_json({
            "ref": spec.ref, "files": files, "entrypoint": spec.entrypoint, "cmd": spec.cmd,
            "env": spec.env, "workdir": spec.workdir, "ports": spec.exposed_ports,
            "labels": spec.labels, "busybox": spec.busybox,
        }))
        if spec.busybox:
            h.update(hashlib.sha256(busybox.read_bytes()).digest())
    return h.hexdigest()


def build_archive(
    specs: Sequence[ImageSpec],
    *,
    cache_dir: Path | None = None,
    busybox: Path = BUSYBOX,
    label: str | None = None,
) -> Path:
    """One archive holding every spec's image; reused from the cache when nothing changed."""
    if not specs:
        raise ImageError("images: nothing to build")
    refs = [s.ref for s in specs]
    if len(set(refs)) != len(refs):
        raise ImageError(f"images: duplicate image references in {refs}")
    plat = host_platform()
    cache = cache_dir or DEFAULT_CACHE_DIR
    try:
        key = _cache_key(specs, plat, busybox)
    except OSError as exc:
        raise ImageError(f"images: {busybox} not found (install busybox-static)") from exc
    stem = label or re.sub(r"[^A-Za-z0-9_.-]+", "_", specs[0].ref.split("/", 1)[-1])
    dest = cache / f"{stem}-{key[:16]}.oci.tar"
    if dest.exists():
        return dest
    layers = []
    for spec in specs:
        entries, dirs = rootfs_entries(spec, busybox)
        layers.append((spec, layer_tar(entries, dirs)))
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{stem}-", suffix=".tmp", dir=cache)
        os.close(fd)
    except OSError as exc:
        raise ImageError(f"images: cannot write to the image cache {cache}: {exc.strerror}") from exc
    try:
        write_archive(layers, Path(tmp), plat)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def build_image(
    name: str,
    tag: str = "latest",
    *,
    files: Mapping[str, File | Symlink | bytes | str | Path] | None = None,
    entrypoint: Sequence[str] | None = None,
    cmd: Sequence[str] | None = None,
    env: Mapping[str, str] | Sequence[str] | None = None,
    workdir: str = "/",
    exposed_ports: Sequence[int] = (),
    busybox: bool = True,
    cache_dir: Path | None = None,
) -> Path:
    """Build (or reuse) an archive with one image, ``name:tag``, and return its path.

    ``name`` without a registry host gets ``localhost/``; ``files`` maps absolute paths in
    the image to content (bytes and str become 0644 files; use ``File(data, 0o755)`` for
    scripts). With ``busybox`` the image has /bin/busybox and every applet (sh, httpd, ...).
    """
    spec = ImageSpec.make(
        name, tag, files=files, entrypoint=entrypoint, cmd=cmd, env=env, workdir=workdir,
        exposed_ports=exposed_ports, busybox=busybox,
    )
    return build_archive([spec], cache_dir=cache_dir)
