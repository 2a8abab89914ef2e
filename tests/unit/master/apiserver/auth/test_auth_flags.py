"""``pictl master`` and ``pictl agent`` security flags: bad values are one readable line."""

from __future__ import annotations

from pathlib import Path

import pytest

from master.cli.main import main


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        pytest.param(["--authorization-mode", "Node,ABAC"], "unknown mode 'ABAC'", id="mode"),
        pytest.param(["--authorization-mode", "RBAC,RBAC"], "named twice", id="mode-twice"),
        pytest.param(["--enable-admission-plugins", "AlwaysPullImages"], "unknown admission plugin", id="plugin"),
        pytest.param(["--token-auth-file", "/nonexistent/tokens.csv"], "--token-auth-file", id="token-file"),
        pytest.param(["--audit-policy-file", "/nonexistent/p.yaml"], "--audit-policy-file", id="policy-file"),
        pytest.param(["--audit-log-maxage", "-1"], "--audit-log-maxage", id="maxage"),
        pytest.param(["--encryption-provider-config", "/nonexistent/e.yaml"], "--encryption-provider-config",
                     id="encryption"),
        pytest.param(["--service-account-issuer", " "], "--service-account-issuer", id="issuer"),
        pytest.param(["--listen-client-urls", "http://0.0.0.0:2379"], "must use TLS", id="store-plaintext"),
        pytest.param(["--cluster-signing-duration", "soon"], "--cluster-signing-duration", id="signing-duration"),
    ],
)
def test_bad_master_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str) -> None:
    code = main(["master", "--data-dir", str(tmp_path), *flags])
    err = capsys.readouterr().err
    assert code != 0
    assert message in err and "Traceback" not in err


def test_bad_token_file_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tokens = tmp_path / "tokens.csv"
    tokens.write_text("tok,alice,1\nonly-two,fields\n")
    code = main(["master", "--data-dir", str(tmp_path / "d"), "--token-auth-file", str(tokens)])
    err = capsys.readouterr().err
    assert code != 0 and "tokens.csv:2" in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        pytest.param(["--token", "abcdef.0123456789abcdef", "--server", "https://10.0.0.1:6443"],
                     "a join token looks like", id="no-ca-pin"),
        pytest.param(["--token", "K10" + "a" * 64 + "::abcdef.0123456789abcdef"], "--token needs --server",
                     id="no-server"),
        pytest.param(["--token", "K10" + "a" * 64 + "::abcdef.0123456789abcdef", "--server", "http://10.0.0.1:6443"],
                     "needs https", id="http-server"),
        pytest.param(["--token", "K10zz::abcdef.0123456789abcdef", "--server", "https://10.0.0.1:6443"],
                     "64 hex digits", id="bad-hash"),
    ],
)
def test_bad_agent_join_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str],
                              message: str) -> None:
    code = main(["agent", "--data-dir", str(tmp_path), "--node-ip", "127.0.0.1", *flags])
    err = capsys.readouterr().err
    assert code != 0
    assert message in err and "Traceback" not in err
    assert "0123456789abcdef" not in err  # the secret is never echoed


def test_a_config_file_value_that_cannot_be_its_tag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Was "error: ValueError: invalid literal for int() with base 10: 'abc'", no flag, no file.
    policy = tmp_path / "policy.yaml"
    policy.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: !!int abc\n")
    code = main(["master", "--data-dir", str(tmp_path / "d"), "--audit-policy-file", str(policy)])
    err = capsys.readouterr().err
    assert code != 0 and err.startswith(f"error: --audit-policy-file {policy}: 'abc' is not a valid YAML int"), err
