"""master.store.main: the lean store process's launch (what ``pictl store`` hands over)."""

from __future__ import annotations

from pathlib import Path

import pytest

from master.store import main
from master.store.server import ServerSettings
from master.store.settings import StoreSettings


def test_launch_round_trip() -> None:
    settings = ServerSettings(store=StoreSettings(data_dir=Path("/tmp/x")), client_urls=("http://127.0.0.1:1",))
    got = main.decode_launch(main.encode_launch(main.Launch(settings, 10, "asyncio")))
    assert (got.log_level, got.event_loop) == (10, "asyncio")
    assert got.settings.client_urls == settings.client_urls
    assert got.settings.store.data_dir == settings.store.data_dir


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("", "started by `pictl store`", id="missing"),
        pytest.param("garbage", "cannot be read", id="not-base64"),
        pytest.param("aGVsbG8=", "cannot be read", id="not-a-pickle"),
        pytest.param("gASVBQAAAAAAAACMAXiULg==", "does not hold store settings", id="other-object"),
    ],
)
def test_bad_launch_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], text: str, fragment: str
) -> None:
    if text:
        monkeypatch.setenv(main.LAUNCH_ENV, text)
    else:
        monkeypatch.delenv(main.LAUNCH_ENV, raising=False)
    assert main.main() == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err, err
