"""Unit tests: a per-test timeout of 60 s instead of the suite's 300 s (pyproject).

The slowest unit test takes about 7 s on a loaded 2-core machine; a unit test still running
after 60 s hangs (a fake clock never advanced, a future never set), and should cost CI one
minute, not five. A test may ask for more with ``@pytest.mark.timeout(...)``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

UNIT_TIMEOUT = 60.0

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Conftest hooks see every collected item, not only this directory's.
    for item in items:
        if item.path.is_relative_to(_HERE) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(UNIT_TIMEOUT))
