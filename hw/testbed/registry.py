"""The registry of testbeds on this machine: name -> index (which 10.77.K.0/24 it owns).

One JSON file, ``<root>/registry.json``, changed only under an exclusive ``flock`` so testbeds
made at the same time (parallel tests, several users) never get the same index. The default
testbed ``picluster`` always gets index 0; the others take the lowest free index from 1, skipping
any the caller says is busy (a leftover bridge or route from something else on the LAN range).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from hw.testbed.errors import TestbedError
from hw.testbed.naming import DEFAULT_NAME, MAX_INDEX, validate_name

__all__ = ["Registry"]


class Registry:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "registry.json"
        self._lock_path = root / ".registry.lock"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, int]]:
        """Yield the table under the lock; changes made to it are saved on exit."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise TestbedError(f"cannot open the testbed registry in {self.root}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            table = self._read()
            before = dict(table)
            yield table
            if table != before:
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(json.dumps(dict(sorted(table.items())), indent=1) + "\n")
                tmp.replace(self.path)
        finally:
            os.close(fd)

    def _read(self) -> dict[str, int]:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            # A damaged registry must not block cleanup; the state files hold the indices too.
            return {}
        if not isinstance(raw, dict):
            return {}
        return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, int)}

    def entries(self) -> dict[str, int]:
        with self._locked() as table:
            return dict(table)

    def get(self, name: str) -> int | None:
        return self.entries().get(name)

    def allocate(self, name: str, busy: Callable[[int], bool] = lambda _i: False) -> int:
        """The index of ``name``, allocating one if it has none."""
        validate_name(name)
        with self._locked() as table:
            if name in table:
                return table[name]
            if name == DEFAULT_NAME:
                if 0 in table.values():
                    raise TestbedError("index 0 is taken by another testbed (registry damaged?)")
                table[name] = 0
                return 0
            used = set(table.values())
            for index in range(1, MAX_INDEX + 1):
                if index not in used and not busy(index):
                    table[name] = index
                    return index
        raise TestbedError(f"no free testbed index (all of 10.77.1-{MAX_INDEX}.0/24 are in use)")

    def release(self, name: str) -> None:
        with self._locked() as table:
            table.pop(name, None)
