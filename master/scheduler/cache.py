"""The scheduler cache: a ``NodeInfo`` per node, counting bound pods and *assumed* ones.

A pod the scheduler has chosen a node for is assumed on it at once (``assume``), before the
binding reaches the apiserver, so the next cycle already sees the node's resources taken.
Then one of::

    assume(p, n) -> finish_binding(p) -> informer shows p on n -> add_pod(p): confirmed
    assume(p, n) -> binding fails -> forget(p): the node's resources are free again

An assumed pod that the informer shows on another node (another scheduler won) moves there.

Nodes come from the node informer, bound pods from the pod informer; the cache never
mutates those objects. A node whose Node object is not known (its pods arrived first, or it
was deleted while pods remain) is kept for accounting but is no candidate.

Candidates (``node_infos()``) are ordered zone by zone, round robin (a node from each zone in
turn), so a cycle that stops after finding enough feasible nodes still sees every zone.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from master.api import core
from master.scheduler.framework.types import NodeInfo, PodInfo

__all__ = ["ZONE_LABELS", "SchedulerCache"]

ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")


@dataclass(slots=True)
class _PodState:
    info: PodInfo
    node: str
    assumed: bool
    binding_finished: bool = False


class SchedulerCache:
    def __init__(self) -> None:
        self._nodes: dict[str, NodeInfo] = {}
        self._pods: dict[str, _PodState] = {}
        self._image_nodes: dict[str, set[str]] = {}
        self._candidates: list[NodeInfo] | None = None

    # ---- reads -----------------------------------------------------------------------------

    def node_infos(self) -> list[NodeInfo]:
        """Every node with a Node object, zones interleaved. The list is shared: do not modify it."""
        if self._candidates is None:
            self._candidates = _interleave_zones(n for n in self._nodes.values() if n.node is not None)
        return self._candidates

    def node_info(self, name: str) -> NodeInfo | None:
        return self._nodes.get(name)

    def image_node_count(self, image: str) -> int:
        nodes = self._image_nodes.get(image)
        return len(nodes) if nodes else 0

    def is_assumed(self, key: str) -> bool:
        st = self._pods.get(key)
        return st is not None and st.assumed

    def pod_node(self, key: str) -> str | None:
        st = self._pods.get(key)
        return st.node if st is not None else None

    def pod_count(self) -> int:
        return len(self._pods)

    def assumed_count(self) -> int:
        return sum(1 for st in self._pods.values() if st.assumed)

    # ---- nodes -----------------------------------------------------------------------------

    def add_node(self, node: core.Node) -> NodeInfo:
        name = node.metadata.name
        info = self._nodes.get(name)
        if info is None:
            info = self._nodes[name] = NodeInfo(name)
        was_candidate = info.node is not None
        old_zone = _zone(info.node) if info.node is not None else None
        self._forget_images(info)
        info.set_node(node)
        self._remember_images(info)
        if not was_candidate or old_zone != _zone(node):
            self._candidates = None
        return info

    update_node = add_node

    def remove_node(self, name: str) -> None:
        info = self._nodes.get(name)
        if info is None:
            return
        self._forget_images(info)
        self._candidates = None
        if info.pods:
            info.set_node(None)
        else:
            del self._nodes[name]

    def _remember_images(self, info: NodeInfo) -> None:
        for image in info.images:
            self._image_nodes.setdefault(image, set()).add(info.name)

    def _forget_images(self, info: NodeInfo) -> None:
        for image in info.images:
            nodes = self._image_nodes.get(image)
            if nodes is not None:
                nodes.discard(info.name)
                if not nodes:
                    del self._image_nodes[image]

    # ---- pods ------------------------------------------------------------------------------

    def assume(self, info: PodInfo, node_name: str) -> None:
        """Count ``info`` on ``node_name`` before it is bound. The pod must not be in the cache."""
        if info.key in self._pods:
            raise ValueError(f"pod {info.key} is already in the scheduler cache")
        self._pods[info.key] = _PodState(info, node_name, assumed=True)
        self._node_for(node_name).add_pod(info)

    def finish_binding(self, key: str) -> None:
        st = self._pods.get(key)
        if st is not None and st.assumed:
            st.binding_finished = True

    def forget(self, key: str, uid: str = "") -> None:
        """Undo ``assume`` (the binding failed). A pod already confirmed by the informer stays,
        and so does another pod of the same name (``uid`` given and different)."""
        st = self._pods.get(key)
        if st is None or not st.assumed or (uid and st.info.uid != uid):
            return
        del self._pods[key]
        self._remove_from_node(st.node, key)

    def add_pod(self, pod: core.Pod) -> None:
        """A bound pod seen by the informer: confirms an assumed pod, or counts a new one."""
        info = PodInfo(pod)
        node = pod.spec.node_name
        st = self._pods.get(info.key)
        if st is not None:
            self._remove_from_node(st.node, info.key)
        self._pods[info.key] = _PodState(info, node, assumed=False)
        self._node_for(node).add_pod(info)

    def update_pod(self, old: core.Pod, new: core.Pod) -> None:
        self.add_pod(new)

    def remove_pod(self, pod: core.Pod) -> None:
        """A deleted pod frees its node, whether bound or still assumed (its binding, if it is
        still running, then fails or finds nothing to confirm)."""
        key = f"{pod.metadata.namespace}/{pod.metadata.name}"
        st = self._pods.get(key)
        if st is None or (pod.metadata.uid and st.info.uid and st.info.uid != pod.metadata.uid):
            return
        del self._pods[key]
        self._remove_from_node(st.node, key)

    def _node_for(self, name: str) -> NodeInfo:
        info = self._nodes.get(name)
        if info is None:
            info = self._nodes[name] = NodeInfo(name)
        return info

    def _remove_from_node(self, name: str, key: str) -> None:
        info = self._nodes.get(name)
        if info is None:
            return
        info.remove_pod(key)
        if info.node is None and not info.pods:
            del self._nodes[name]


def _zone(node: core.Node) -> str:
    labels = node.metadata.labels
    for key in ZONE_LABELS:
        if key in labels:
            return labels[key]
    return ""


def _interleave_zones(nodes: Iterable[NodeInfo]) -> list[NodeInfo]:
    zones: dict[str, list[NodeInfo]] = {}
    for info in nodes:
        zones.setdefault(_zone(info.node) if info.node is not None else "", []).append(info)
    out: list[NodeInfo] = []
    for row in itertools.zip_longest(*zones.values()):
        out.extend(n for n in row if n is not None)
    return out
