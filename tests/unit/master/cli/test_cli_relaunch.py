"""master.cli.relaunch: the process becomes ``python -c code`` with the added environment."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import os
from master.cli import relaunch
print(os.getpid(), flush=True)
relaunch.exec_python("import os, sys; print(os.getpid(), os.environ['W6_LAUNCH'], sys.argv[1:])",
                     {"W6_LAUNCH": "settings"}, ["--data-dir", "/x"])
print("not replaced")
"""


def test_replaces_the_process_with_env_and_argv() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True)
    before, after = out.stdout.splitlines()
    pid, rest = after.split(" ", 1)
    assert pid == before, "the same process"
    assert rest == "settings ['--data-dir', '/x']"
