"""agent.main started without usable settings: one line and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from agent import main


@pytest.mark.parametrize("text", [pytest.param("", id="missing"), pytest.param("bm90IGEgcGlja2xl", id="damaged")])
def test_bad_launch_is_one_line(text: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != main.LAUNCH_ENV}
    if text:
        env[main.LAUNCH_ENV] = text
    out = subprocess.run([sys.executable, "-c", "import agent.main as m; raise SystemExit(m.main())"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2
    assert out.stderr.startswith("error: ") and len(out.stderr.strip().splitlines()) == 1, out.stderr
