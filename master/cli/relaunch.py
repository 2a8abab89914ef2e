"""Becoming the lean component process: ``pictl master``, ``pictl store`` and ``pictl agent``
check their flags here, then replace themselves (same pid) with a Python that imports only
the component, without typer, click, rich and pydantic (~10 MB less RSS for the life of the
component). The checked settings travel in an environment variable the new process reads::

    relaunch.exec_python("import agent.main as m; raise SystemExit(m.main())", {LAUNCH_ENV: text})
    raise SystemExit(run(launch))   # only reached when the interpreter cannot be executed

The code is given with ``-c``, not ``-m``: the settings' classes must load under their own
module names, not as ``__main__``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping, Sequence

__all__ = ["exec_python"]


def exec_python(code: str, env: Mapping[str, str], argv: Sequence[str] = ()) -> None:
    """Replace this process with ``python -c code *argv`` with ``env`` added to the environment;
    returns only when that cannot be done (no interpreter, exec failed)."""
    if not sys.executable:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    with contextlib.suppress(OSError):
        os.execve(sys.executable, [sys.executable, "-c", code, *argv], {**os.environ, **env})
