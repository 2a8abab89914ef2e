"""``pictl agent``: flags, one-line errors, clean SIGTERM; pure pod phase rules."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.kubelet.podstatus import phase_of
from master.api.core import ContainerStatus
from master.cli.agent_cmd import parse_duration
from master.cli.main import main
from tests.fixtures.ports import free_port
from tests.unit.agent.kubelet.kubelet_helpers import make_pod

KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:%d"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    p = tmp_path / "kubeconfig"
    p.write_text(KUBECONFIG % free_port())
    return p


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10s", 10), ("1m30s", 90), ("500ms", 0.5), ("2h", 7200), ("15", 15), ("0.25", 0.25)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text, "--x") == seconds


@pytest.mark.parametrize("text", ["", "ten", "10x", "-5s", "0", "1m-3s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid --x"):
        parse_duration(text, "--x")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param([], "--kubeconfig or --token is required", id="no-kubeconfig"),
        pytest.param(["--kubeconfig", "/nonexistent/kc"], "kubeconfig /nonexistent/kc", id="missing-kubeconfig"),
        pytest.param(["--node-ip", "10.0.0"], "invalid --node-ip", id="node-ip"),
        pytest.param(["--pod-cidr", "10.244.1.1/24"], "invalid --pod-cidr", id="pod-cidr"),
        pytest.param(["--port", "70000"], "invalid --port", id="port"),
        pytest.param(["--container-runtime-endpoint", "tcp://x"], "invalid --container-runtime-endpoint", id="endpoint"),
        pytest.param(["--sync-frequency", "soon"], "invalid --sync-frequency", id="duration"),
        pytest.param(["--disable", "kubelet"], "invalid --disable kubelet", id="disable"),
        pytest.param(["--cluster-dns", "dns.local"], "invalid --cluster-dns", id="cluster-dns"),
        pytest.param(["--max-pods", "0"], "invalid --max-pods", id="max-pods"),
        pytest.param(["--log-level", "loud"], "invalid --log-level", id="log-level"),
    ],
)
def test_bad_flags_are_one_line(args: list[str], message: str, kubeconfig: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    base = [] if "is required" in message else ["--kubeconfig", str(kubeconfig)]
    if args and args[0] == "--kubeconfig":
        base = []
    assert main(["agent", *base, "--node-ip", "10.0.0.5", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_sigterm_stops_the_agent_cleanly(kubeconfig: Path, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "master.cli.main", "agent", "--kubeconfig", str(kubeconfig), "--node-name", "t1",
         "--node-ip", "127.0.0.1", "--container-runtime-endpoint", f"unix://{tmp_path}/none.sock",
         "--data-dir", str(tmp_path / "agent"), "--disable", "network,proxy", "--port", str(free_port()),
         "--address", "127.0.0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines = []
    try:
        assert proc.stdout is not None
        # Wait for the start-up to begin (it then retries while containerd is missing).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if not line or "agent: node t1" in line:
                break
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
        out = "".join(lines) + rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "agent: node t1 (127.0.0.1)" in out and "agent: stopped" in out and "Traceback" not in out


def cs(name: str, state: dict, last: dict | None = None) -> ContainerStatus:
    import msgspec

    return msgspec.convert({"name": name, "state": state, "lastState": last or {}, "ready": False,
                            "restartCount": 0, "image": "x", "imageID": ""}, ContainerStatus)


RUN = {"running": {}}
WAIT = {"waiting": {"reason": "ContainerCreating"}}
OK = {"terminated": {"exitCode": 0}}
FAIL = {"terminated": {"exitCode": 1}}


@pytest.mark.parametrize(
    ("policy", "init", "main_", "phase"),
    [
        pytest.param("Always", [], [cs("a", RUN)], "Running", id="running"),
        pytest.param("Always", [], [cs("a", WAIT)], "Pending", id="waiting"),
        pytest.param("Always", [], [cs("a", RUN), cs("b", WAIT)], "Pending", id="one-waiting"),
        pytest.param("Always", [], [cs("a", {"waiting": {"reason": "CrashLoopBackOff"}}, FAIL)], "Running",
                     id="crashloop-is-running"),
        pytest.param("Never", [], [cs("a", OK), cs("b", OK)], "Succeeded", id="all-succeeded"),
        pytest.param("Never", [], [cs("a", OK), cs("b", FAIL)], "Failed", id="one-failed"),
        pytest.param("OnFailure", [], [cs("a", FAIL)], "Running", id="onfailure-restarts"),
        pytest.param("Always", [cs("i", RUN)], [cs("a", WAIT)], "Pending", id="init-running"),
        pytest.param("Never", [cs("i", FAIL)], [cs("a", WAIT)], "Failed", id="init-failed-never"),
        pytest.param("Always", [cs("i", OK)], [cs("a", RUN)], "Running", id="init-done"),
    ],
)
def test_phase_rules(policy: str, init: list[ContainerStatus], main_: list[ContainerStatus], phase: str) -> None:
    assert phase_of(make_pod(restartPolicy=policy), init, main_) == phase
