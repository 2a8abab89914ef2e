"""Bad input and unreachable servers: one readable line on stderr, a non-zero exit, nothing sent.

No server runs here: a kubeconfig points at a loopback port nothing listens on.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from master.cli.kube import errors as cli_errors
from master.cli.main import main
from master.client import errors as client_errors
from master.client import kubeconfig


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    port = _closed_port()
    path = tmp_path / "kubeconfig"
    kubeconfig.write(str(path), kubeconfig.build(server=f"https://127.0.0.1:{port}", token="t"))
    monkeypatch.setenv("KUBECONFIG", str(path))
    return f"127.0.0.1:{port}"


def _one_line_error(code: int, err: str, message: str) -> None:
    assert code != 0
    assert message in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["get", "pods"], id="get"),
        pytest.param(["-n", "kube-system", "get", "pods"], id="leading-namespace"),
        pytest.param(["describe", "node", "pi-1"], id="describe"),
        pytest.param(["delete", "pod", "x"], id="delete"),
        pytest.param(["logs", "x"], id="logs"),
        pytest.param(["scale", "deploy/x", "--replicas=1"], id="scale"),
        pytest.param(["rollout", "status", "deploy/x"], id="rollout"),
        pytest.param(["cordon", "pi-1"], id="cordon"),
        pytest.param(["top", "nodes"], id="top"),
        pytest.param(["events"], id="events"),
        pytest.param(["label", "pod", "x", "a=b"], id="label"),
        pytest.param(["version"], id="version"),
    ],
)
def test_server_down(down: str, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(argv)
    captured = capsys.readouterr()
    _one_line_error(code, captured.err,
                    f"error: The connection to the server {down} was refused - did you specify the right host or port?")


def test_apply_with_server_down(down: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "cm.yaml"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    code = main(["apply", "-f", str(f)])
    _one_line_error(code, capsys.readouterr().err, "was refused")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: a: b\n",
                     "bad.yaml: line 5: mapping values are not allowed", id="broken-yaml"),
        pytest.param("apiVersion: v1\nkind: Foo\nmetadata: {name: a}\n",
                     'no matches for kind "Foo" in version "v1"', id="unknown-kind"),
        pytest.param("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n",
                     'The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"', id="bad-name"),
        pytest.param("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "resource name may not be empty",
                     id="no-name"),
        pytest.param("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: Bad_NS}\n",
                     'metadata.namespace: Invalid value: "Bad_NS"', id="bad-namespace"),
    ],
)
def test_bad_manifests_fail_before_any_request(down: str, tmp_path: Path, text: str, message: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    for verb in ("apply", "create"):
        code = main([verb, "-f", str(f)])
        err = capsys.readouterr().err
        _one_line_error(code, err, message)
        assert "refused" not in err  # rejected locally: the (dead) server was never asked


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["get", "foo"], 'the server doesn\'t have a resource type "foo"', id="unknown-type"),
        pytest.param(["get", "pods", "-o", "xml"], 'unable to match a printer suitable for the output format "xml"',
                     id="bad-output"),
        pytest.param(["get", "pods", "x", "-A"], "a resource cannot be retrieved by name across all namespaces",
                     id="name-and-all-namespaces"),
        pytest.param(["delete", "pods"], "resource(s) were provided, but no name was specified", id="delete-nothing"),
        pytest.param(["delete", "pods", "--cascade=sideways"], "invalid --cascade", id="bad-cascade"),
        pytest.param(["apply"], "must specify one of -f", id="apply-nothing"),
        pytest.param(["apply", "-f", "/nonexistent.yaml"], 'the path "/nonexistent.yaml" does not exist',
                     id="missing-file"),
        pytest.param(["apply", "-f", "x", "--dry-run=maybe"], "Invalid dry-run value", id="bad-dry-run"),
        pytest.param(["scale", "pod/x", "--replicas=1"], "pods cannot be scaled", id="scale-pod"),
        pytest.param(["rollout", "undo", "svc/x"], "rollout undo is not supported for services", id="rollout-svc"),
        pytest.param(["label", "pod", "x", "bad key=1"], 'invalid label spec: "bad key=1"', id="bad-label"),
        pytest.param(["get", "pods", "--request-timeout", "soon"], "invalid --request-timeout", id="bad-timeout"),
        pytest.param(["top", "pods", "--sort-by=disk"], "--sort-by accepts only cpu or memory", id="bad-sort"),
        pytest.param(["create", "widget", "x"], 'unknown kind "widget" for create', id="create-unknown"),
        pytest.param(["create", "deployment", "x"], 'required flag(s) "image" not set', id="create-no-image"),
        pytest.param(["logs", "x", "-f", "-p"], "only one of --follow and --previous", id="logs-flags"),
    ],
)
def test_bad_arguments(down: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(argv)
    _one_line_error(code, capsys.readouterr().err, message)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        pytest.param("missing", "No such file or directory", id="missing"),
        pytest.param("broken", "not valid YAML", id="broken"),
        pytest.param("no-context", 'context "nope" not found', id="unknown-context"),
    ],
)
def test_bad_kubeconfig(tmp_path: Path, setup: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "kubeconfig"
    argv = ["get", "pods", "--kubeconfig", str(path)]
    if setup == "broken":
        path.write_text("clusters: [\n")
    elif setup == "no-context":
        kubeconfig.write(str(path), kubeconfig.build(server="https://127.0.0.1:1"))
        argv += ["--context", "nope"]
    code = main(argv)
    _one_line_error(code, capsys.readouterr().err, message)


@pytest.mark.parametrize(
    ("exc", "context", "want"),
    [
        pytest.param(client_errors.NotFound('pods "x" not found', code=404), "",
                     'Error from server (NotFound): pods "x" not found', id="not-found"),
        pytest.param(client_errors.NotFound('namespaces "n" not found', code=404), 'error when creating "a.yaml"',
                     'Error from server (NotFound): error when creating "a.yaml": namespaces "n" not found',
                     id="with-context"),
        pytest.param(client_errors.Invalid('Pod "x" is invalid: spec: Required value', code=422), "",
                     'The Pod "x" is invalid: spec: Required value', id="invalid"),
        pytest.param(client_errors.Unauthorized("Unauthorized", code=401), "",
                     "error: You must be logged in to the server (Unauthorized)", id="unauthorized"),
        pytest.param(client_errors.InternalError("boom\nsecond line", code=500), "",
                     "Error from server (InternalError): boom second line", id="multi-line-message"),
    ],
)
def test_api_error_lines(exc: client_errors.ApiError, context: str, want: str) -> None:
    assert cli_errors.api_line(exc, context) == want
