"""The bookkeeping the kubelet writes on runtime objects, so a restarted agent adopts what runs.

Labels (filterable in CRI lists) and annotations (returned with each object), the kubelet's own
names::

    sandbox    labels       io.kubernetes.pod.{name,namespace,uid}
               annotations  io.kubernetes.pod.terminationGracePeriod
    container  labels       io.kubernetes.pod.{name,namespace,uid}, io.kubernetes.container.name
               annotations  io.kubernetes.container.hash          hash of the container's spec
                            io.kubernetes.container.restartCount  0, 1, 2, ...
                            io.kubernetes.pod.terminationGracePeriod

A relist groups runtime objects by pod uid; a container whose spec hash differs from the pod's
current spec is restarted; a restarted container is the old one's restart count plus one.

Names on disk: a pod's logs are in ``<log root>/<namespace>_<name>_<uid>/<container>/<n>.log``
(``n`` the restart count), its volumes in ``<data dir>/pods/<uid>/volumes/``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import msgspec

from master.api.core import Container, Pod

__all__ = [
    "CONFIG_HASH",
    "CONFIG_MIRROR",
    "CONFIG_SOURCE",
    "CONTAINER_HASH",
    "CONTAINER_NAME",
    "GRACE_PERIOD",
    "POD_NAME",
    "POD_NAMESPACE",
    "POD_UID",
    "RESTART_COUNT",
    "container_hash",
    "container_labels",
    "is_mirror_pod",
    "is_static_pod",
    "log_dir_name",
    "restart_count",
    "sandbox_labels",
]

POD_NAME = "io.kubernetes.pod.name"
POD_NAMESPACE = "io.kubernetes.pod.namespace"
POD_UID = "io.kubernetes.pod.uid"
CONTAINER_NAME = "io.kubernetes.container.name"
CONTAINER_HASH = "io.kubernetes.container.hash"
RESTART_COUNT = "io.kubernetes.container.restartCount"
GRACE_PERIOD = "io.kubernetes.pod.terminationGracePeriod"

CONFIG_SOURCE = "kubernetes.io/config.source"
CONFIG_HASH = "kubernetes.io/config.hash"
CONFIG_MIRROR = "kubernetes.io/config.mirror"

_ENCODER = msgspec.json.Encoder()


def log_dir_name(namespace: str, name: str, uid: str) -> str:
    return f"{namespace}_{name}_{uid}"


def sandbox_labels(pod: Pod) -> dict[str, str]:
    m = pod.metadata
    return {POD_NAME: m.name, POD_NAMESPACE: m.namespace, POD_UID: m.uid}


def container_labels(pod: Pod, container: Container) -> dict[str, str]:
    return {**sandbox_labels(pod), CONTAINER_NAME: container.name}


def container_hash(container: Container) -> str:
    """A stable hash of everything in the container's spec (8 hex digits).

    The encoding is msgspec's field order, so the same spec hashes the same in every agent run.
    """
    return hashlib.sha256(_ENCODER.encode(container)).hexdigest()[:8]


def restart_count(annotations: Mapping[str, str], default: int = 0) -> int:
    try:
        return int(annotations.get(RESTART_COUNT, default))
    except ValueError:
        return default


def is_static_pod(pod: Pod) -> bool:
    return pod.metadata.annotations.get(CONFIG_SOURCE, "api") not in ("api", "")


def is_mirror_pod(pod: Pod) -> bool:
    return CONFIG_MIRROR in pod.metadata.annotations
