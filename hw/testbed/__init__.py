"""The simulated Pi testbed: network namespaces on a bridge, each with its own containerd and agent.

``Testbed`` is the library (tests and the README's main job use it); ``pictl testbed`` is the
command for people. See ``testbed.py`` for a tour, ``faults.py`` for what can be broken, and
``layout.py`` for what lives where on disk.
"""

from hw.testbed.errors import (
    ComponentFailed,
    TestbedBusy,
    TestbedError,
    TestbedExists,
    TestbedNotFound,
    UnknownNode,
)
from hw.testbed.faults import ACTIONS, Fault
from hw.testbed.naming import DEFAULT_NAME, MASTER, Plan
from hw.testbed.registry import Registry
from hw.testbed.testbed import Node, NodeStatus, ProcStatus, Progress, Testbed, TestbedSettings

__all__ = [
    "ACTIONS",
    "DEFAULT_NAME",
    "MASTER",
    "ComponentFailed",
    "Fault",
    "Node",
    "NodeStatus",
    "Plan",
    "ProcStatus",
    "Progress",
    "Registry",
    "Testbed",
    "TestbedBusy",
    "TestbedError",
    "TestbedExists",
    "TestbedNotFound",
    "TestbedSettings",
    "UnknownNode",
]
