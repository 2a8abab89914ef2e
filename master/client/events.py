"""The event recorder: core/v1 Events about objects, aggregated and rate limited.

``recorder.event(pod, "Normal", "Scheduled", "Successfully assigned default/web to pi-1")``
returns at once; a background task writes the Event. What it writes follows client-go's
recorder, at a simple level:

- an Event lives in the involved object's namespace ("default" for cluster-scoped objects),
  named ``<object name>.<hex nanoseconds>``, with ``involvedObject``, ``reason``, ``message``,
  ``type``, ``source`` (component, host), ``count`` and first/last timestamps;
- a repeat of the same (object, type, reason, message) within ``aggregate_window`` seconds
  is not a new Event: the existing one is patched with ``count + 1`` and a new
  ``lastTimestamp`` (if that Event is gone, a new one is created);
- spam filter: each involved object has a token bucket (``burst`` events, then one per
  ``refill_seconds``); events beyond it are dropped, as are events when the send queue is
  full. Losing an event is better than blocking a controller.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import OrderedDict
from dataclasses import dataclass

from master.api import core, meta, timefmt
from master.client import errors
from master.client.rest import ApiClient
from master.util.clock import Clock, RealClock

__all__ = ["NORMAL", "WARNING", "EventRecorder", "RecorderSettings"]

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"


@dataclass(frozen=True, slots=True)
class RecorderSettings:
    aggregate_window: float = 600.0
    burst: int = 25
    refill_seconds: float = 300.0
    queue_size: int = 1000
    cache_size: int = 4096
    retries: int = 3


@dataclass(slots=True)
class _Pending:
    key: tuple[str, ...]
    namespace: str
    ref: core.ObjectReference
    type: str
    reason: str
    message: str
    at: float


@dataclass(slots=True)
class _Seen:
    name: str
    namespace: str
    count: int
    first: str
    last_at: float


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class EventRecorder:
    def __init__(
        self,
        api: ApiClient,
        *,
        component: str,
        host: str = "",
        settings: RecorderSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.api = api
        self.source = core.EventSource(component=component, host=host)
        self.settings = settings or RecorderSettings()
        self.clock = clock or RealClock()
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(self.settings.queue_size)
        self._seen: OrderedDict[tuple[str, ...], _Seen] = OrderedDict()
        self._buckets: OrderedDict[tuple[str, ...], _Bucket] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._suffix = itertools.count(1)
        self.dropped = 0

    def event(self, obj: meta.Object, type: str, reason: str, message: str) -> None:
        """Record an event about ``obj`` (``type`` is NORMAL or WARNING). Never blocks, never raises."""
        m = obj.metadata
        ref = core.ObjectReference(
            kind=obj.kind,
            api_version=obj.api_version,
            namespace=m.namespace,
            name=m.name,
            uid=m.uid,
            resource_version=m.resource_version,
        )
        obj_key = (obj.kind, m.namespace, m.name, m.uid)
        if not self._allow(obj_key):
            self.dropped += 1
            return
        pending = _Pending(
            key=(*obj_key, type, reason, message),
            namespace=m.namespace or "default",
            ref=ref,
            type=type,
            reason=reason,
            message=message,
            at=self.clock.time(),
        )
        try:
            self._queue.put_nowait(pending)
        except asyncio.QueueFull:
            self.dropped += 1
            return
        if self._task is None:
            with contextlib.suppress(RuntimeError):  # no running loop: the caller starts us later
                self._task = asyncio.get_running_loop().create_task(self._run(), name="event-recorder")

    def _allow(self, obj_key: tuple[str, ...]) -> bool:
        now = self.clock.monotonic()
        s = self.settings
        b = self._buckets.get(obj_key)
        if b is None:
            b = _Bucket(float(s.burst), now)
            self._buckets[obj_key] = b
            if len(self._buckets) > s.cache_size:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(obj_key)
            b.tokens = min(float(s.burst), b.tokens + (now - b.at) / s.refill_seconds)
            b.at = now
        if b.tokens < 1.0:
            return False
        b.tokens -= 1.0
        return True

    async def flush(self) -> None:
        """Wait until every recorded event has been written (or given up)."""
        await self._queue.join()

    async def aclose(self) -> None:
        """Write what is queued, then stop."""
        if self._task is not None:
            await self.flush()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            pending = await self._queue.get()
            try:
                await self._write(pending)
            except errors.ClientError as exc:
                # Expected refusals (a namespace being deleted, the server away): one line.
                log.warning("event %s/%s for %s dropped: %s", pending.reason, pending.type, pending.ref.name, exc)
            except Exception:
                log.exception("event %s/%s for %s dropped", pending.reason, pending.type, pending.ref.name)
            finally:
                self._queue.task_done()

    async def _write(self, p: _Pending) -> None:
        for attempt in range(self.settings.retries + 1):
            try:
                await self._write_once(p)
                return
            except (
                errors.ConnectionError,
                errors.ServerTimeout,
                errors.InternalError,
                errors.TooManyRequests,
            ) as exc:
                if attempt == self.settings.retries:
                    log.warning("event %s for %s not written: %s", p.reason, p.ref.name, exc)
                    return
                await self.clock.sleep(0.5 * 2**attempt)

    async def _write_once(self, p: _Pending) -> None:
        stamp = timefmt.format_time(p.at)
        seen = self._seen.get(p.key)
        if seen is not None and p.at - seen.last_at <= self.settings.aggregate_window:
            patch = {"count": seen.count + 1, "lastTimestamp": stamp, "message": p.message}
            try:
                await self.api.patch(core.Event, seen.name, patch, namespace=seen.namespace)
            except errors.NotFound:
                pass
            else:
                seen.count += 1
                seen.last_at = p.at
                self._seen.move_to_end(p.key)
                return
        name = f"{p.ref.name}.{int(p.at * 1e9):x}"
        ev = core.Event(
            metadata=meta.ObjectMeta(name=name, namespace=p.namespace),
            involved_object=p.ref,
            reason=p.reason,
            message=p.message,
            type=p.type,
            source=self.source,
            first_timestamp=stamp,
            last_timestamp=stamp,
            count=1,
            reporting_component=self.source.component,
            reporting_instance=self.source.host,
        )
        try:
            await self.api.create(ev)
        except errors.AlreadyExists:
            # Two events for one object in the same instant: make the second name unique.
            ev.metadata.name = f"{name}{next(self._suffix):x}"
            await self.api.create(ev)
        self._seen[p.key] = _Seen(
            name=ev.metadata.name, namespace=p.namespace, count=1, first=stamp, last_at=p.at
        )
        if len(self._seen) > self.settings.cache_size:
            self._seen.popitem(last=False)
