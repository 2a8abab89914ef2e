"""The image builder: names, specs, deterministic layers and a valid OCI layout."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from hw import images
from hw.images import File, ImageError, ImageSpec, build_archive, build_image, normalize_name
from hw.images.oci import Symlink, host_platform, layer_tar

BUSYBOX = Path("/bin/busybox")
needs_busybox = pytest.mark.skipif(not BUSYBOX.exists(), reason="needs busybox-static")


@pytest.mark.parametrize(
    ("name", "want"),
    [
        pytest.param("web", "localhost/web", id="bare-name-gets-localhost"),
        pytest.param("localhost/web", "localhost/web", id="localhost"),
        pytest.param("team/app", "localhost/team/app", id="no-registry-host"),
        pytest.param("docker.io/library/busybox", "docker.io/library/busybox", id="registry-with-dot"),
        pytest.param("10.77.0.1:5000/web", "10.77.0.1:5000/web", id="registry-with-port"),
    ],
)
def test_normalize_name(name: str, want: str) -> None:
    assert normalize_name(name) == want


@pytest.mark.parametrize("name", ["Web", "web/", "", "localhost/", "we b", "a//b"])
def test_normalize_name_rejects(name: str) -> None:
    with pytest.raises(ImageError, match="invalid image name"):
        normalize_name(name)


def test_spec_make_normalizes_and_validates() -> None:
    spec = ImageSpec.make("hello:2", files={"/a/b.txt": "hi"}, cmd=["cat", "/a/b.txt"], env={"X": "1"})
    assert spec.ref == "localhost/hello:2"
    assert spec.entries == (("a/b.txt", File(b"hi")),)
    assert spec.env[0].startswith("PATH=") and "X=1" in spec.env


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"tag": "bad tag"}, "invalid tag", id="tag"),
        pytest.param({"files": {"/../etc/x": "y"}}, "invalid file path", id="dotdot"),
        pytest.param({"files": {"/": "y"}}, "invalid file path", id="root"),
        pytest.param({"cmd": "sleep 1"}, "lists of arguments", id="cmd-string"),
        pytest.param({"env": ["NOEQUALS"]}, "invalid environment", id="env"),
        pytest.param({"workdir": "rel"}, "must be absolute", id="workdir"),
        pytest.param({"exposed_ports": [0]}, "invalid exposed port", id="port"),
    ],
)
def test_spec_make_rejects(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ImageError, match=match):
        ImageSpec.make("web", **kwargs)  # type: ignore[arg-type]


def test_layer_tar_is_deterministic_with_parents_first() -> None:
    entries = {"usr/bin/tool": File(b"#!/bin/sh\n", 0o755), "bin/sh": Symlink("/bin/busybox"), "etc/x": File(b"x")}
    a = layer_tar(entries, [("tmp", 0o1777)])
    assert a == layer_tar(dict(reversed(list(entries.items()))), [("tmp", 0o1777)])
    with tarfile.open(fileobj=io.BytesIO(a)) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names)
    for m in members:
        assert (m.mtime, m.uid, m.gid) == (0, 0, 0)
        parent = m.name.rsplit("/", 1)[0] if "/" in m.name else None
        assert parent is None or names.index(parent) < names.index(m.name)
    by_name = {m.name: m for m in members}
    assert by_name["usr/bin/tool"].mode == 0o755
    assert by_name["tmp"].mode == 0o1777
    assert by_name["bin/sh"].issym() and by_name["bin/sh"].linkname == "/bin/busybox"


def _read_archive(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def _blob(files: dict[str, bytes], digest: str) -> bytes:
    algo, hexd = digest.split(":")
    data = files[f"blobs/{algo}/{hexd}"]
    assert hashlib.sha256(data).hexdigest() == hexd
    return data


@needs_busybox
def test_archive_is_a_valid_oci_layout(tmp_path: Path) -> None:
    path = build_image("localhost/hello", "1", files={"/hello.txt": "hi\n", "/run.sh": File(b"#!/bin/sh\n", 0o755)},
                       cmd=["cat", "/hello.txt"], env={"GREETING": "hi"}, exposed_ports=[8080], cache_dir=tmp_path)
    files = _read_archive(path)
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(files["index.json"])
    assert index["schemaVersion"] == 2
    [desc] = index["manifests"]
    assert desc["annotations"]["io.containerd.image.name"] == "localhost/hello:1"
    assert desc["annotations"]["org.opencontainers.image.ref.name"] == "1"
    assert desc["platform"] == host_platform()
    manifest_bytes = _blob(files, desc["digest"])
    assert len(manifest_bytes) == desc["size"]
    manifest = json.loads(manifest_bytes)
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    config = json.loads(_blob(files, manifest["config"]["digest"]))
    [layer_desc] = manifest["layers"]
    assert layer_desc["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    layer = gzip.decompress(_blob(files, layer_desc["digest"]))
    assert config["rootfs"] == {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}
    assert config["config"]["Cmd"] == ["cat", "/hello.txt"]
    assert "GREETING=hi" in config["config"]["Env"]
    assert config["config"]["ExposedPorts"] == {"8080/tcp": {}}
    assert config["architecture"] == host_platform()["architecture"] and config["os"] == "linux"
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["bin/busybox"].mode == 0o755
    assert members["bin/sh"].linkname == "/bin/busybox"
    assert members["run.sh"].mode == 0o755
    assert tar is not None


@needs_busybox
def test_build_is_cached_and_reproducible(tmp_path: Path) -> None:
    a = build_image("web", "x", files={"/f": "1"}, cache_dir=tmp_path / "a")
    assert build_image("web", "x", files={"/f": "1"}, cache_dir=tmp_path / "a") == a
    b = build_image("web", "x", files={"/f": "1"}, cache_dir=tmp_path / "b")
    assert a.name == b.name and a.read_bytes() == b.read_bytes()
    c = build_image("web", "x", files={"/f": "2"}, cache_dir=tmp_path / "a")
    assert c != a
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.endswith(".tmp")]


def test_image_without_busybox_has_only_its_files(tmp_path: Path) -> None:
    path = build_image("scratch-ish", files={"/data": b"\x00\x01"}, busybox=False, cache_dir=tmp_path)
    files = _read_archive(path)
    index = json.loads(files["index.json"])
    manifest = json.loads(_blob(files, index["manifests"][0]["digest"]))
    layer = gzip.decompress(_blob(files, manifest["layers"][0]["digest"]))
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        names = tar.getnames()
    assert "data" in names and "bin/busybox" not in names


@needs_busybox
def test_standard_archive_holds_the_four_images(tmp_path: Path) -> None:
    files = _read_archive(images.standard_archive(tmp_path))
    names = [m["annotations"]["io.containerd.image.name"] for m in json.loads(files["index.json"])["manifests"]]
    assert names == list(images.STANDARD_REFS)


def test_build_archive_rejects_duplicates_and_nothing(tmp_path: Path) -> None:
    spec = ImageSpec.make("web", busybox=False)
    with pytest.raises(ImageError, match="duplicate"):
        build_archive([spec, spec], cache_dir=tmp_path)
    with pytest.raises(ImageError, match="nothing"):
        build_archive([], cache_dir=tmp_path)


def test_missing_busybox_is_a_clear_error(tmp_path: Path) -> None:
    spec = ImageSpec.make("web")
    with pytest.raises(ImageError, match="busybox-static"):
        build_archive([spec], cache_dir=tmp_path, busybox=tmp_path / "no-busybox")
