"""The README's main job: ``pictl demo up`` (what ``scripts/demo.sh`` runs after the
bootstrap) on a testbed of its own, run twice, then ``pictl demo down``.

The first run builds the testbed, deploys the web app and returns once every node's NodePort
answers; it prints the nodes, the pods, the URLs and what to try next. The second run reuses
everything (nothing is rebuilt, the apply is unchanged). ``down`` leaves no trace.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hw.testbed import Testbed
from hw.testbed import control as tbcontrol
from master.cli.demo_cmd import NODE_PORT, WEB_APP
from tests.e2e.helpers_e2e import http_get
from tests.fixtures.testbed import require_testbed_tools, traces_of, unique_name

ROOT = Path(__file__).resolve().parents[2]


def test_example_manifest_is_the_demo_app() -> None:
    assert (ROOT / "examples" / "web.yaml").read_text() == WEB_APP
    kinds = [doc["kind"] for doc in yaml.safe_load_all(WEB_APP)]
    assert kinds == ["Deployment", "Service"]


def _demo(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*tbcontrol.pictl_command(), "demo", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "200"})


@pytest.fixture
def demo_name() -> Iterator[str]:
    require_testbed_tools()
    name = unique_name("demo")
    try:
        yield name
    finally:
        Testbed(name).down()


@pytest.mark.root
@pytest.mark.containerd
@pytest.mark.slow
def test_demo_up_twice_then_down(demo_name: str) -> None:
    first = _demo("up", "--name", demo_name)
    assert first.returncode == 0, f"{first.stdout}\n{first.stderr}"
    assert "Traceback" not in first.stderr
    out = first.stdout
    tb = Testbed(demo_name)
    ips = [n.ip for n in tb.nodes]
    assert len(ips) == 3
    assert "picluster demo is up" in out
    assert "$ pictl get nodes -o wide" in out and "$ pictl get pods -o wide" in out
    for name in ("pi-1", "pi-2", "pi-3"):
        assert re.search(rf"^{name}\s+Ready\s", out, re.M), out
    for ip in ips:
        assert re.search(rf"curl http://{re.escape(ip)}:{NODE_PORT}/\s+->\s+1 web-", out), out
    assert f"export KUBECONFIG={tb.kubeconfig}" in out
    assert f"pictl testbed down --name {demo_name}" in out
    # Progress went to stderr, step by step.
    for step in ("1/3", "2/3", "3/3", "deployment.apps/web created", "service/web created"):
        assert step in first.stderr, first.stderr
    for ip in ips:
        assert http_get(f"http://{ip}:{NODE_PORT}/").body.startswith("1 web-")

    again = _demo("up", "--name", demo_name)
    assert again.returncode == 0, f"{again.stdout}\n{again.stderr}"
    assert "already up" in again.stderr, again.stderr
    assert "deployment.apps/web unchanged" in again.stderr and "service/web unchanged" in again.stderr
    assert "picluster demo is up" in again.stdout

    index = tb.state.index
    down = _demo("down", "--name", demo_name)
    assert down.returncode == 0, down.stderr
    assert traces_of(tb, index) == []
    assert _demo("down", "--name", demo_name).returncode == 0  # idempotent


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        pytest.param(["up", "--name", "Not_Valid"], "invalid testbed name", id="bad-name"),
        pytest.param(["up", "--nodes", "0"], "--nodes", id="no-nodes"),
        pytest.param(["up", "--timeout", "-1"], "--timeout", id="bad-timeout"),
        pytest.param(["sideways"], "sideways", id="unknown-verb"),
    ],
)
def test_demo_bad_arguments(args: list[str], expect: str) -> None:
    proc = _demo(*args, timeout=60)
    assert proc.returncode != 0
    assert expect in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
