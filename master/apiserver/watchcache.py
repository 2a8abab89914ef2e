"""The watch cache: one store watch per resource, fanned out to any number of HTTP watchers.

It holds the current objects of one resource (as ready-to-send JSON bytes with their
resourceVersion, plus the labels and selectable fields each watcher filters on) and a ring of
the most recent events. A watcher starting at resourceVersion N gets the events after N from the
ring, then live ones; N older than the ring's window gets 410 Gone (the client relists). A
watcher with no N (or N = 0) gets a synthetic ADDED for every current object first.

Worked example of the window (capacity 3)::

    start: list at rev 10               window_start 10, events []
    events at 11, 12, 13                window_start 10, events [11 12 13]
    event at 14 pushes 11 out           window_start 11, events [12 13 14]
    watch from 11 -> replays 12 13 14;  watch from 10 -> 410 Gone

Filtering follows Kubernetes: an update that makes an object match a watcher's selector is sent
as ADDED, one that makes it stop matching as DELETED.

Fan-out is indexed, as kube-apiserver's watch cache is: a watcher whose field selector pins an
index field (``spec.nodeName=pi-1`` for pods, ``metadata.name=x`` for anything) is filed under
that value, and an event is offered only to the watchers filed under its object's (and previous
object's) values plus the watchers filed under none. With an agent watch per node, a pod event
costs two lookups, not a predicate per node.

Slow-watcher policy: each watcher has a bounded backlog; a watcher whose backlog is full when an
event arrives is closed. It still sends what was queued (a gapless run of events), then its HTTP
stream ends and the client re-watches from its last resourceVersion, or relists on 410. Nothing
queued is dropped: a client that got events after a dropped one would resume past it and never
see it. The cache never buffers without bound for anyone.

When the store watch fails it is resumed from the last revision; if that revision was compacted
the cache relists, moves its window to the new revision and closes every watcher.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from master.apiserver import errors
from master.apiserver.storage import ResourceStorage, store_call
from master.store import errors as store_errors
from master.store.types import EventType, KeyValue, prefix_end

__all__ = ["CachedObject", "Predicate", "WatchCache", "WatchEvent", "Watcher"]

log = logging.getLogger(__name__)
_encoder = msgspec.json.Encoder()

FieldsFn = Callable[[dict[str, Any]], dict[str, str]]
Predicate = Callable[["CachedObject"], bool]
SNAPSHOTS_KEPT = 8
# The fields watchers are indexed by, in order of preference (the first one a selector pins).
NAME_INDEX = "metadata.name"
INDEXES: dict[str, tuple[str, ...]] = {"pods": ("spec.nodeName", NAME_INDEX)}


@dataclass(frozen=True, slots=True)
class CachedObject:
    key: bytes
    rv: int
    raw: bytes  # the object's JSON, resourceVersion included
    labels: dict[str, str]
    fields: dict[str, str]  # the selectable fields that are not "" (read them with .get(name, ""))


@dataclass(frozen=True, slots=True)
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED (BOOKMARK is made by the HTTP layer)
    rv: int
    obj: CachedObject
    prev: CachedObject | None = None


_CLOSED = None
_NO_LABELS: dict[str, str] = {}


def _interned(value: Any) -> Any:
    return sys.intern(value) if type(value) is str else value


class Watcher:
    """One client's view: an async iterator of (type, CachedObject) that ends when closed."""

    def __init__(self, cache: WatchCache, predicate: Predicate, maxsize: int,
                 index: tuple[str, str] | None = None) -> None:
        self.cache = cache
        self.predicate = predicate
        # (field, value) this watcher is filed under in the cache's index; None: sees every event.
        self.index = index
        self.queue: asyncio.Queue[tuple[str, CachedObject] | None] = asyncio.Queue()
        # The most events queued for the client before it counts as too slow (the queue itself is
        # unbounded so that the end marker always fits behind them).
        self.limit = maxsize
        self.closed = False
        self.last_rv = 0
        # Events at or before this revision were seen by the client already (a list at a
        # revision the cache had not reached yet); they are not sent again.
        self.since = 0

    def offer(self, event: WatchEvent) -> None:
        """Queue what this watcher should see of ``event``; close the watcher if it is too slow."""
        if self.closed or event.rv <= self.since:
            return
        now = self.predicate(event.obj)
        if event.type == "MODIFIED" and event.prev is not None:
            before = self.predicate(event.prev)
            if now and before:
                kind = "MODIFIED"
            elif now:
                kind = "ADDED"
            elif before:
                kind = "DELETED"
            else:
                return
        elif now:
            kind = event.type
        else:
            return
        if self.queue.qsize() >= self.limit:
            log.info("watch cache %s: closing a watcher that fell %d events behind",
                     self.cache.storage.resource, self.queue.qsize())
            self.close()
            return
        self.queue.put_nowait((kind, event.obj))

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.cache.forget(self)
        self.queue.put_nowait(_CLOSED)

    async def next(self) -> tuple[str, CachedObject] | None:
        item = await self.queue.get()
        if item is None:
            return None
        self.last_rv = max(self.last_rv, item[1].rv)
        return item

    def ready(self, limit: int) -> tuple[list[tuple[str, CachedObject]], bool]:
        """Up to ``limit`` queued items, without waiting; and whether the watcher has ended."""
        items: list[tuple[str, CachedObject]] = []
        while len(items) < limit and not self.queue.empty():
            item = self.queue.get_nowait()
            if item is None:
                return items, True
            self.last_rv = max(self.last_rv, item[1].rv)
            items.append(item)
        return items, False


class WatchCache:
    def __init__(
        self,
        storage: ResourceStorage,
        *,
        fields: FieldsFn,
        capacity: int = 1024,
        watcher_queue: int = 1000,
        progress_interval: float = 2.0,
        index_fields: tuple[str, ...] = (NAME_INDEX,),
    ) -> None:
        self.progress_interval = progress_interval
        self.index_fields = index_fields
        self.storage = storage
        self.fields = fields
        self.capacity = capacity
        self.watcher_queue = watcher_queue
        self.objects: dict[bytes, CachedObject] = {}
        self.events: collections.deque[WatchEvent] = collections.deque(maxlen=capacity)
        self.window_start = 0
        self.rv = 0
        self.watchers: set[Watcher] = set()
        # (field, value) -> the watchers whose selector pins that field to that value.
        self.indexed: dict[tuple[str, str], set[Watcher]] = {}
        self.unindexed: set[Watcher] = set()
        # Recent list snapshots for continue tokens: (rv, prefix, selectors) -> objects.
        self.snapshots: collections.OrderedDict[tuple[Any, ...], list[CachedObject]] = collections.OrderedDict()
        self._ready = asyncio.Event()
        self._progress = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._stream: Any = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await self._relist()
        self._task = asyncio.create_task(self._run(), name=f"watchcache-{self.storage.resource}")
        self._ticker = asyncio.create_task(self._tick(), name=f"watchcache-progress-{self.storage.resource}")

    async def stop(self) -> None:
        for task in (self._ticker, self._task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for w in list(self.watchers):
            w.close()

    async def _relist(self) -> None:
        prefix = self.storage.prefix
        resp = await store_call(self.storage.client.range(prefix, prefix_end(prefix)))
        objects: dict[bytes, CachedObject] = {}
        for kv in resp.kvs:
            obj = self._cached_or_none(kv)
            if obj is not None:
                objects[kv.key] = obj
        self.objects = objects
        self.events.clear()
        self.rv = self.window_start = resp.header.revision
        for w in list(self.watchers):
            w.close()
        self._ready.set()

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            stream = self._stream = self.storage.client.watch(
                self.storage.prefix, prefix_end(self.storage.prefix),
                start_revision=self.rv + 1, prev_kv=True, progress_notify=True,
            )
            try:
                async for resp in stream:
                    backoff = 0.1
                    for ev in resp.events:
                        self._apply(ev.type, ev.kv, ev.prev_kv)
                    if resp.header.revision > self.rv and not resp.events:
                        self.rv = resp.header.revision
                    await self._notify()
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await stream.cancel()
                raise
            except store_errors.CompactedError:
                log.info("watch cache %s: revision %d compacted; relisting", self.storage.resource, self.rv)
                await self._relist_retrying()
                continue
            except Exception as exc:  # the store went away or cancelled us: resume after a pause
                log.info("watch cache %s: store watch ended (%s); resuming from %d",
                         self.storage.resource, exc, self.rv + 1)
            with contextlib.suppress(Exception):
                await stream.cancel()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _relist_retrying(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._relist()
                return
            except errors.ApiError as exc:
                log.info("watch cache %s: relist failed (%s)", self.storage.resource, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def request_progress(self) -> None:
        """Ask the store how far this resource's watch has got; ``rv`` advances on the answer even
        when the resource itself has not changed (so bookmarks and cache reads stay current)."""
        stream = self._stream
        if stream is None:
            return
        with contextlib.suppress(Exception):
            await stream.request_progress()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.progress_interval)
            if self.watchers:
                await self.request_progress()

    async def _notify(self) -> None:
        async with self._progress:
            self._progress.notify_all()

    # -- events ------------------------------------------------------------------------------

    def _cached(self, kv: KeyValue, *, rv: int = 0) -> CachedObject:
        obj = self.storage.decode(kv, revision=rv)
        meta = obj.get("metadata") or {}
        labels = meta.get("labels") or _NO_LABELS
        if isinstance(labels, dict) and labels:
            labels = {_interned(k): _interned(v) for k, v in labels.items()}
        # Only the fields that have a value (selectors read a missing one as ""), their values
        # shared between objects: they are most of a small object's cached bytes otherwise.
        fields = {k: sys.intern(v) for k, v in self.fields(obj).items() if v}
        return CachedObject(kv.key, rv or kv.mod_revision, _encoder.encode(obj), labels, fields)

    def _cached_or_none(self, kv: KeyValue, *, rv: int = 0) -> CachedObject | None:
        """The cached form of a stored value, or None (logged) for one that is not an object of
        ours (written behind the apiserver's back, e.g. with etcdctl): it is left out of the cache."""
        try:
            return self._cached(kv, rv=rv)
        except (errors.ApiError, ValueError, TypeError, AttributeError) as exc:
            log.warning("watch cache %s: ignoring undecodable value at %r: %s", self.storage.resource, kv.key, exc)
            return None

    def _apply(self, etype: EventType, kv: KeyValue, prev_kv: KeyValue | None) -> None:
        prev = self.objects.get(kv.key)
        if etype == EventType.PUT:
            cached = self._cached_or_none(kv)
            if cached is None:
                self.rv = max(self.rv, kv.mod_revision)
                return
            obj = cached
            self.objects[kv.key] = obj
            event = WatchEvent("MODIFIED" if prev is not None else "ADDED", kv.mod_revision, obj, prev)
        else:
            self.objects.pop(kv.key, None)
            from_prev = self._cached_or_none(prev_kv, rv=kv.mod_revision) if prev_kv is not None else None
            if from_prev is not None:
                last = from_prev
            elif prev is not None:
                last = CachedObject(prev.key, kv.mod_revision, prev.raw, prev.labels, prev.fields)
            else:
                self.rv = max(self.rv, kv.mod_revision)
                return
            event = WatchEvent("DELETED", kv.mod_revision, last)
        if len(self.events) == self.events.maxlen and self.events:
            self.window_start = self.events[0].rv
        self.events.append(event)
        self.rv = max(self.rv, kv.mod_revision)
        for w in self._interested(event):
            w.offer(event)

    def _interested(self, event: WatchEvent) -> list[Watcher]:
        """The watchers that may want ``event``: the unindexed ones and those filed under a value
        of the object or of its previous state (no other can match either)."""
        out = list(self.unindexed)
        if not self.indexed:
            return out
        for f in self.index_fields:
            values = {event.obj.fields.get(f, "")}
            if event.prev is not None:
                values.add(event.prev.fields.get(f, ""))
            for v in values:
                found = self.indexed.get((f, v))
                if found:
                    out.extend(found)
        return out

    def forget(self, watcher: Watcher) -> None:
        self.watchers.discard(watcher)
        if watcher.index is None:
            self.unindexed.discard(watcher)
            return
        filed = self.indexed.get(watcher.index)
        if filed is not None:
            filed.discard(watcher)
            if not filed:
                del self.indexed[watcher.index]

    # -- readers -----------------------------------------------------------------------------

    async def wait_ready(self) -> None:
        await self._ready.wait()

    async def wait_for(self, rv: int, within: float) -> bool:
        """Wait until the cache has seen revision ``rv``; False on timeout."""
        if self.rv < rv:
            await self.request_progress()

        async def seen() -> None:
            async with self._progress:
                await self._progress.wait_for(lambda: self.rv >= rv)

        try:
            await asyncio.wait_for(seen(), within)
        except TimeoutError:
            return False
        return True

    def snapshot(self, prefix: bytes, predicate: Predicate) -> tuple[list[CachedObject], int]:
        items = [o for k, o in self.objects.items() if k.startswith(prefix) and predicate(o)]
        items.sort(key=lambda o: o.key)
        return items, self.rv

    def remember(self, key: tuple[Any, ...], items: list[CachedObject]) -> None:
        """Keep a list snapshot for its continue pages (references only: objects are immutable)."""
        self.snapshots[key] = items
        self.snapshots.move_to_end(key)
        while len(self.snapshots) > SNAPSHOTS_KEPT:
            self.snapshots.popitem(last=False)

    def recall(self, key: tuple[Any, ...]) -> list[CachedObject] | None:
        return self.snapshots.get(key)

    def get(self, key: bytes) -> CachedObject | None:
        return self.objects.get(key)

    def watch(self, prefix: bytes, predicate: Predicate, since: int | None,
              pinned: dict[str, str] | None = None) -> Watcher:
        """A watcher of keys under ``prefix`` matching ``predicate``.

        ``since`` None: synthetic ADDED for the current objects, then live events.
        ``since`` N: every event after N (410 Gone when N is older than the window), then live.
        ``pinned``: fields the predicate requires to equal a value (``{"spec.nodeName": "pi-1"}``);
        the watcher is filed under the first of ``index_fields`` among them.
        """
        if prefix != self.storage.prefix:
            inner = predicate

            def predicate(obj: CachedObject) -> bool:
                return obj.key.startswith(prefix) and inner(obj)

        index = next(((f, pinned[f]) for f in self.index_fields if pinned and f in pinned), None)
        watcher = Watcher(self, predicate, self.watcher_queue, index)
        if since is None:
            initial, _ = self.snapshot(prefix, predicate)
            watcher.limit = len(initial) + self.watcher_queue
            for obj in initial:
                watcher.queue.put_nowait(("ADDED", obj))
        else:
            if since < self.window_start:
                raise errors.gone(f"too old resource version: {since} ({self.window_start})")
            watcher.since = since
            replay = [e for e in self.events if e.rv > since]
            watcher.limit = len(replay) + self.watcher_queue
            for e in replay:
                watcher.offer(e)
        watcher.last_rv = self.rv if since is None else max(since, self.rv)
        self.watchers.add(watcher)
        if index is None:
            self.unindexed.add(watcher)
        else:
            self.indexed.setdefault(index, set()).add(watcher)
        return watcher

    def count(self) -> int:
        return len(self.objects)

