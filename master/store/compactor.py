"""Automatic compaction: which revision to compact at, given how much history to keep.

Two retentions, each off at 0, as etcd's ``--auto-compaction-mode`` revision and periodic:

- by revisions: keep the last N revisions (compact at ``revision - N``);
- by age: keep at least T seconds of history. Every check records (time, revision); the
  compaction target is the newest recorded revision that is at least T seconds old.

With both set, the store keeps the longer history (the smaller target). Worked example,
T = 60 s, checks every 30 s::

    t=0 rev 10 | t=30 rev 50 | t=60 rev 90 -> target 10 | t=90 rev 95 -> target 50

After a restart the samples start over, so age-based compaction waits T seconds again.
"""

from __future__ import annotations

from collections import deque

__all__ = ["Compactor"]


class Compactor:
    def __init__(self, *, retain_revisions: int, retain_seconds: float) -> None:
        self.retain_revisions = retain_revisions
        self.retain_seconds = retain_seconds
        self._samples: deque[tuple[float, int]] = deque()

    @property
    def enabled(self) -> bool:
        return self.retain_revisions > 0 or self.retain_seconds > 0

    def target(self, now: float, revision: int) -> int:
        """Record the current revision; return the revision to compact at (0: none yet)."""
        targets: list[int] = []
        if self.retain_revisions > 0:
            targets.append(max(0, revision - self.retain_revisions))
        if self.retain_seconds > 0:
            self._samples.append((now, revision))
            cutoff = now - self.retain_seconds
            while len(self._samples) >= 2 and self._samples[1][0] <= cutoff:
                self._samples.popleft()
            t, rev = self._samples[0]
            targets.append(rev if t <= cutoff else 0)
        return min(targets) if targets else 0
