"""Watching verbs (``get -w``, ``events -w``) as subprocesses, and events in describe."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests.integration.cli.conftest import PICTL, Cluster


@contextmanager
def _running(cluster: Cluster, *argv: str) -> Iterator[queue.Queue[str]]:
    """The installed pictl, its stdout lines in a queue; interrupted (Ctrl-C) and reaped at the end."""
    # A suite started in the background (`cmd &` in a script) ignores SIGINT, and children inherit
    # an ignored signal: pictl would never see the Ctrl-C. A handler of our own is not inherited.
    saved = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen([str(PICTL), *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig)})
    finally:
        signal.signal(signal.SIGINT, saved)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        yield lines
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate(timeout=10)
            raise AssertionError(f"pictl {' '.join(argv)} did not stop on Ctrl-C") from None
        assert "Traceback" not in (err or "")


def _next(lines: queue.Queue[str], want: str, timeout: float = 30) -> list[str]:
    """Lines up to and including the first containing ``want``."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no line with {want!r} in {seen}"
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            continue
        seen.append(line)
        if want in line:
            return seen


def test_get_watch_prints_changes(cluster: Cluster, ns: str) -> None:
    cluster.ok("create", "-n", ns, "cm", "first", "--from-literal=a=1")
    with _running(cluster, "get", "-n", ns, "cm", "-w") as lines:
        seen = _next(lines, "first")
        assert seen[0].split() == ["NAME", "DATA", "AGE"]
        cluster.ok("create", "-n", ns, "cm", "second", "--from-literal=a=1", "--from-literal=b=2")
        row = _next(lines, "second")[-1].split()
        assert row[:2] == ["second", "2"]
        cluster.ok("label", "-n", ns, "cm", "first", "x=y")
        assert _next(lines, "first")[-1].split()[:2] == ["first", "1"]


def test_get_watch_yaml_of_one_object(cluster: Cluster, ns: str) -> None:
    cluster.ok("create", "-n", ns, "cm", "one", "--from-literal=a=1")
    with _running(cluster, "get", "-n", ns, "cm", "one", "-w", "-o", "name") as lines:
        assert _next(lines, "configmap/one") == ["configmap/one"]
        cluster.ok("create", "-n", ns, "cm", "other")
        cluster.ok("annotate", "-n", ns, "cm", "one", "n=1")
        assert _next(lines, "configmap/") == ["configmap/one"]  # "other" is not watched


def test_get_watch_ends_after_request_timeout(cluster: Cluster, ns: str) -> None:
    # As kubectl's: --request-timeout bounds the watch, which then ends quietly with exit 0.
    cluster.ok("create", "-n", ns, "cm", "one", "--from-literal=a=1")
    result = cluster.pictl("get", "-n", ns, "cm", "-w", "-o", "name", "--request-timeout=1s")
    assert (result.code, result.out, result.err) == (0, "configmap/one\n", "")


def _event(ns: str, name: str, uid: str, reason: str, message: str, kind: str = "ConfigMap") -> dict[str, object]:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{name}.{reason.lower()}{time.monotonic_ns()}", "namespace": ns},
            "involvedObject": {"kind": kind, "name": name, "namespace": ns, "apiVersion": "v1", "uid": uid},
            "reason": reason, "message": message, "type": "Normal", "count": 1,
            "firstTimestamp": now, "lastTimestamp": now, "source": {"component": "tester"}}


def test_events_and_describe(cluster: Cluster, ns: str) -> None:
    cluster.ok("create", "-n", ns, "cm", "c")
    uid = cluster.ok("get", "-n", ns, "cm", "c", "-o", "jsonpath={.metadata.uid}")
    code, answer = cluster.request("POST", f"/api/v1/namespaces/{ns}/events",
                                   json=_event(ns, "c", uid, "Poked", "hello"))
    assert code == 201, answer
    lines = cluster.ok("events", "-n", ns).splitlines()
    assert lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert lines[1].split()[1:] == ["Normal", "Poked", "ConfigMap/c", "hello"]
    assert "Poked" in cluster.ok("events", "-n", ns, "--for", "cm/c")
    assert cluster.ok("events", "-n", ns, "--for", "cm/other") == ""
    assert cluster.pictl("events", "-n", ns, "--types=Warning").err == f"No events found in {ns} namespace.\n"
    described = cluster.ok("describe", "-n", ns, "cm", "c").splitlines()
    assert described[-3:-1] == ["  Type    Reason  Age  From    Message", "  ----    ------  ----  ----    -------"] \
        or described[-3].split() == ["Type", "Reason", "Age", "From", "Message"]
    last = described[-1].split()
    assert last[:2] == ["Normal", "Poked"] and last[-2:] == ["tester", "hello"]
    with _running(cluster, "events", "-n", ns, "-w") as watched:
        _next(watched, "Poked")
        cluster.request("POST", f"/api/v1/namespaces/{ns}/events", json=_event(ns, "c", uid, "Prodded", "again"))
        assert "again" in _next(watched, "Prodded")[-1]
