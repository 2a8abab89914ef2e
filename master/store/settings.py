"""Every knob of the store, as frozen dataclasses passed down from the composition root.

Defaults follow etcd where etcd has one (``--max-request-bytes`` 1.5 MiB, ``--max-txn-ops`` 128,
the minimum lease TTL of 2 s that etcd derives from its default election timeout). Tests shrink
intervals and pass a ``FakeClock``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from master.util.clock import Clock, RealClock

__all__ = ["SqliteSettings", "StoreSettings"]


@dataclass(frozen=True, slots=True)
class SqliteSettings:
    # A group commit takes every queued write batch, up to these bounds, into one transaction.
    max_group_rows: int = 10_000
    max_group_bytes: int = 32 * 1024 * 1024
    # After a commit shared by several batches, the next one waits this long for more to join it
    # (fewer fsyncs per write under concurrency; a lone writer never waits).
    commit_delay: float = 0.002
    # SQLite's automatic checkpoint threshold, and the size the WAL file is truncated back to
    # after a checkpoint; after each compaction the store also runs wal_checkpoint(TRUNCATE).
    wal_autocheckpoint_pages: int = 1000
    journal_size_limit: int = 64 * 1024 * 1024
    # After a compaction, free pages beyond this share of the file go back to the file system.
    vacuum_free_ratio: float = 0.25
    # Page cache per connection (two connections: the writer thread's and the readers'). Small:
    # the kernel's page cache holds the file anyway, and rows read again come from the row cache
    # (8 MiB here cost 6 MB more RSS under a put load than 2 MiB, and no less CPU).
    cache_kib: int = 2 * 1024
    # Rows kept in memory after a read (key and value bytes plus about 250 bytes each), so that
    # repeated reads of the same revisions skip the query; 0 turns the cache off.
    row_cache_bytes: int = 8 * 1024 * 1024
    busy_timeout_ms: int = 10_000


@dataclass(frozen=True, slots=True)
class StoreSettings:
    data_dir: Path | None = None
    backend: str = "sqlite"
    clock: Clock = field(default_factory=RealClock)

    # Limits, as etcd has them.
    max_request_bytes: int = 1536 * 1024
    max_txn_ops: int = 128
    min_lease_ttl: int = 2
    max_lease_ttl: int = 9_000_000_000

    # Automatic compaction: keep at least this much history (0 turns a bound off; both 0 turns
    # automatic compaction off). With both set the store keeps the longer of the two histories.
    compaction_retain_revisions: int = 0
    compaction_retain_seconds: float = 600.0
    compaction_check_interval: float = 30.0
    # Rows deleted per backend transaction by a compaction, so writes interleave with it.
    compaction_batch_rows: int = 10_000

    lease_check_interval: float = 0.5

    # The slow-watcher policy (see master.store.watch): a watcher whose unsent backlog exceeds
    # either bound is cancelled; its consumer resumes from its last revision + 1.
    watch_max_pending_events: int = 10_000
    watch_max_pending_bytes: int = 64 * 1024 * 1024
    # Replay from history reads at most this much per step.
    watch_replay_rows: int = 1000
    watch_replay_bytes: int = 4 * 1024 * 1024
    # Periodic progress notifications for watches created with progress_notify (etcd: 10 min).
    watch_progress_interval: float = 600.0

    # Identity reported in headers, Status and MemberList.
    name: str = "default"
    client_urls: tuple[str, ...] = ()
    peer_urls: tuple[str, ...] = ()

    sqlite: SqliteSettings = field(default_factory=SqliteSettings)
