"""OCI image archives: specs, deterministic layers, and the archive layout.

An archive is a tar of an OCI image layout that ``ctr images import`` (and containerd's
import API) accepts::

    oci-layout                  {"imageLayoutVersion": "1.0.0"}
    index.json                  one manifest descriptor per image, annotated with its full name
    blobs/sha256/<manifest>     {"config": ..., "layers": [one tar+gzip layer]}
    blobs/sha256/<config>       platform, Entrypoint/Cmd/Env/WorkingDir, rootfs diff_ids
    blobs/sha256/<layer>        the root filesystem

Everything is written with fixed timestamps, owners and ordering, so the same spec always
gives the same digests (and the cache in ``builder`` can key archives by their inputs).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import platform
import re
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from hw.images.errors import ImageError

__all__ = [
    "File",
    "ImageSpec",
    "Symlink",
    "canonical_json",
    "host_platform",
    "layer_tar",
    "normalize_name",
    "write_archive",
]

MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
# containerd names imported images by this annotation; the OCI one carries just the tag.
ANNOTATION_CONTAINERD_NAME = "io.containerd.image.name"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
EPOCH = "1970-01-01T00:00:00Z"
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^\w[\w.-]{0,127}$")
_HOST = re.compile(r"^[a-zA-Z0-9.-]+(?::[0-9]+)?$")


@dataclass(frozen=True, slots=True)
class File:
    """A regular file in an image."""

    data: bytes
    mode: int = 0o644

    @classmethod
    def of(cls, value: File | Symlink | bytes | str | Path) -> File | Symlink:
        """bytes and str become 0644 files; a Path is read with its permission bits."""
        if isinstance(value, File | Symlink):
            return value
        if isinstance(value, bytes):
            return cls(value)
        if isinstance(value, str):
            return cls(value.encode())
        if isinstance(value, Path):
            try:
                return cls(value.read_bytes(), value.stat().st_mode & 0o7777)
            except OSError as exc:
                raise ImageError(f"images: cannot read {value}: {exc.strerror}") from exc
        raise ImageError(f"images: unsupported file content of type {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class Symlink:
    target: str


Entry = File | Symlink


def normalize_name(name: str) -> str:
    """The full repository name containerd's CRI will look for.

        web                 -> localhost/web        (our images have no registry: say so)
        localhost/web       -> localhost/web
        docker.io/team/app  -> docker.io/team/app
    """
    parts = name.split("/")
    if len(parts) == 1 or not (parts[0] == "localhost" or "." in parts[0] or ":" in parts[0]):
        parts = ["localhost", *parts]
    host, path = parts[0], parts[1:]
    if not _HOST.match(host) or not path or not all(_COMPONENT.match(p) for p in path):
        raise ImageError(
            f"images: invalid image name {name!r} (want lowercase path components like localhost/web)"
        )
    return "/".join([host, *path])


def _clean_path(path: str) -> str:
    p = PurePosixPath("/", path)
    if ".." in p.parts or p == PurePosixPath("/"):
        raise ImageError(f"images: invalid file path {path!r} in image (absolute, no '..')")
    return str(p)[1:]


@dataclass(frozen=True)
class ImageSpec:
    """What goes into one image. Build it with ``ImageSpec.make`` (validates and normalises)."""

    name: str
    tag: str
    entries: tuple[tuple[str, Entry], ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    workdir: str = "/"
    exposed_ports: tuple[int, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    # Include /bin/busybox and a link per applet (sh, sleep, httpd, wget, ...).
    busybox: bool = True

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.tag}"

    @classmethod
    def make(
        cls,
        name: str,
        tag: str = "latest",
        *,
        files: Mapping[str, File | Symlink | bytes | str | Path] | None = None,
        entrypoint: Sequence[str] | None = None,
        cmd: Sequence[str] | None = None,
        env: Mapping[str, str] | Sequence[str] | None = None,
        workdir: str = "/",
        exposed_ports: Iterable[int] = (),
        labels: Mapping[str, str] | None = None,
        busybox: bool = True,
    ) -> ImageSpec:
        if ":" in name.rsplit("/", 1)[-1] and tag == "latest":
            name, tag = name.rsplit(":", 1)
        if not _TAG.match(tag):
            raise ImageError(f"images: invalid tag {tag!r} (letters, digits, '_', '.', '-'; at most 128)")
        if isinstance(entrypoint, str) or isinstance(cmd, str):
            raise ImageError("images: entrypoint and cmd are lists of arguments, not strings")
        entries = {_clean_path(p): File.of(v) for p, v in (files or {}).items()}
        env_list = [f"{k}={v}" for k, v in env.items()] if isinstance(env, Mapping) else list(env or ())
        for e in env_list:
            if "=" not in e or e.startswith("="):
                raise ImageError(f"images: invalid environment entry {e!r} (want NAME=value)")
        if not any(e.startswith("PATH=") for e in env_list):
            env_list.insert(0, DEFAULT_PATH)
        ports = tuple(sorted(set(exposed_ports)))
        if any(not 0 < p < 65536 for p in ports):
            raise ImageError(f"images: invalid exposed port in {ports}")
        if not workdir.startswith("/"):
            raise ImageError(f"images: workdir {workdir!r} must be absolute")
        return cls(
            name=normalize_name(name),
            tag=tag,
            entries=tuple(sorted(entries.items())),
            entrypoint=tuple(entrypoint or ()),
            cmd=tuple(cmd or ()),
            env=tuple(env_list),
            workdir=workdir,
            exposed_ports=ports,
            labels=tuple(sorted((labels or {}).items())),
            busybox=busybox,
        )


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def host_platform() -> dict[str, str]:
    """This machine's platform in OCI (Go) terms; ctr imports only the matching platform."""
    machine = platform.machine().lower()
    table = {
        "x86_64": ("amd64", ""),
        "amd64": ("amd64", ""),
        "aarch64": ("arm64", ""),
        "arm64": ("arm64", ""),
        "armv7l": ("arm", "v7"),
        "armv6l": ("arm", "v6"),
    }
    arch, variant = table.get(machine, (machine, ""))
    out = {"architecture": arch, "os": "linux"}
    if variant:
        out["variant"] = variant
    return out


def _tarinfo(name: str, kind: bytes, mode: int, size: int = 0, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.linkname = linkname
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def layer_tar(entries: Mapping[str, Entry], dirs: Iterable[tuple[str, int]] = ()) -> bytes:
    """An uncompressed layer: explicit dirs (path, mode), parents of every entry, then entries.

    Entries are sorted, so parents always precede children and the bytes are reproducible.
    """
    all_dirs: dict[str, int] = {_clean_path(d): mode for d, mode in dirs}
    for path in entries:
        for parent in PurePosixPath(path).parents:
            if str(parent) != ".":
                all_dirs.setdefault(str(parent), 0o755)
    items: list[tuple[str, Entry | int]] = [(d, m) for d, m in all_dirs.items() if d not in entries]
    items += list(entries.items())
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, item in sorted(items, key=lambda kv: kv[0]):
            if isinstance(item, int):
                tar.addfile(_tarinfo(path, tarfile.DIRTYPE, item))
            elif isinstance(item, Symlink):
                tar.addfile(_tarinfo(path, tarfile.SYMTYPE, 0o777, linkname=item.target))
            else:
                tar.addfile(_tarinfo(path, tarfile.REGTYPE, item.mode, len(item.data)), io.BytesIO(item.data))
    return buf.getvalue()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": _digest(data), "size": len(data), **extra}


def _image_config(spec: ImageSpec, diff_id: str, plat: Mapping[str, str]) -> dict[str, Any]:
    cfg: dict[str, Any] = {"Env": list(spec.env), "WorkingDir": spec.workdir}
    if spec.entrypoint:
        cfg["Entrypoint"] = list(spec.entrypoint)
    if spec.cmd:
        cfg["Cmd"] = list(spec.cmd)
    if spec.exposed_ports:
        cfg["ExposedPorts"] = {f"{p}/tcp": {} for p in spec.exposed_ports}
    if spec.labels:
        cfg["Labels"] = dict(spec.labels)
    return {
        **plat,
        "created": EPOCH,
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": EPOCH, "created_by": "picluster hw.images"}],
    }


def write_archive(images: Sequence[tuple[ImageSpec, bytes]], dest: Path, plat: Mapping[str, str]) -> None:
    """Write an archive holding each (spec, uncompressed layer) image to ``dest``."""
    blobs: dict[str, bytes] = {}
    manifests: list[dict[str, Any]] = []
    compressed: dict[str, bytes] = {}
    for spec, layer in images:
        diff_id = _digest(layer)
        if diff_id not in compressed:  # images that share a layer share its blob
            compressed[diff_id] = gzip.compress(layer, compresslevel=6, mtime=0)
        gz = compressed[diff_id]
        config = canonical_json(_image_config(spec, diff_id, plat))
        manifest = canonical_json({
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": _descriptor(MEDIA_CONFIG, config),
            "layers": [_descriptor(MEDIA_LAYER, gz)],
        })
        for blob in (gz, config, manifest):
            blobs[_digest(blob)] = blob
        manifests.append(_descriptor(
            MEDIA_MANIFEST,
            manifest,
            annotations={ANNOTATION_CONTAINERD_NAME: spec.ref, ANNOTATION_REF_NAME: spec.tag},
            platform=dict(plat),
        ))
    index = canonical_json({"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": manifests})
    files: list[tuple[str, bytes]] = [
        ("oci-layout", canonical_json({"imageLayoutVersion": "1.0.0"})),
        ("index.json", index),
    ]
    files += [(f"blobs/sha256/{d.split(':', 1)[1]}", b) for d, b in sorted(blobs.items())]
    with tarfile.open(dest, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in ("blobs", "blobs/sha256"):
            tar.addfile(_tarinfo(d, tarfile.DIRTYPE, 0o755))
        for name, data in files:
            tar.addfile(_tarinfo(name, tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))
