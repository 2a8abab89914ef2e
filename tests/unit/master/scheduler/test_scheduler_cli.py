"""``pictl master`` with the scheduler's flags: bad input is one line on stderr, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from master.cli.main import main


@pytest.fixture
def no_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--components", "bogus"], "invalid --components: unknown component 'bogus'", id="component"),
        pytest.param(["--components", ","], "invalid --components: name at least one", id="no-component"),
        pytest.param(["--leader-elect-lease-duration", "soon"], "invalid --leader-elect-lease-duration 'soon'",
                     id="duration"),
        pytest.param(["--leader-elect-lease-duration", "1s"], "leader election needs 0 < retry_period",
                     id="lease-shorter-than-deadline"),
        pytest.param(["--metrics-bind-address", "ftp://x"], "unsupported URL scheme 'ftp'", id="metrics-address"),
        pytest.param(["--scheduler-config", "/nonexistent/sched.yaml"],
                     "scheduler config /nonexistent/sched.yaml: No such file or directory", id="config-missing"),
        pytest.param(["--components", "scheduler"], "kubeconfig", id="alone-without-kubeconfig"),
        pytest.param(["--components", "scheduler", "--kubeconfig", "/nonexistent/kc"], "/nonexistent/kc",
                     id="alone-bad-kubeconfig"),
    ],
)
@pytest.mark.usefixtures("no_kubeconfig")
def test_bad_flags(args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["master", "--data-dir", str(tmp_path / "data"), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "data").exists(), "nothing is started on bad input"


def test_bad_scheduler_config_contents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "sched.yaml"
    cfg.write_text("profiles: [{plugins: {score: {enabled: [{name: Nope}]}}}]\n")
    assert main(["master", "--data-dir", str(tmp_path / "data"), "--scheduler-config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (f'error: scheduler config {cfg}: profiles[0].plugins.score.enabled[0].name: '
                           'unknown plugin "Nope"')


def test_help_shows_the_scheduler_flags(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["master", "--help"]) == 0
    out = capsys.readouterr().out
    for flag in ("--components", "--kubeconfig", "--leader-elect", "--leader-elect-lease-duration",
                 "--scheduler-config", "--metrics-bind-address"):
        assert flag in out


def test_bad_plugin_args_are_caught_before_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "sched.yaml"
    cfg.write_text("profiles: [{pluginConfig: [{name: NodeResourcesFit, args: {scoringStrategy: {type: X}}}]}]\n")
    assert main(["master", "--data-dir", str(tmp_path / "data"), "--scheduler-config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: profile 'default-scheduler': NodeResourcesFit args: scoringStrategy.type")
    assert not (tmp_path / "data").exists()
