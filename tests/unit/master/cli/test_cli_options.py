"""Global flags, durations, kubectl-style booleans and pictl's start-up registration."""

from __future__ import annotations

import inspect

import pytest
import typer

from master.cli import main as cli_main
from master.cli.kube import options
from master.cli.main import CLIError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0.0), ("30", 30.0), ("30s", 30.0), ("1m30s", 90.0), ("2h", 7200.0), ("500ms", 0.5), ("1.5m", 90.0),
     ("2562047h", 9223369200.0)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert options.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "5x", "-1", "1m-3s", "nan", "inf", "1e400", "2562048h", "1e300"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(CLIError):
        options.parse_duration(text)


def test_a_ttl_past_go_durations_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    # Was "error: OverflowError: Python int too large to convert to C int" (before any request).
    assert cli_main.main(["token", "create", "--ttl", "99999999999h", "--kubeconfig", "/nonexistent"]) == 1
    assert capsys.readouterr().err == ("error: invalid --ttl '99999999999h': longer than the longest duration "
                                       "(2562047h)\n")


def test_bool_flags() -> None:
    flags = {"--wait": "--no-wait", "--force": ""}
    assert options.bool_flags(["pods", "--wait=false", "--force=true", "--force=false", "--wait=TRUE"], flags) == [
        "pods", "--no-wait", "--force", "--wait"]
    assert options.bool_flags(["--", "--wait=false"], flags) == ["--", "--wait=false"]
    assert options.bool_flags(["--other=false"], flags) == ["--other=false"]


def test_kube_command_adds_the_global_flags() -> None:
    seen: list[options.Globals] = []

    @options.kube_command
    def cmd(name: str = typer.Argument(...), *, g: options.Globals) -> None:
        seen.append(g)

    params = inspect.signature(cmd).parameters
    assert list(params) == ["name", "kubeconfig", "context", "namespace", "server", "request_timeout"]
    cmd(name="x", kubeconfig="/k", context=None, namespace="ns", server=None, request_timeout="1m")
    assert seen == [options.Globals(kubeconfig="/k", namespace="ns", request_timeout=60.0)]


def test_leading_global_flags_move_behind_the_verb() -> None:
    assert cli_main._split_leading_flags(["-n", "x", "--kubeconfig=/k", "get", "pods"]) == (
        ["-n", "x", "--kubeconfig=/k"], ["get", "pods"])
    assert cli_main._split_leading_flags(["get", "-n", "x"]) == ([], ["get", "-n", "x"])


def test_help_lists_the_client_verbs(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main.main(["--help"]) == 0
    out = capsys.readouterr().out
    for verb in ("get", "describe", "apply", "create", "delete", "logs", "scale", "rollout", "label", "annotate",
                 "cordon", "uncordon", "drain", "top", "events", "config", "version", "patch", "wait",
                 "api-resources"):
        assert verb in out


def test_verb_help_works_alone(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main.main(["get", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--kubeconfig" in out and "--all-namespaces" in out
