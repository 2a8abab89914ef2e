"""Writes pod statuses to the apiserver: only when they change, latest wins, retried until done.

``set(uid, status)`` records the status a pod worker computed; if it differs from what was last
written for that pod, or the API object's status no longer matches it, the uid is queued. A
few writer tasks take uids off the queue and PUT the pod's ``status`` subresource, starting from
the API object the informer has (so the write carries its resourceVersion):

- one write per pod at a time, always of the latest status (two writers racing on one pod
  could otherwise land an older status last, after a conflict retry);

- conditions the kubelet does not own (PodScheduled, DisruptionTarget, readiness gates) are
  taken from the API object, the rest from ``status``;
- 409 Conflict: GET the pod and try again (a few times); a pod whose uid changed (deleted and
  made again under the same name) is left alone;
- 404: the pod is gone, nothing to do;
- unreachable apiserver: kept, and written by the periodic retry once it answers.

The API object can also change behind the kubelet's back: the node lifecycle controller marks
the pods of a NotReady node not ready (``Ready=False``), and nobody but the kubelet sets them
ready again. So the periodic pass also rewrites every pod whose API status differs from the
kubelet's (upstream's ``needsReconcile``); without it such a pod stays not ready for good::

    t=0  kubelet writes Ready=True            (written == desired)
    t=0  controller, node still NotReady in its cache, patches Ready=False
    t=1  node Ready; the kubelet recomputes Ready=True == written: nothing queued

Static pods' statuses go to their mirror pods: ``lookup(uid)`` returns the API object a uid's
status belongs to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import msgspec

from master.api.core import Pod, PodStatus
from master.client import errors
from master.client.rest import ApiClient
from master.util.clock import Clock
from master.util.tasks import cancel_and_wait

__all__ = ["StatusManager"]

log = logging.getLogger("picluster.agent.kubelet")

_OURS = ("Initialized", "ContainersReady", "Ready")
_TERMINAL = ("Succeeded", "Failed")


def merged(api_pod: Pod, status: PodStatus) -> PodStatus:
    """``status`` with the API object's conditions that the kubelet does not own."""
    foreign = [c for c in api_pod.status.conditions if c.type not in _OURS]
    ours = [c for c in status.conditions if c.type in _OURS]
    foreign_types = {c.type for c in foreign}
    extra = [c for c in status.conditions if c.type not in _OURS and c.type not in foreign_types]
    return msgspec.structs.replace(status, conditions=foreign + extra + ours)


class StatusManager:
    def __init__(
        self,
        api: ApiClient,
        *,
        lookup: Callable[[str], Pod | None],
        clock: Clock,
        writers: int = 4,
        retry_period: float = 5.0,
        conflict_retries: int = 3,
    ) -> None:
        self._api = api
        self._lookup = lookup
        self._clock = clock
        self._writers = writers
        self._retry_period = retry_period
        self._conflict_retries = conflict_retries
        self._desired: dict[str, PodStatus] = {}
        self._written: dict[str, PodStatus] = {}
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._queued: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        # uid -> the resourceVersion our last write replaced: an informer copy still at it
        # has not seen that write yet, and is no sign of drift.
        self._replaced: dict[str, str] = {}
        self.writes = 0
        self.failures = 0

    def set(self, uid: str, status: PodStatus) -> None:
        self._desired[uid] = status
        if self._unwritten(uid, status):
            self._enqueue(uid)

    def get(self, uid: str) -> PodStatus | None:
        return self._desired.get(uid)

    def forget(self, uid: str) -> None:
        self._desired.pop(uid, None)
        self._written.pop(uid, None)
        self._locks.pop(uid, None)
        self._replaced.pop(uid, None)

    def pending(self) -> list[str]:
        """Pods whose latest status is not written yet, or was overwritten in the API since."""
        return [uid for uid, st in self._desired.items() if self._unwritten(uid, st)]

    def _unwritten(self, uid: str, status: PodStatus) -> bool:
        return self._written.get(uid) != status or self._drifted(uid, status)

    def _drifted(self, uid: str, status: PodStatus) -> bool:
        """Whether the API object (as the informer has it) carries another status than ``status``.

        Not while a write of the pod runs, nor before the informer has seen the last one.
        """
        lock = self._locks.get(uid)
        if lock is not None and lock.locked():
            return False
        api_pod = self._lookup(uid)
        if api_pod is None or api_pod.metadata.resource_version == self._replaced.get(uid):
            return False
        if api_pod.status.phase in _TERMINAL and status.phase not in _TERMINAL:
            return False  # a finished pod is never brought back to life
        return api_pod.status != merged(api_pod, status)

    def _lock(self, uid: str) -> asyncio.Lock:
        lock = self._locks.get(uid)
        if lock is None:
            lock = self._locks[uid] = asyncio.Lock()
        return lock

    def _enqueue(self, uid: str) -> None:
        if uid not in self._queued:
            self._queued.add(uid)
            self._queue.put_nowait(uid)

    async def flush(self, uid: str) -> bool:
        """Write ``uid``'s status now (used before confirming a deletion); whether it was written."""
        self._queued.discard(uid)
        async with self._lock(uid):
            return await self._write(uid)

    async def run(self) -> None:
        tasks = [asyncio.create_task(self._writer(), name=f"status-writer-{i}") for i in range(self._writers)]
        tasks.append(asyncio.create_task(self._retry_loop(), name="status-retry"))
        try:
            await asyncio.gather(*tasks)
        finally:
            await cancel_and_wait(tasks)

    async def _writer(self) -> None:
        while True:
            uid = await self._queue.get()
            self._queued.discard(uid)
            try:
                async with self._lock(uid):
                    await self._write(uid)
            except Exception:
                log.exception("writing the status of pod %s failed", uid)

    async def _retry_loop(self) -> None:
        while True:
            await self._clock.sleep(self._retry_period)
            for uid in self.pending():
                self._enqueue(uid)

    async def _write(self, uid: str) -> bool:
        """Write the latest status of ``uid`` (the caller holds its lock)."""
        api_pod = self._lookup(uid)
        if api_pod is None:
            return uid not in self._desired
        owner_uid = api_pod.metadata.uid
        for _ in range(self._conflict_retries + 1):
            status = self._desired.get(uid)
            if status is None:
                return True
            new_status = merged(api_pod, status)
            if api_pod.status == new_status:
                self._written[uid] = status
                return True
            try:
                await self._api.update_status(msgspec.structs.replace(api_pod, status=new_status))
            except errors.Conflict:
                try:
                    api_pod = await self._api.get(Pod, api_pod.metadata.name, namespace=api_pod.metadata.namespace)
                except errors.NotFound:
                    return True
                except errors.ClientError as exc:
                    self.failures += 1
                    log.debug("pod %s: re-reading after a conflict failed: %s", uid, exc)
                    return False
                if api_pod.metadata.uid != owner_uid:
                    return True
                continue
            except errors.NotFound:
                return True
            except errors.ClientError as exc:
                self.failures += 1
                log.debug("pod %s: status write failed (will retry): %s", uid, exc)
                return False
            self.writes += 1
            self._replaced[uid] = api_pod.metadata.resource_version
            if self._desired.get(uid) is status:
                self._written[uid] = status
            return True
        return False
