"""pictl config: merged views, redaction, and writes that keep what pictl does not know."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from master.cli.main import main

FIRST = """\
apiVersion: v1
kind: Config
clusters:
- name: pi
  cluster: {server: "https://10.77.0.10:6443", certificate-authority-data: Q0E=}
users:
- name: admin
  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ, token: s3cret}
- name: robot
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token}
contexts:
- name: admin@pi
  context: {cluster: pi, user: admin}
- name: robot@pi
  context: {cluster: pi, user: robot, namespace: ops}
current-context: admin@pi
"""
SECOND = """\
apiVersion: v1
kind: Config
clusters:
- name: pi
  cluster: {server: "https://shadowed:6443"}
- name: lab
  cluster: {server: "https://10.0.0.1:6443"}
contexts:
- name: lab
  context: {cluster: lab, user: admin}
current-context: lab
"""


@pytest.fixture
def kubeconfigs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(FIRST)
    b.write_text(SECOND)
    monkeypatch.setenv("KUBECONFIG", f"{a}:{tmp_path / 'missing.yaml'}:{b}")
    return a, b


def test_view_merges_and_redacts(kubeconfigs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "view"]) == 0
    doc = yaml.safe_load(capsys.readouterr().out)
    assert doc["current-context"] == "admin@pi"  # the first file's wins
    assert [c["name"] for c in doc["clusters"]] == ["pi", "lab"]
    assert doc["clusters"][0]["cluster"]["server"] == "https://10.77.0.10:6443"
    assert doc["clusters"][0]["cluster"]["certificate-authority-data"] == "DATA+OMITTED"
    admin = doc["users"][0]["user"]
    assert admin == {"client-certificate-data": "DATA+OMITTED", "client-key-data": "DATA+OMITTED",
                     "token": "REDACTED"}
    assert doc["users"][1]["user"]["exec"]["command"] == "get-token"  # fields pictl does not use are kept


def test_view_raw_and_minify(kubeconfigs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "view", "--raw", "--minify", "-o", "json"]) == 0
    import json

    doc = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in doc["contexts"]] == ["admin@pi"]
    assert doc["users"][0]["user"]["token"] == "s3cret"


def test_contexts(kubeconfigs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "get-contexts"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]
    assert lines[1].split() == ["*", "admin@pi", "pi", "admin"]
    assert lines[2].split() == ["robot@pi", "pi", "robot", "ops"]
    assert main(["config", "current-context"]) == 0
    assert capsys.readouterr().out == "admin@pi\n"


def test_use_and_set_context_write_the_right_files(kubeconfigs: tuple[Path, Path],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    a, b = kubeconfigs
    assert main(["config", "use-context", "lab"]) == 0
    assert capsys.readouterr().out == 'Switched to context "lab".\n'
    assert yaml.safe_load(a.read_text())["current-context"] == "lab"  # the file that had one set
    assert yaml.safe_load(a.read_text())["users"][1]["user"]["exec"]["command"] == "get-token"
    assert main(["config", "set-context", "--current", "--namespace", "dev"]) == 0
    assert capsys.readouterr().out == 'Context "lab" modified.\n'
    assert yaml.safe_load(b.read_text())["contexts"][0]["context"]["namespace"] == "dev"  # where "lab" lives
    assert main(["config", "set-context", "new", "--cluster", "pi", "--user", "admin"]) == 0
    assert 'Context "new" created.' in capsys.readouterr().out
    assert oct(a.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["config", "use-context", "nope"], 'no context exists with the name: "nope"', id="unknown"),
        pytest.param(["config", "get-contexts", "nope"], "context nope not found", id="get-unknown"),
        pytest.param(["config", "view", "-o", "xml"], "unable to match a printer", id="format"),
        pytest.param(["config", "view", "--kubeconfig", "/nonexistent"], "kubeconfig /nonexistent: no such file",
                     id="missing-file"),
    ],
)
def test_errors(kubeconfigs: tuple[Path, Path], argv: list[str], message: str,
                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1


def test_broken_kubeconfig(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad"
    bad.write_text("clusters: [\n")
    assert main(["config", "view", "--kubeconfig", str(bad)]) == 1
    assert "not valid YAML" in capsys.readouterr().err


def test_a_tagged_value_that_does_not_fit_is_not_valid_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Was "error: ValueError: invalid literal for int() with base 10: 'abc'".
    bad = tmp_path / "tagged"
    bad.write_text("apiVersion: v1\nkind: Config\ncurrent-context: !!int abc\n")
    assert main(["config", "use-context", "x", "--kubeconfig", str(bad)]) == 1
    assert capsys.readouterr().err == f"error: kubeconfig {bad}: line 3: not valid YAML\n"
