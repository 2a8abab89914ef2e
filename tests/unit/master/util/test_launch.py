"""master.util.launch: settings handed to the lean process, and damaged values refused."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from master.util import launch


@dataclass(frozen=True)
class Settings:
    data_dir: str
    level: int = 20


def test_round_trip() -> None:
    text = launch.encode(Settings("/var/lib/picluster"))
    assert launch.decode(text, Settings, env="X_LAUNCH", what="settings") == Settings("/var/lib/picluster")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "X_LAUNCH cannot be read", id="empty"),
        pytest.param("garbage!", "X_LAUNCH cannot be read", id="not-base64"),
        pytest.param("aGVsbG8=", "X_LAUNCH cannot be read", id="not-a-pickle"),
        pytest.param(launch.encode(("a", 1)), "X_LAUNCH does not hold settings", id="other-object"),
    ],
)
def test_damaged_values_are_a_value_error(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        launch.decode(text, Settings, env="X_LAUNCH", what="settings")


def test_from_environ_takes_the_value_out_of_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_LAUNCH", launch.encode(Settings("/d")))
    assert launch.from_environ(Settings, env="X_LAUNCH", what="settings") == Settings("/d")
    with pytest.raises(ValueError, match="no X_LAUNCH in the environment"):
        launch.from_environ(Settings, env="X_LAUNCH", what="settings")
