"""Writes pod statuses to the apiserver: only when they change, latest wins, retried until done.

``set(uid, status)`` records the status a pod worker computed; if it differs from what was last
written for that pod, the uid is queued. A few writer tasks take uids off the queue and PUT the
pod's ``status`` subresource, starting from the API object the informer has (so the write
carries its resourceVersion):

- conditions the kubelet does not own (PodScheduled, DisruptionTarget, readiness gates) are
  taken from the API object, the rest from ``status``;
- 409 Conflict: GET the pod and try again (a few times); a pod whose uid changed (deleted and
  made again under the same name) is left alone;
- 404: the pod is gone, nothing to do;
- unreachable apiserver: kept, and written by the periodic retry once it answers.

Static pods' statuses go to their mirror pods: ``lookup(uid)`` returns the API object a uid's
status belongs to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import msgspec

from master.api.core import Pod, PodStatus
from master.client import errors
from master.client.rest import ApiClient
from master.util.clock import Clock

__all__ = ["StatusManager"]

log = logging.getLogger("picluster.agent.kubelet")

_OURS = ("Initialized", "ContainersReady", "Ready")


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
        self.writes = 0
        self.failures = 0

    def set(self, uid: str, status: PodStatus) -> None:
        self._desired[uid] = status
        if self._written.get(uid) != status:
            self._enqueue(uid)

    def get(self, uid: str) -> PodStatus | None:
        return self._desired.get(uid)

    def forget(self, uid: str) -> None:
        self._desired.pop(uid, None)
        self._written.pop(uid, None)

    def pending(self) -> list[str]:
        return [uid for uid, st in self._desired.items() if self._written.get(uid) != st]

    def _enqueue(self, uid: str) -> None:
        if uid not in self._queued:
            self._queued.add(uid)
            self._queue.put_nowait(uid)

    async def flush(self, uid: str) -> bool:
        """Write ``uid``'s status now (used before confirming a deletion); whether it was written."""
        self._queued.discard(uid)
        return await self._write(uid)

    async def run(self) -> None:
        tasks = [asyncio.create_task(self._writer(), name=f"status-writer-{i}") for i in range(self._writers)]
        tasks.append(asyncio.create_task(self._retry_loop(), name="status-retry"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t

    async def _writer(self) -> None:
        while True:
            uid = await self._queue.get()
            self._queued.discard(uid)
            try:
                await self._write(uid)
            except Exception:
                log.exception("writing the status of pod %s failed", uid)

    async def _retry_loop(self) -> None:
        while True:
            await self._clock.sleep(self._retry_period)
            for uid in self.pending():
                self._enqueue(uid)

    async def _write(self, uid: str) -> bool:
        status = self._desired.get(uid)
        if status is None:
            return True
        api_pod = self._lookup(uid)
        if api_pod is None:
            return False
        owner_uid = api_pod.metadata.uid
        for _ in range(self._conflict_retries + 1):
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
            if self._desired.get(uid) is status:
                self._written[uid] = status
            return True
        return False
