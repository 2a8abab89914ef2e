"""The route helper's protocol (JSON both ways) and HelperRoutes' caching and failures, with a
stand-in helper program; the real helper on a kernel is in tests/integration/agent."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from agent.network import routes_apply
from agent.network.routes import Route, RouteChanges, RouteError

CHANGES = RouteChanges(
    added=(Route("10.244.2.0/24", "10.77.0.12"),),
    removed=(Route("10.96.0.0/12", dev="eth0"),),
    errors=((Route("10.244.9.0/24", "192.0.2.9"), "route 10.244.9.0/24 via 192.0.2.9: Network is unreachable"),),
)
DESIRED = {"10.244.2.0/24": Route("10.244.2.0/24", "10.77.0.12")}


def test_changes_round_trip() -> None:
    assert routes_apply.changes_from_json(routes_apply.changes_to_json(CHANGES)) == CHANGES


@pytest.mark.parametrize("text", ["[]", '{"added": [{"gateway": "x"}]}', '{"added": [{"dst": 1}]}', "nope"])
def test_nonsense_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        routes_apply.changes_from_json(text)


def helper(tmp_path: Path, *, stdout: str = "", code: int = 0, stderr: str = "") -> tuple[str, Path]:
    """A stand-in for ``python``: records its stdin and answers ``stdout``."""
    log = tmp_path / "calls"
    script = tmp_path / "fake-python"
    script.write_text(f"#!/bin/sh\ncat >> {log}; echo >> {log}\nprintf '%s' '{stdout}'\n"
                      f"printf '%s' '{stderr}' >&2\nexit {code}\n")
    script.chmod(0o755)
    return str(script), log


def test_runs_only_when_something_changed_or_the_resync_is_due(tmp_path: Path) -> None:
    python, log = helper(tmp_path, stdout=routes_apply.changes_to_json(RouteChanges(added=(DESIRED["10.244.2.0/24"],))))
    now = [0.0]
    routes = routes_apply.HelperRoutes(python=python, resync=300, clock=lambda: now[0])
    assert routes.reconcile(DESIRED).added == (DESIRED["10.244.2.0/24"],)
    assert json.loads(log.read_text().splitlines()[0]) == {
        "routes": [{"dst": "10.244.2.0/24", "gateway": "10.77.0.12", "dev": None}]}
    now[0] = 299.0
    assert routes.reconcile(dict(DESIRED)) == RouteChanges()  # the same routes: no process
    assert routes.runs == 1
    routes.reconcile({})  # another set
    now[0] = 1000.0
    routes.reconcile({})  # due again
    assert routes.runs == 3


def test_a_run_with_route_errors_is_retried_next_time(tmp_path: Path) -> None:
    python, _ = helper(tmp_path, stdout=routes_apply.changes_to_json(CHANGES))
    routes = routes_apply.HelperRoutes(python=python)
    assert routes.reconcile(DESIRED).errors
    routes.reconcile(DESIRED)
    assert routes.runs == 2


@pytest.mark.parametrize(
    ("stdout", "code", "stderr", "message"),
    [
        pytest.param("", 1, "routes_apply: cannot open a netlink route socket: Permission denied",
                     "the route helper failed (1): routes_apply: cannot open", id="failed"),
        pytest.param("garbage", 0, "", "answered nonsense", id="nonsense"),
    ],
)
def test_helper_failures_are_route_errors(tmp_path: Path, stdout: str, code: int, stderr: str,
                                          message: str) -> None:
    python, _ = helper(tmp_path, stdout=stdout, code=code, stderr=stderr)
    with pytest.raises(RouteError) as info:
        routes_apply.HelperRoutes(python=python).reconcile(DESIRED)
    assert message in str(info.value)


def test_a_missing_python_is_a_route_error(tmp_path: Path) -> None:
    with pytest.raises(RouteError, match="cannot run the route helper"):
        routes_apply.HelperRoutes(python=str(tmp_path / "no-python")).reconcile(DESIRED)


@pytest.mark.parametrize("stdin", ["", "{}", '{"routes": [{"dst": 5}]}'])
def test_main_refuses_bad_input(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                stdin: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert routes_apply.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("routes_apply: bad input") and err.count("\n") == 1
