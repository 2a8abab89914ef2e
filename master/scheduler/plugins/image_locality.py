"""ImageLocality: prefer nodes that already have the pod's images, weighted by how widely each
image is spread (an image on one node of a hundred counts little: pulling it elsewhere is
likely cheap next time too)::

    sum   = Σ over the pod's images on this node: size * (nodes with the image / all nodes)
    score = 100 * (clamp(sum, 23MB, 1000MB * containers) - 23MB) / (1000MB * containers - 23MB)

Image names compare normalized (``busybox`` is ``docker.io/library/busybox:latest``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from master.scheduler.framework import status
from master.scheduler.framework.interface import MAX_NODE_SCORE, CycleState, Handle
from master.scheduler.framework.status import Status
from master.scheduler.framework.types import NodeInfo, PodInfo

__all__ = ["MAX_CONTAINER_THRESHOLD", "MIN_THRESHOLD", "NAME", "ImageLocality", "new"]

NAME = "ImageLocality"
_MB = 1024 * 1024
MIN_THRESHOLD = 23 * _MB
MAX_CONTAINER_THRESHOLD = 1000 * _MB
_SCORE_KEY = f"PreScore{NAME}"


class ImageLocality:
    name = NAME

    def __init__(self, handle: Handle) -> None:
        self._handle = handle

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        spread = {img: self._handle.image_node_count(img) for img in pod.images}
        if not any(spread.values()):
            return status.SKIP
        total = max(len(self._handle.node_infos()), 1)
        state.write(_SCORE_KEY, ({img: n / total for img, n in spread.items() if n}, len(pod.images)))
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        spread, containers = state.read(_SCORE_KEY)
        images = node.images
        total = 0
        for img, fraction in spread.items():
            size = images.get(img)
            if size:
                total += int(size * fraction)
        return scaled(total, containers)


def scaled(total: int, containers: int) -> int:
    top = MAX_CONTAINER_THRESHOLD * max(containers, 1)
    total = min(max(total, MIN_THRESHOLD), top)
    return MAX_NODE_SCORE * (total - MIN_THRESHOLD) // (top - MIN_THRESHOLD)


def new(args: Mapping[str, Any], handle: Handle) -> ImageLocality:
    return ImageLocality(handle)
