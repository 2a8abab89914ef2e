"""Names and addresses of a testbed, all derived from its name and its registry index.

A testbed with index K owns the LAN 10.77.K.0/24::

    10.77.K.1       the bridge in the root namespace (the host's seat on the LAN)
    10.77.K.10      the master, in netns ``tbK-master``
    10.77.K.(10+n)  pi-n, in netns ``tbK-pi-n`` (n = 1 .. 244)

Kernel names are short and unique per testbed: the bridge is ``tbK-lan`` and the host end of
each node's veth pair has the node's netns name (``tb0-pi-1``); the node end is ``eth0``
inside the node. The longest, ``tb255-pi-244``, has 12 characters (the kernel allows 15).
The default testbed ``picluster`` always has index 0.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from hw.testbed.errors import TestbedError, UnknownNode

__all__ = [
    "DEFAULT_NAME",
    "MASTER",
    "MAX_INDEX",
    "MAX_NODES",
    "Plan",
    "node_name",
    "node_number",
    "validate_name",
]

DEFAULT_NAME = "picluster"
MASTER = "master"
MAX_INDEX = 255
MAX_NODES = 244
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")
_NODE = re.compile(r"^pi-([1-9][0-9]{0,2})$")


def validate_name(name: str) -> str:
    if not _NAME.match(name):
        raise TestbedError(
            f"invalid testbed name {name!r}: lowercase letters, digits and '-', at most 31 characters"
        )
    return name


def node_name(n: int) -> str:
    if not 1 <= n <= MAX_NODES:
        raise TestbedError(f"node number {n} out of range 1..{MAX_NODES}")
    return f"pi-{n}"


def node_number(name: str) -> int:
    """``pi-3`` -> 3, ``master`` -> 0; anything else is UnknownNode."""
    if name == MASTER:
        return 0
    m = _NODE.match(name)
    if not m or int(m.group(1)) > MAX_NODES:
        raise UnknownNode(f"invalid node name {name!r} (want master or pi-1 .. pi-{MAX_NODES})")
    return int(m.group(1))


@dataclass(frozen=True)
class Plan:
    """The kernel names and addresses of testbed ``name`` with registry index ``index``."""

    name: str
    index: int

    def __post_init__(self) -> None:
        validate_name(self.name)
        if not 0 <= self.index <= MAX_INDEX:
            raise TestbedError(f"testbed index {self.index} out of range 0..{MAX_INDEX}")

    @property
    def subnet(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"10.77.{self.index}.0/24")

    @property
    def prefixlen(self) -> int:
        return self.subnet.prefixlen

    @property
    def bridge_ip(self) -> str:
        return str(self.subnet.network_address + 1)

    @property
    def master_ip(self) -> str:
        return str(self.subnet.network_address + 10)

    @property
    def prefix(self) -> str:
        """What every netns and host-side link of this testbed starts with."""
        return f"tb{self.index}-"

    @property
    def bridge(self) -> str:
        return f"{self.prefix}lan"

    def ip(self, node: str) -> str:
        return str(self.subnet.network_address + 10 + node_number(node))

    def netns(self, node: str) -> str:
        node_number(node)
        return f"{self.prefix}{node}"

    def veth(self, node: str) -> str:
        return self.netns(node)

    def server_url(self, port: int = 6443) -> str:
        return f"https://{self.master_ip}:{port}"
