"""What a scheduling cycle reads: ``PodInfo`` (a pod with its requests computed once) and
``NodeInfo`` (a node with the sum of what its pods request, their host ports, its images).

Units, as the kube-scheduler counts them: CPU in millicores, memory and ephemeral storage in
bytes, extended resources (``example.com/gpu``, ``hugepages-2Mi``) in whole units.

A pod's effective request is the larger of (the sum over its containers) and (each init
container alone), plus ``spec.overhead``::

    containers: 100m + 200m, init container: 500m, overhead 10m  ->  max(300m, 500m) + 10m = 510m

Scoring uses "non-zero" requests instead: a container without a cpu (memory) request counts
as 100m (200Mi), so best-effort pods still spread out.

``NodeInfo`` is owned by the scheduler cache and changes in place as pods come and go; a
cycle reads it without yielding to the event loop, so it sees one consistent state. The API
objects inside (``pod``, ``node``) are shared with the informers and never mutated.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from master.api import core, quantity

__all__ = [
    "DEFAULT_MEMORY_REQUEST",
    "DEFAULT_MILLI_CPU_REQUEST",
    "NodeInfo",
    "PodInfo",
    "Resource",
    "normalized_image_name",
]

DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
_WILDCARD_IP = "0.0.0.0"

Port = tuple[str, str, int]  # (hostIP, protocol, hostPort)


@dataclass(slots=True)
class Resource:
    milli_cpu: int = 0
    memory: int = 0
    ephemeral_storage: int = 0
    scalar: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_list(cls, rl: Mapping[str, str]) -> Resource:
        r = cls()
        r.add_list(rl)
        return r

    def add_list(self, rl: Mapping[str, str]) -> None:
        for name, text in rl.items():
            if name == "cpu":
                self.milli_cpu += _milli(text)
            elif name == "memory":
                self.memory += _value(text)
            elif name == "ephemeral-storage":
                self.ephemeral_storage += _value(text)
            elif name != "pods":
                self.scalar[name] = self.scalar.get(name, 0) + _value(text)

    def add(self, other: Resource) -> None:
        self.milli_cpu += other.milli_cpu
        self.memory += other.memory
        self.ephemeral_storage += other.ephemeral_storage
        for k, v in other.scalar.items():
            self.scalar[k] = self.scalar.get(k, 0) + v

    def sub(self, other: Resource) -> None:
        self.milli_cpu -= other.milli_cpu
        self.memory -= other.memory
        self.ephemeral_storage -= other.ephemeral_storage
        for k, v in other.scalar.items():
            left = self.scalar.get(k, 0) - v
            if left:
                self.scalar[k] = left
            else:
                self.scalar.pop(k, None)

    def set_max(self, other: Resource) -> None:
        self.milli_cpu = max(self.milli_cpu, other.milli_cpu)
        self.memory = max(self.memory, other.memory)
        self.ephemeral_storage = max(self.ephemeral_storage, other.ephemeral_storage)
        for k, v in other.scalar.items():
            self.scalar[k] = max(self.scalar.get(k, 0), v)

    def get(self, name: str) -> int:
        if name == "cpu":
            return self.milli_cpu
        if name == "memory":
            return self.memory
        if name == "ephemeral-storage":
            return self.ephemeral_storage
        return self.scalar.get(name, 0)

    def is_zero(self) -> bool:
        return not (self.milli_cpu or self.memory or self.ephemeral_storage or any(self.scalar.values()))


# Quantities and image names are parsed once per distinct string: a cluster uses few of them,
# and every pod the scheduler sees (pending, then again bound) needs them.
_PARSED = 4096


@functools.lru_cache(maxsize=_PARSED)
def _milli(text: str) -> int:
    try:
        return quantity.milli_value(text)
    except quantity.QuantityError:
        return 0


@functools.lru_cache(maxsize=_PARSED)
def _value(text: str) -> int:
    try:
        return quantity.value(text)
    except quantity.QuantityError:
        return 0


@functools.lru_cache(maxsize=_PARSED)
def normalized_image_name(name: str) -> str:
    """The fully qualified reference, as containerd reports it in ``status.images``::

        busybox              -> docker.io/library/busybox:latest
        me/app:1             -> docker.io/me/app:1
        registry.local/app   -> registry.local/app:latest
        app@sha256:...       -> docker.io/library/app@sha256:...
    """
    first, sep, _ = name.partition("/")
    if not sep:
        name = f"docker.io/library/{name}"
    elif not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}"
    if "@" not in name and name.rfind(":") <= name.rfind("/"):
        name = f"{name}:latest"
    return name


class PodInfo:
    """A pod and what the plugins need of it, computed once per pod version."""

    __slots__ = (
        "host_ports",
        "images",
        "key",
        "non_zero_cpu",
        "non_zero_memory",
        "pod",
        "priority",
        "requests",
    )

    def __init__(self, pod: core.Pod) -> None:
        self.pod = pod
        m = pod.metadata
        self.key = sys.intern(f"{m.namespace}/{m.name}")  # the informers' key string, not a copy
        spec = pod.spec
        self.priority = spec.priority or 0
        requests = Resource()
        cpu = mem = 0
        for c in spec.containers:
            rl = c.resources.requests
            if rl:
                requests.add_list(rl)
            cpu += _milli(rl["cpu"]) if "cpu" in rl else DEFAULT_MILLI_CPU_REQUEST
            mem += _value(rl["memory"]) if "memory" in rl else DEFAULT_MEMORY_REQUEST
        for ic in spec.init_containers:
            rl = ic.resources.requests
            if rl:
                requests.set_max(Resource.from_list(rl))
            cpu = max(cpu, _milli(rl["cpu"]) if "cpu" in rl else DEFAULT_MILLI_CPU_REQUEST)
            mem = max(mem, _value(rl["memory"]) if "memory" in rl else DEFAULT_MEMORY_REQUEST)
        if spec.overhead:
            overhead = Resource.from_list(spec.overhead)
            requests.add(overhead)
            cpu += overhead.milli_cpu
            mem += overhead.memory
        self.requests = requests
        self.non_zero_cpu = cpu
        self.non_zero_memory = mem
        ports: list[Port] = []
        for c in spec.containers:
            for p in c.ports:
                if p.host_port > 0:
                    ports.append((p.host_ip or _WILDCARD_IP, p.protocol or "TCP", p.host_port))
        self.host_ports: tuple[Port, ...] = tuple(ports)
        self.images = tuple(
            normalized_image_name(c.image) for c in (*spec.init_containers, *spec.containers) if c.image
        )

    @property
    def namespace(self) -> str:
        return self.pod.metadata.namespace

    @property
    def name(self) -> str:
        return self.pod.metadata.name

    @property
    def uid(self) -> str:
        return self.pod.metadata.uid

    def __repr__(self) -> str:
        return f"PodInfo({self.key})"


class NodeInfo:
    """A node and the pods the scheduler counts on it (bound and assumed).

    ``node`` is None for a node the cache knows only through its pods (the Node object is
    not seen yet, or was deleted while pods remain); such nodes are never candidates.
    """

    __slots__ = (
        "allocatable",
        "allowed_pods",
        "generation",
        "images",
        "name",
        "node",
        "non_zero_cpu",
        "non_zero_memory",
        "pods",
        "requested",
        "taints",
        "used_ports",
    )

    def __init__(self, name: str, node: core.Node | None = None) -> None:
        self.name = name
        self.node: core.Node | None = None
        # The node's taints, kept as an attribute: filters read them for every node visited.
        self.taints: list[core.Taint] = []
        self.allocatable = Resource()
        self.allowed_pods = 0
        self.images: dict[str, int] = {}
        self.requested = Resource()
        self.non_zero_cpu = 0
        self.non_zero_memory = 0
        self.pods: dict[str, PodInfo] = {}
        # (protocol, port) -> {hostIP: how many pods use it}
        self.used_ports: dict[tuple[str, int], dict[str, int]] = {}
        self.generation = 0
        if node is not None:
            self.set_node(node)

    def __repr__(self) -> str:
        return f"NodeInfo({self.name}, pods={len(self.pods)})"

    def set_node(self, node: core.Node | None) -> None:
        self.node = node
        self.generation += 1
        self.taints = node.spec.taints if node is not None else []
        if node is None:
            return
        alloc = node.status.allocatable or node.status.capacity
        self.allocatable = Resource.from_list(alloc)
        try:
            self.allowed_pods = quantity.value(alloc.get("pods", "0"))
        except quantity.QuantityError:
            self.allowed_pods = 0
        images: dict[str, int] = {}
        for img in node.status.images:
            for n in img.names:
                images[normalized_image_name(n)] = img.size_bytes
        self.images = images

    @property
    def labels(self) -> Mapping[str, str]:
        return self.node.metadata.labels if self.node is not None else {}

    def add_pod(self, info: PodInfo) -> None:
        old = self.pods.get(info.key)
        if old is not None:
            self._unaccount(old)
        self.pods[info.key] = info
        self.requested.add(info.requests)
        self.non_zero_cpu += info.non_zero_cpu
        self.non_zero_memory += info.non_zero_memory
        for ip, proto, port in info.host_ports:
            ips = self.used_ports.setdefault((proto, port), {})
            ips[ip] = ips.get(ip, 0) + 1
        self.generation += 1

    def remove_pod(self, key: str) -> PodInfo | None:
        old = self.pods.pop(key, None)
        if old is not None:
            self._unaccount(old)
            self.generation += 1
        return old

    def _unaccount(self, info: PodInfo) -> None:
        self.requested.sub(info.requests)
        self.non_zero_cpu -= info.non_zero_cpu
        self.non_zero_memory -= info.non_zero_memory
        for ip, proto, port in info.host_ports:
            ips = self.used_ports.get((proto, port))
            if ips is None or ip not in ips:
                continue
            ips[ip] -= 1
            if ips[ip] <= 0:
                del ips[ip]
            if not ips:
                del self.used_ports[(proto, port)]

    def port_conflict(self, ports: Iterable[tuple[str, str, int]]) -> bool:
        """True when one of ``ports`` is taken: same protocol and port, and the same host IP or
        a wildcard (0.0.0.0) on either side."""
        used = self.used_ports
        for ip, proto, port in ports:
            ips = used.get((proto, port))
            if not ips:
                continue
            if ip == _WILDCARD_IP or _WILDCARD_IP in ips or ip in ips:
                return True
        return False
