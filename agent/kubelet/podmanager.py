"""The pods this node should run: API pods bound to it (from the pod informer) and static pods.

Mirror pods (API pods carrying ``kubernetes.io/config.mirror``) are not pods to run: they stand
for static pods. ``status_target(uid)`` says where a pod's status is written: the API pod itself,
or a static pod's mirror.
"""

from __future__ import annotations

from agent.kubelet import keys
from master.api.core import Pod
from master.client.informer import Informer

__all__ = ["UID_INDEX", "PodManager"]

UID_INDEX = "uid"


def uid_index(pod: Pod) -> list[str]:
    return [pod.metadata.uid]


class PodManager:
    def __init__(self, informer: Informer[Pod] | None) -> None:
        self._informer = informer
        if informer is not None:
            informer.add_indexers({UID_INDEX: uid_index})
        self.static: dict[str, Pod] = {}
        self.static_synced = False

    @property
    def synced(self) -> bool:
        return (self._informer is None or self._informer.has_synced) and self.static_synced

    def api_pods(self) -> list[Pod]:
        return self._informer.cache.list() if self._informer is not None else []

    def get(self, uid: str) -> Pod | None:
        pod = self.static.get(uid)
        if pod is not None:
            return pod
        if self._informer is None:
            return None
        for p in self._informer.cache.by_index(UID_INDEX, uid):
            if not keys.is_mirror_pod(p):
                return p
        return None

    def by_name(self, namespace: str, name: str) -> Pod | None:
        for pod in self.static.values():
            if pod.metadata.namespace == namespace and pod.metadata.name == name:
                return pod
        if self._informer is None:
            return None
        found = self._informer.cache.get_by_name(name, namespace)
        return found if found is not None and not keys.is_mirror_pod(found) else None

    def mirror_for(self, uid: str) -> Pod | None:
        pod = self.static.get(uid)
        if pod is None or self._informer is None:
            return None
        mirror = self._informer.cache.get_by_name(pod.metadata.name, pod.metadata.namespace)
        if mirror is not None and mirror.metadata.annotations.get(keys.CONFIG_MIRROR) == uid:
            return mirror
        return None

    def status_target(self, uid: str) -> Pod | None:
        if uid in self.static:
            return self.mirror_for(uid)
        return self.get(uid)

    def pods(self) -> list[Pod]:
        """Every pod to run: API pods (mirrors excluded) and static pods."""
        out = [p for p in self.api_pods() if not keys.is_mirror_pod(p)]
        return out + list(self.static.values())

    def uids(self) -> set[str]:
        return {p.metadata.uid for p in self.pods()}
