"""The watch hub: one broadcaster of durable revisions to every watcher.

A watcher is either *synced* (it has every event up to ``committed``; new revisions are pushed
to it as they become durable) or *replaying* (it pulls history from the backend, one bounded
chunk at a time, when its consumer asks for more). A replaying watcher ignores live revisions:
they are history by the time it reads them. The switch is race-free because reading the last
chunk up to ``committed`` and marking the watcher synced happen in one step on the event loop,
and a revision becomes ``committed`` and is broadcast in another single step. Worked example::

    committed 10; watch from 8      -> replaying, next_rev 8
    revision 11 becomes durable     -> ignored by this watcher (11 > committed at the next read)
    consumer asks: scan [8, 11]     -> events 8..11 queued, synced, next_rev 12
    revision 12 becomes durable     -> pushed

Slow-watcher policy, the one rule: a synced watcher whose queue of unsent events exceeds
``watch_max_pending_events`` or ``watch_max_pending_bytes`` is cancelled with
``WatcherCanceledError``; its buffer is dropped, and its consumer resumes with a new watch from
the last revision it saw + 1 (history makes that gapless) or relists if that was compacted.
Replay never grows a queue: it reads the next chunk only when the queue is empty.

A watch whose start revision is below the compact revision ends with ``CompactedError``
(as etcd's compacted cancel). Delete events at exactly the compact revision are not replayed:
compaction removed them (etcd behaves the same).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Callable

from master.store.backend import Row
from master.store.errors import CompactedError, StoreError, WatcherCanceledError
from master.store.index import in_range
from master.store.kv import KV, Change
from master.store.revision import Revision
from master.store.settings import StoreSettings
from master.store.types import Event, EventType, KeyValue, ResponseHeader, WatchResponse

__all__ = ["WatchHub", "Watcher"]


def _event_size(ev: Event) -> int:
    size = 64 + len(ev.kv.key) + len(ev.kv.value)
    if ev.prev_kv is not None:
        size += len(ev.prev_kv.key) + len(ev.prev_kv.value)
    return size


class Watcher:
    def __init__(
        self,
        hub: WatchHub,
        watch_id: int,
        key: bytes,
        end: bytes,
        *,
        next_rev: int,
        synced: bool,
        prev_kv: bool,
        progress_notify: bool,
    ) -> None:
        self.hub = hub
        self.id = watch_id
        self.key = key
        self.end = end
        self.next_rev = next_rev  # the first revision not yet queued
        self.synced = synced
        self.prev_kv = prev_kv
        self.progress_notify = progress_notify
        self.queue: deque[WatchResponse] = deque()
        self.pending_events = 0
        self.pending_bytes = 0
        self.error: StoreError | None = None
        self.closed = False
        self.progress_wanted = False
        self.idle = True  # nothing queued since the last periodic progress tick
        self._wake = asyncio.Event()

    def push(self, resp: WatchResponse, size: int = 0) -> None:
        self.queue.append(resp)
        self.pending_events += len(resp.events)
        self.pending_bytes += size
        self.idle = False
        self._wake.set()

    def fail(self, error: StoreError) -> None:
        self.error = error
        self.queue.clear()
        self.pending_events = self.pending_bytes = 0
        self._wake.set()

    async def next(self) -> WatchResponse | None:
        """The next batch; None once the watch was cancelled by its consumer. Raises the error
        that ended the watch (CompactedError, WatcherCanceledError)."""
        while True:
            if self.queue:
                resp = self.queue.popleft()
                self.pending_events -= len(resp.events)
                self.pending_bytes -= sum(_event_size(ev) for ev in resp.events)
                return resp
            if self.error is not None:
                raise self.error
            if self.closed:
                return None
            if not self.synced:
                self.hub.replay(self)
                await asyncio.sleep(0)  # let others run between chunks
                continue
            self._wake.clear()
            await self._wake.wait()

    def request_progress(self) -> None:
        self.hub.request_progress(self)

    def cancel(self) -> None:
        self.hub.cancel(self)


class WatchHub:
    def __init__(self, kv: KV, settings: StoreSettings, header: Callable[[int], ResponseHeader]) -> None:
        self.kv = kv
        self.settings = settings
        self.header = header
        self.watchers: dict[int, Watcher] = {}
        self._ids = itertools.count(1)
        self.slow_canceled = 0

    def watch(
        self, key: bytes, end: bytes, *, start_revision: int, prev_kv: bool, progress_notify: bool
    ) -> Watcher:
        committed = self.kv.committed
        start = start_revision if start_revision > 0 else committed + 1
        w = Watcher(
            self,
            next(self._ids),
            key,
            end,
            next_rev=start,
            synced=start > committed,
            prev_kv=prev_kv,
            progress_notify=progress_notify,
        )
        if start < self.kv.compact_rev:
            w.fail(CompactedError(self.kv.compact_rev))
            return w
        self.watchers[w.id] = w
        return w

    def cancel(self, w: Watcher, error: StoreError | None = None) -> None:
        self.watchers.pop(w.id, None)
        if error is not None:
            w.fail(error)
        else:
            w.closed = True
            w._wake.set()

    def close(self) -> None:
        for w in list(self.watchers.values()):
            self.cancel(w, WatcherCanceledError("etcdserver: watch canceled: the store is shutting down"))

    # -- live ---------------------------------------------------------------------------------

    def notify(self, rev: int, changes: list[Change]) -> None:
        """Revision ``rev`` is durable: push its events to every synced watcher that wants them."""
        if not self.watchers:
            return
        plain: list[Event] | None = None
        with_prev: list[Event] | None = None
        s = self.settings
        for w in list(self.watchers.values()):
            if not w.synced or rev < w.next_rev:
                continue
            w.next_rev = rev + 1
            if w.prev_kv:
                if with_prev is None:
                    with_prev = [self._event(c.row, c.prev) for c in changes]
                events = with_prev
            else:
                if plain is None:
                    plain = [self._event(c.row, None) for c in changes]
                events = plain
            mine = tuple(ev for ev in events if in_range(ev.kv.key, w.key, w.end))
            if not mine:
                continue
            w.push(WatchResponse(self.header(rev), w.id, mine), sum(_event_size(ev) for ev in mine))
            # The slow-watcher policy: too far behind -> cancelled; the consumer resumes from its last revision + 1.
            if w.pending_events > s.watch_max_pending_events or w.pending_bytes > s.watch_max_pending_bytes:
                self._cancel_slow(w)

    def _cancel_slow(self, w: Watcher) -> None:
        self.slow_canceled += 1
        reason = (
            f"etcdserver: watch canceled: watcher {w.id} fell behind ({w.pending_events} events, "
            f"{w.pending_bytes} bytes unsent); resume from the last revision seen + 1"
        )
        self.cancel(w, WatcherCanceledError(reason))

    def _event(self, row: Row, prev: Revision | None) -> Event:
        kv = row.kv()
        prev_kv: KeyValue | None = None
        if prev is not None:
            prev_kv = self.kv.row(prev).kv()
        return Event(EventType.DELETE if row.tombstone else EventType.PUT, kv, prev_kv)

    # -- history ------------------------------------------------------------------------------

    def replay(self, w: Watcher) -> None:
        """Queue the next chunk of history for a replaying watcher; mark it synced at the end."""
        kv = self.kv
        if w.next_rev < kv.compact_rev:
            self.cancel(w, CompactedError(kv.compact_rev))
            return
        end = kv.committed
        rows = kv.backend.scan(
            w.next_rev, end, max_rows=self.settings.watch_replay_rows, max_bytes=self.settings.watch_replay_bytes
        )
        events: list[Event] = []
        for row in rows:
            if row.tombstone and row.main <= kv.compact_rev:
                continue  # compacted away; the backend may not have dropped it yet
            if in_range(row.key, w.key, w.end):
                prev = kv.prev(row.key, row.rev) if w.prev_kv else None
                events.append(self._event(row, prev))
        if events:
            w.push(WatchResponse(self.header(end), w.id, tuple(events)), sum(_event_size(ev) for ev in events))
        if rows and rows[-1].main < end:
            w.next_rev = rows[-1].main + 1
            return
        w.next_rev = end + 1
        w.synced = True
        if w.progress_wanted:
            w.progress_wanted = False
            w.push(WatchResponse(self.header(end), w.id))

    # -- progress -----------------------------------------------------------------------------

    def request_progress(self, w: Watcher) -> None:
        if w.id not in self.watchers:
            return
        if w.synced:
            w.push(WatchResponse(self.header(self.kv.committed), w.id))
        else:
            w.progress_wanted = True

    def progress_tick(self) -> None:
        """Periodic progress: to each idle, synced watcher that asked for progress_notify."""
        for w in self.watchers.values():
            if w.progress_notify and w.synced and w.idle and not w.queue:
                w.push(WatchResponse(self.header(self.kv.committed), w.id))
            w.idle = True
