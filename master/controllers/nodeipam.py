"""nodeipam: a pod CIDR per node, cut from ``--cluster-cidr`` in ``/--node-cidr-mask-size`` blocks.

Before its workers start, the controller marks the CIDRs nodes already have as used (so a
restart keeps every node's range and never hands one out twice). ``sync(node)``:

- a node without ``spec.podCIDR`` gets the next free block (``spec.podCIDR`` and
  ``spec.podCIDRs``, one patch); when none is left, a ``CIDRNotAvailable`` Warning event is
  recorded on the node and it is looked at again later;
- a node with one keeps it (and it is marked used, also when another controller set it);
- a deleted node's block is released.

Blocks are handed out round-robin from the last one given, so a just-released block is not
at once reused by the next new node (its routes may still be in place on other nodes).
"""

from __future__ import annotations

import ipaddress
import logging

from master.api import core
from master.client import errors
from master.client.events import WARNING
from master.controllers.context import ControllerContext

__all__ = ["CidrSet", "NodeIpamController", "new"]

log = logging.getLogger(__name__)

NAME = "nodeipam"
# A node the range has no room for is looked at again after this long.
EXHAUSTED_RECHECK = 30.0


def new(ctx: ControllerContext) -> NodeIpamController:
    return NodeIpamController(ctx)


class CidrSet:
    """The blocks of one cluster CIDR: which are used, and the next to try."""

    def __init__(self, cluster: ipaddress.IPv4Network, mask: int) -> None:
        self.cluster = cluster
        self.mask = mask
        self.size = 1 << (mask - cluster.prefixlen)
        self._used: set[int] = set()
        self._next = 0

    def _index(self, cidr: str) -> int | None:
        try:
            net = ipaddress.IPv4Network(cidr, strict=False)
        except ValueError:
            return None
        if net.prefixlen != self.mask or not net.subnet_of(self.cluster):
            return None
        return (int(net.network_address) - int(self.cluster.network_address)) >> (32 - self.mask)

    def _block(self, index: int) -> str:
        base = int(self.cluster.network_address) + (index << (32 - self.mask))
        return f"{ipaddress.IPv4Address(base)}/{self.mask}"

    def occupy(self, cidr: str) -> bool:
        """Mark ``cidr`` used; False when it is not a block of this set."""
        index = self._index(cidr)
        if index is None:
            return False
        self._used.add(index)
        return True

    def release(self, cidr: str) -> None:
        index = self._index(cidr)
        if index is not None:
            self._used.discard(index)

    def allocate(self) -> str | None:
        """The next free block (round-robin), or None when every block is used."""
        for step in range(self.size):
            index = (self._next + step) % self.size
            if index not in self._used:
                self._used.add(index)
                self._next = (index + 1) % self.size
                return self._block(index)
        return None

    def __len__(self) -> int:
        return len(self._used)


class NodeIpamController:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        self.api = ctx.api
        self.recorder = ctx.recorder
        self.enabled = ctx.settings.allocate_node_cidrs
        self.cidrs = CidrSet(ctx.settings.cluster_network(), ctx.settings.node_cidr_mask_size)
        self.nodes = ctx.nodes()
        # node name -> the block we know it has (to release it when the node goes).
        self.assigned: dict[str, str] = {}
        self.loop = ctx.loop(NAME, self.sync)
        self.nodes.add_event_handler(
            on_add=self.loop.enqueue, on_update=self._updated, on_delete=self.loop.enqueue
        )

    def _updated(self, old: core.Node, new: core.Node) -> None:
        if old is new or old.spec.pod_cidr != new.spec.pod_cidr or not new.spec.pod_cidr:
            self.loop.enqueue(new)

    async def run(self) -> None:
        if not self.enabled:
            return
        for node in self.nodes.cache.list():
            self._occupy(node)
        await self.loop.run()

    def _occupy(self, node: core.Node) -> None:
        cidr = node.spec.pod_cidr
        if not cidr or self.assigned.get(node.metadata.name) == cidr:
            return
        previous = self.assigned.pop(node.metadata.name, None)
        if previous is not None:
            self.cidrs.release(previous)
        if self.cidrs.occupy(cidr):
            self.assigned[node.metadata.name] = cidr
        else:
            log.warning("nodeipam: node %s has podCIDR %s outside %s", node.metadata.name, cidr, self.cidrs.cluster)

    async def sync(self, name: str) -> float | None:
        node = self.nodes.cache.get(name)
        if node is None:
            cidr = self.assigned.pop(name, None)
            if cidr is not None:
                self.cidrs.release(cidr)
                log.info("nodeipam: released %s of deleted node %s", cidr, name)
            return None
        if node.spec.pod_cidr:
            self._occupy(node)
            return None
        cidr = self.cidrs.allocate()
        if cidr is None:
            self.recorder.event(
                node, WARNING, "CIDRNotAvailable",
                f"Node {name} status is now: CIDRNotAvailable (no free /{self.cidrs.mask} in {self.cidrs.cluster})",
            )
            return EXHAUSTED_RECHECK
        patch = {"metadata": {"uid": node.metadata.uid}, "spec": {"podCIDR": cidr, "podCIDRs": [cidr]}}
        try:
            await self.api.patch(core.Node, name, patch)
        except errors.ClientError:
            self.cidrs.release(cidr)
            raise
        self.assigned[name] = cidr
        log.info("nodeipam: node %s gets podCIDR %s", name, cidr)
        return None
