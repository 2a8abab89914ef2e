"""The SQLite backend: one file in WAL mode, one writer thread doing group commit.

Durability: ``synchronous=FULL`` makes every COMMIT fsync the WAL, and a batch's future resolves
only after its COMMIT returned, so an acknowledged write survives kill -9 and power loss.

Group commit: ``submit`` puts the batch on a queue; the writer thread takes everything queued
(up to ``SqliteSettings.max_group_rows``/``max_group_bytes``) into one transaction and one
fsync, then resolves the futures in submission order on the event loop. When the previous
commit was shared by several batches (concurrent writers), the writer first waits
``commit_delay`` for more to join (PostgreSQL's ``commit_delay``): each commit costs a WAL
write, an fsync and a wake-up of the event loop, so fewer, fuller commits leave more CPU for
requests. A lone writer never waits.

Readers use their own connection on the event loop's thread; WAL lets them read while the
writer writes. Every read statement is stepped to the end (or its cursor closed) so that no
read transaction stays open and blocks checkpoints.

Space: deleted rows leave free pages, which later writes reuse, so steady churn does not grow
the file. A batch with ``reclaim`` (the store sends one after each compaction) also gives free
pages back to the file system with ``incremental_vacuum`` once they are more than
``vacuum_free_ratio`` of the file (below that, moving pages around would only wear the SD card),
and runs ``wal_checkpoint(TRUNCATE)`` to shrink the WAL to zero. ``journal_size_limit`` bounds
the WAL between those.

Threads, and why there are no locks: the event loop's thread owns the reader connection and
everything else; the writer thread owns the writer connection (after ``open``). They share only
the queue (thread-safe) and hand results back with ``call_soon_threadsafe``.

Files in the data dir: ``store.db`` (+ ``-wal``, ``-shm``) and ``store.lock``, an flock that
keeps a second process from opening the same data dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from master.store.backend import Batch, Row, row_size
from master.store.backends.rowcache import RowCache
from master.store.errors import StoreError
from master.store.revision import Revision
from master.store.settings import SqliteSettings, StoreSettings

__all__ = ["SqliteBackend"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    main INTEGER NOT NULL,
    sub INTEGER NOT NULL,
    key BLOB NOT NULL,
    create_revision INTEGER NOT NULL,
    version INTEGER NOT NULL,
    lease INTEGER NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (main, sub)
);
CREATE TABLE IF NOT EXISTS lease (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

_COLUMNS = "main, sub, key, create_revision, version, lease, value"
_CHUNK = 400  # revisions per get_many query (2 x 400 parameters, below SQLite's old 999 limit)


class _Item:
    __slots__ = ("batch", "future")

    def __init__(self, batch: Batch, future: asyncio.Future[None]) -> None:
        self.batch = batch
        self.future = future


class SqliteBackend:
    def __init__(self, settings: StoreSettings) -> None:
        if settings.data_dir is None:
            raise ValueError("the sqlite store backend needs a data dir")
        self._dir = Path(settings.data_dir)
        self.path = self._dir / "store.db"
        self._settings: SqliteSettings = settings.sqlite
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._observers: list[Callable[[float, int], None]] = []
        # Rows read, for reads that come back (event loop thread only).
        self._cache = RowCache(self._settings.row_cache_bytes)

    # -- lifecycle ----------------------------------------------------------------------------

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(self._dir / "store.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(f"store: cannot use data dir {self._dir}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self._lock_fd)
            self._lock_fd = None
            raise StoreError(f"store: data dir {self._dir} is in use by another process") from exc
        try:
            self._writer = self._connect(writer=True)
            self._reader = self._connect(writer=False)
        except sqlite3.Error as exc:
            await self._release()
            raise StoreError(f"store: cannot open {self.path}: {exc}") from exc
        # The WAL file now exists; make its directory entry durable too.
        dir_fd = os.open(self._dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        self._thread = threading.Thread(target=self._run, name="store-sqlite-writer", daemon=True)
        self._thread.start()

    def _connect(self, *, writer: bool) -> sqlite3.Connection:
        s = self._settings
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(s.busy_timeout_ms)}")
        conn.execute(f"PRAGMA cache_size = -{int(s.cache_kib)}")
        if not writer:
            conn.execute("PRAGMA query_only = 1")
            return conn
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            conn.close()
            raise sqlite3.DatabaseError(f"schema version {version} is newer than this picluster ({SCHEMA_VERSION})")
        # auto_vacuum only takes effect before the first table exists, so set it first.
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.close()
            raise sqlite3.DatabaseError(f"cannot switch to WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"PRAGMA wal_autocheckpoint = {int(s.wal_autocheckpoint_pages)}")
        conn.execute(f"PRAGMA journal_size_limit = {int(s.journal_size_limit)}")
        conn.execute("BEGIN IMMEDIATE")
        for stmt in _SCHEMA.split(";"):
            if stmt.strip():
                conn.execute(stmt)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
        return conn

    async def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            await asyncio.to_thread(self._thread.join)
            self._thread = None
        await self._release()

    async def _release(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- reads (event loop thread) ------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._reader is None:
            raise StoreError("store: the sqlite backend is closed")
        return self._reader

    def load(self) -> Iterator[Row]:
        cur = self._db().execute(
            "SELECT main, sub, key, create_revision, version, lease FROM kv ORDER BY main, sub"
        )
        try:
            for main, sub, key, created, version, lease in cur:
                yield Row(main, sub, bytes(key), created, version, lease)
        finally:
            cur.close()

    def meta(self) -> dict[str, int]:
        return dict(self._db().execute("SELECT name, value FROM meta").fetchall())

    def leases(self) -> list[tuple[int, int]]:
        return [(i, t) for i, t in self._db().execute("SELECT id, ttl FROM lease ORDER BY id").fetchall()]

    def get(self, rev: Revision, *, value: bool = True) -> Row | None:
        cached = self._cache.get(rev)
        if cached is not None:
            return cached
        cols = _COLUMNS if value else "main, sub, key, create_revision, version, lease, x''"
        rows = self._db().execute(f"SELECT {cols} FROM kv WHERE main = ? AND sub = ?", rev).fetchall()
        if not rows:
            return None
        row = Row(*rows[0])
        if value:
            self._cache.add(row)
        return row

    def get_many(self, revs: Sequence[Revision], *, value: bool = True) -> dict[Revision, Row]:
        out: dict[Revision, Row] = {}
        missing: set[Revision] = set()
        cache = self._cache
        for rev in revs:
            row = cache.get(rev)
            if row is None:
                missing.add(rev)
            else:
                out[rev] = row
        if not missing:
            return out
        # "(main, sub) IN (VALUES ...)" would scan the table; two INs use the primary key index
        # and may return a few rows nobody asked for, which are dropped.
        cols = _COLUMNS if value else "main, sub, key, create_revision, version, lease, x''"
        db = self._db()
        ordered = sorted(missing)
        for i in range(0, len(ordered), _CHUNK):
            chunk = ordered[i : i + _CHUNK]
            mains = sorted({r.main for r in chunk})
            subs = sorted({r.sub for r in chunk})
            sql = (
                f"SELECT {cols} FROM kv WHERE main IN ({','.join('?' * len(mains))}) "
                f"AND sub IN ({','.join('?' * len(subs))})"
            )
            for fields in db.execute(sql, (*mains, *subs)).fetchall():
                rev = Revision(fields[0], fields[1])
                if rev in missing:
                    row = out[rev] = Row(*fields)
                    if value:
                        cache.add(row)
        return out

    def scan(self, start: int, end: int, *, max_rows: int, max_bytes: int) -> list[Row]:
        out: list[Row] = []
        size = 0
        cur = self._db().execute(
            f"SELECT {_COLUMNS} FROM kv WHERE main >= ? AND main <= ? ORDER BY main, sub", (start, end)
        )
        try:
            for main, sub, key, created, version, lease, val in cur:
                if (len(out) >= max_rows or size >= max_bytes) and main != out[-1].main:
                    break
                row = Row(main, sub, bytes(key), created, version, lease, bytes(val))
                out.append(row)
                size += row_size(row)
        finally:
            cur.close()
        return out

    def size(self) -> tuple[int, int]:
        total = 0
        for suffix in ("", "-wal"):
            with contextlib.suppress(OSError):
                total += os.stat(f"{self.path}{suffix}").st_size
        db = self._db()
        page_size = db.execute("PRAGMA page_size").fetchall()[0][0]
        pages = db.execute("PRAGMA page_count").fetchall()[0][0]
        free = db.execute("PRAGMA freelist_count").fetchall()[0][0]
        return total, (pages - free) * page_size

    # -- writes (writer thread) ---------------------------------------------------------------

    def submit(self, batch: Batch) -> asyncio.Future[None]:
        if self._loop is None or self._thread is None:
            raise StoreError("store: the sqlite backend is closed")
        fut: asyncio.Future[None] = self._loop.create_future()
        self._queue.put(_Item(batch, fut))
        return fut

    def observe_commits(self, observer: Callable[[float, int], None]) -> None:
        self._observers.append(observer)

    def _run(self) -> None:
        s = self._settings
        stop = False
        shared = False  # whether the previous commit carried more than one batch
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            group = [first]
            rows, size = len(first.batch.rows) + len(first.batch.deletes), first.batch.size()
            linger = s.commit_delay if shared else 0.0
            while not group[-1].batch.reclaim and rows < s.max_group_rows and size < s.max_group_bytes:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    if linger <= 0:
                        break
                    time.sleep(linger)
                    linger = 0.0
                    continue
                if item is None:
                    stop = True
                    break
                group.append(item)
                rows += len(item.batch.rows) + len(item.batch.deletes)
                size += item.batch.size()
            shared = len(group) > 1
            self._commit(group)
        if self._writer is not None:
            with contextlib.suppress(sqlite3.Error):
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def _commit(self, group: list[_Item]) -> None:
        conn = self._writer
        assert conn is not None
        error: BaseException | None = None
        fsync = 0.0
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                _apply(conn, group)
                t0 = time.perf_counter()
                conn.execute("COMMIT")
                fsync = time.perf_counter() - t0
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
        except Exception as exc:
            error = StoreError(f"store: sqlite write failed: {exc}")
            error.__cause__ = exc
        if error is None and group[-1].batch.reclaim:
            try:
                self._reclaim(conn)
            except sqlite3.Error as exc:  # the data is safe; only the space stays in use
                log.warning("store: reclaiming sqlite space failed: %s", exc)
        loop = self._loop
        assert loop is not None
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(self._resolve, group, error, fsync)

    def _reclaim(self, conn: sqlite3.Connection) -> None:
        pages = conn.execute("PRAGMA page_count").fetchall()[0][0]
        free = conn.execute("PRAGMA freelist_count").fetchall()[0][0]
        if free > self._settings.vacuum_free_ratio * pages:
            # executescript steps the pragma to the end; execute() would free a single page.
            conn.executescript("PRAGMA incremental_vacuum;")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def _resolve(self, group: list[_Item], error: BaseException | None, fsync: float) -> None:
        if error is None:
            for item in group:
                if item.batch.deletes:
                    self._cache.drop(item.batch.deletes)
            for observer in self._observers:
                observer(fsync, len(group))
        for item in group:
            if item.future.done():
                continue
            if error is None:
                item.future.set_result(None)
            else:
                item.future.set_exception(error)


def _apply(conn: sqlite3.Connection, group: list[_Item]) -> None:
    """Apply a group's batches in order. The rows of consecutive batches go in as multi-row
    INSERTs: the sqlite3 module lets go of the GIL around every statement step and must then take
    it back from the busy event loop thread, so one step per 128 rows costs less than one per row."""
    rows: list[Row] = []
    for item in group:
        batch = item.batch
        rows.extend(batch.rows)
        if not (batch.deletes or batch.leases or batch.lease_deletes or batch.meta):
            continue
        _insert(conn, rows)
        rows = []
        if batch.deletes:
            conn.executemany("DELETE FROM kv WHERE main = ? AND sub = ?", batch.deletes)
        if batch.leases:
            conn.executemany("INSERT OR REPLACE INTO lease (id, ttl) VALUES (?, ?)", batch.leases)
        if batch.lease_deletes:
            conn.executemany("DELETE FROM lease WHERE id = ?", [(i,) for i in batch.lease_deletes])
        if batch.meta:
            conn.executemany("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", list(batch.meta.items()))
    _insert(conn, rows)


_INSERT_ROWS = 128  # rows per INSERT statement: 7 x 128 parameters, below SQLite's old 999 limit


@functools.cache
def _insert_sql(n: int) -> str:
    return f"INSERT INTO kv ({_COLUMNS}) VALUES " + ",".join(["(?, ?, ?, ?, ?, ?, ?)"] * n)


def _insert(conn: sqlite3.Connection, rows: list[Row]) -> None:
    for i in range(0, len(rows), _INSERT_ROWS):
        chunk = rows[i : i + _INSERT_ROWS]
        params = [
            v for r in chunk for v in (r.main, r.sub, r.key, r.create_revision, r.version, r.lease, r.value)
        ]
        conn.execute(_insert_sql(len(chunk)), params)
