"""What travels from ``pictl master|store|agent`` to the lean process it becomes (see
``master.cli.relaunch``): the checked settings, pickled and base64-encoded into one
environment variable, read back once and checked for their type::

    env = {LAUNCH_ENV: launch.encode(Launch(settings=...))}         # pictl, before the exec
    settings = launch.from_environ(Launch, env=LAUNCH_ENV, what="store settings")  # after it

Unpickling is safe here only because the same program wrote the value a moment earlier.
"""

from __future__ import annotations

import base64
import os
import pickle
from typing import Any, TypeVar

__all__ = ["decode", "encode", "from_environ"]

T = TypeVar("T")


def encode(obj: Any) -> str:
    return base64.b64encode(pickle.dumps(obj)).decode()


def decode(text: str, kind: type[T], *, env: str, what: str) -> T:
    """The object in ``text``; ValueError naming ``env`` when it cannot be read or is not a ``kind``."""
    try:
        obj = pickle.loads(base64.b64decode(text))  # written by this program a moment ago
    except Exception as exc:  # a damaged value can fail in many ways inside pickle
        raise ValueError(f"{env} cannot be read: {exc}") from None
    if not isinstance(obj, kind):
        raise ValueError(f"{env} does not hold {what}")
    return obj


def from_environ(kind: type[T], *, env: str, what: str) -> T:
    """The object ``pictl`` left in the environment variable ``env`` (removed from the environment,
    so the process's children do not inherit it); ValueError when it is missing or damaged."""
    text = os.environ.pop(env, "")
    if not text:
        raise ValueError(f"no {env} in the environment")
    return decode(text, kind, env=env, what=what)
