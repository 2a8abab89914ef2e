"""Errors of the testbed.

The tree::

    TestbedError                anything the testbed cannot do; the message is one readable line
    ├── TestbedNotFound         no testbed of that name (``up`` it first)
    ├── TestbedExists           ``up`` of a testbed that already runs with other parameters
    ├── TestbedBusy             another command holds the testbed's lock
    ├── UnknownNode             no simulated Pi (or master) of that name in this testbed
    └── ComponentFailed         containerd, the master or an agent did not start or get ready;
                                ``.log`` is the path of its log file

Expected outcomes (a node that is down, an agent that is not installed) are values in
``NodeStatus``, not exceptions.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ComponentFailed", "TestbedBusy", "TestbedError", "TestbedExists", "TestbedNotFound", "UnknownNode"]


class TestbedError(Exception):
    __test__ = False  # not a pytest test class, despite the name


class TestbedNotFound(TestbedError):
    pass


class TestbedExists(TestbedError):
    pass


class TestbedBusy(TestbedError):
    pass


class UnknownNode(TestbedError):
    pass


class ComponentFailed(TestbedError):
    def __init__(self, message: str, *, log: Path | None = None) -> None:
        super().__init__(message)
        self.log = log
