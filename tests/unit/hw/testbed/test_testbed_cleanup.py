"""Finding and removing what dead containerds leave outside their node's directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hw.testbed import cleanup, procs
from hw.testbed.state import ProcRecord

SB = "a" * 64
OTHER = "b" * 64


def test_shim_sockets_come_from_bundle_address_files(tmp_path: Path) -> None:
    bundle = tmp_path / "io.containerd.runtime.v2.task" / "k8s.io" / SB
    bundle.mkdir(parents=True)
    (bundle / "address").write_text("unix:///run/containerd/s/0123abcd\n")
    odd = tmp_path / "io.containerd.runtime.v2.task" / "k8s.io" / OTHER
    odd.mkdir()
    (odd / "address").write_text("unix:///elsewhere/sock")  # never delete outside the shim dir
    assert cleanup.shim_sockets(tmp_path) == [Path("/run/containerd/s/0123abcd")]


def test_sandbox_ids_and_cni_cache(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "io.containerd.grpc.v1.cri" / "sandboxes" / SB).mkdir(parents=True)
    (root / "io.containerd.grpc.v1.cri" / "sandboxes" / "not-an-id").mkdir()
    assert cleanup.sandbox_ids(root, tmp_path / "missing") == {SB}
    cache = tmp_path / "results"
    cache.mkdir()
    for name in (f"testbed-{SB}-eth0", f"cni-loopback-{SB}-lo", f"testbed-{OTHER}-eth0"):
        (cache / name).write_text("{}")
    cleanup.remove_cni_cache({SB}, cache)
    assert [p.name for p in cache.iterdir()] == [f"testbed-{OTHER}-eth0"]


@pytest.mark.parametrize(
    ("name", "removable"),
    [
        (SB, True),
        ("pod1234-5678", True),
        ("kubepods-besteffort-pod12.slice", True),
        ("kubepods", False),
        ("besteffort", False),
        ("user.slice", False),
        ("process_api", False),
    ],
)
def test_only_container_and_pod_cgroups_are_removed(name: str, removable: bool) -> None:
    assert cleanup._removable(name) is removable


def test_ancestors() -> None:
    assert cleanup._ancestors("/a/b/c") == ["/a/b", "/a", "/"]
    assert cleanup._ancestors("/") == []


def test_mountinfo_unescape() -> None:
    assert cleanup._unescape(r"/var/lib/with\040space") == "/var/lib/with space"


def test_wipe_dir_keeps_the_dir(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "f").write_text("x")
    cleanup.wipe_dir(tmp_path)
    assert tmp_path.is_dir() and not list(tmp_path.iterdir())


def test_processes_found_by_argument_and_descent_then_killed(tmp_path: Path) -> None:
    marker = tmp_path / "node"
    code = "import subprocess, sys, time; subprocess.Popen(['sleep', '600']); time.sleep(600)"
    parent = subprocess.Popen([sys.executable, "-c", code, str(marker / "containerd.sock")])
    try:
        rec = procs.record(parent.pid)
        assert rec is not None and procs.alive(rec)
        for _ in range(200):
            found = procs.descendants(procs.pids_naming([marker]))
            if len(found) == 2:
                break
            subprocess.run(["sleep", "0.02"])
        assert parent.pid in found and len(found) == 2
        assert procs.pids_naming([tmp_path / "other"]) == set()
        procs.kill_all(found)
        parent.wait(timeout=10)
        assert not procs.alive(rec)
    finally:
        parent.kill()
        parent.wait()


def test_alive_guards_against_pid_reuse() -> None:
    rec = procs.record(os.getpid())
    assert rec is not None and procs.alive(rec)
    assert not procs.alive(ProcRecord(pid=rec.pid, start=rec.start + 1))
    assert not procs.alive(None)


def test_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("one\ntwo\nthree\nfour\n")
    assert procs.log_tail(log) == "two | three | four"
    assert procs.log_tail(tmp_path / "missing") == ""
