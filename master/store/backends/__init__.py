"""Store backends by name: ``memory`` (tests, nothing survives close) and ``sqlite`` (the default)."""

from __future__ import annotations

from collections.abc import Callable

from master.store.backend import Backend
from master.store.backends.memory import MemoryBackend
from master.store.backends.sqlite import SqliteBackend
from master.store.settings import StoreSettings

__all__ = ["BACKENDS", "new_backend"]

BACKENDS: dict[str, Callable[[StoreSettings], Backend]] = {
    "memory": MemoryBackend,
    "sqlite": SqliteBackend,
}


def new_backend(settings: StoreSettings) -> Backend:
    try:
        factory = BACKENDS[settings.backend]
    except KeyError:
        names = ", ".join(sorted(BACKENDS))
        raise ValueError(f"unknown store backend {settings.backend!r} (known: {names})") from None
    return factory(settings)
