"""``pictl testbed`` turns bad input into one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import pytest

from master.cli.main import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["testbed", "fault", "pi-1", "explode", "--name", "tnone"], "unknown fault 'explode'",
                     id="unknown-fault"),
        pytest.param(["testbed", "status", "--name", "tnone0000"], "no testbed named 'tnone0000'", id="no-testbed"),
        pytest.param(["testbed", "status", "--name", "Bad Name"], "invalid testbed name", id="bad-name"),
        pytest.param(["testbed", "kubeconfig", "--name", "tnone0000"], "no testbed named", id="no-kubeconfig"),
        pytest.param(["testbed", "up", "--image", "/nonexistent.tar", "--name", "tnone0000"], "no such file",
                     id="missing-image"),
    ],
)
def test_errors_are_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["testbed", "--help"]) == 0
    out = capsys.readouterr().out
    for command in ("up", "down", "status", "exec", "fault", "kubeconfig", "add-node"):
        assert command in out
