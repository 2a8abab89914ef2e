"""Builders for scheduler unit tests: nodes, pods, NodeInfos, and a Handle over a cache."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from master.api import core, meta
from master.scheduler.cache import SchedulerCache
from master.scheduler.framework.interface import CycleState
from master.scheduler.framework.status import Code
from master.scheduler.framework.types import NodeInfo, PodInfo

__all__ = ["FakeHandle", "make_node", "make_pod", "node_info", "run_filter", "run_score"]


def make_node(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: int = 110,
    labels: dict[str, str] | None = None,
    taints: Sequence[core.Taint] = (),
    unschedulable: bool = False,
    images: Sequence[tuple[str, int]] = (),
    extra: dict[str, str] | None = None,
) -> core.Node:
    alloc = {"cpu": cpu, "memory": memory, "pods": str(pods), **(extra or {})}
    return core.Node(
        metadata=meta.ObjectMeta(name=name, labels={"kubernetes.io/hostname": name, **(labels or {})}),
        spec=core.NodeSpec(taints=list(taints), unschedulable=unschedulable),
        status=core.NodeStatus(
            capacity=dict(alloc), allocatable=dict(alloc),
            images=[core.ContainerImage(names=[n], size_bytes=size) for n, size in images],
        ),
    )


def make_pod(
    name: str = "p",
    *,
    namespace: str = "default",
    cpu: str = "",
    memory: str = "",
    requests: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    node: str = "",
    image: str = "busybox",
    host_ports: Sequence[int | tuple[str, str, int]] = (),
    uid: str = "",
    **spec: Any,
) -> core.Pod:
    rl = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    rl.update(requests or {})
    ports = []
    for p in host_ports:
        ip, proto, port = p if isinstance(p, tuple) else ("", "", p)
        ports.append(core.ContainerPort(container_port=port, host_port=port, host_ip=ip, protocol=proto))
    container = core.Container(name="c", image=image, resources=core.ResourceRequirements(requests=rl), ports=ports)
    return core.Pod(
        metadata=meta.ObjectMeta(name=name, namespace=namespace, labels=labels or {}, uid=uid or f"uid-{name}"),
        spec=core.PodSpec(containers=[container], node_name=node, **spec),
    )


def node_info(node: core.Node, *pods: core.Pod) -> NodeInfo:
    info = NodeInfo(node.metadata.name, node)
    for p in pods:
        info.add_pod(PodInfo(p))
    return info


class FakeHandle:
    """A Handle over a real ``SchedulerCache`` built from nodes and bound pods."""

    def __init__(self, nodes: Sequence[core.Node] = (), pods: Sequence[core.Pod] = ()) -> None:
        self.cache = SchedulerCache()
        for n in nodes:
            self.cache.add_node(n)
        for p in pods:
            self.cache.add_pod(p)
        self.api: Any = None

    def node_infos(self) -> list[NodeInfo]:
        return self.cache.node_infos()

    def node_info(self, name: str) -> NodeInfo | None:
        return self.cache.node_info(name)

    def image_node_count(self, image: str) -> int:
        return self.cache.image_node_count(image)


def run_filter(plugin: Any, pod: core.Pod, nodes: Sequence[NodeInfo]) -> dict[str, str]:
    """PreFilter (if any) then Filter on every node: {node: "" if it fits, else the reasons}."""
    state = CycleState()
    info = PodInfo(pod)
    pre = getattr(plugin, "pre_filter", None)
    if pre is not None:
        st = pre(state, info, nodes)
        if st is not None and st.code == Code.SKIP:
            return {n.name: "" for n in nodes}
        if st is not None:
            return {n.name: st.message for n in nodes}
    out = {}
    for n in nodes:
        st = plugin.filter(state, info, n)
        out[n.name] = "" if st is None else st.message
    return out


def run_score(plugin: Any, pod: core.Pod, nodes: Sequence[NodeInfo]) -> dict[str, int] | None:
    """PreScore, Score and NormalizeScore: {node: score}, or None when the plugin skips."""
    state = CycleState()
    info = PodInfo(pod)
    pre = getattr(plugin, "pre_score", None)
    if pre is not None:
        st = pre(state, info, nodes)
        if st is not None and st.code == Code.SKIP:
            return None
        assert st is None, st
    scores = [plugin.score(state, info, n) for n in nodes]
    norm = getattr(plugin, "normalize_score", None)
    if norm is not None:
        norm(state, info, scores)
    return {n.name: s for n, s in zip(nodes, scores, strict=True)}
