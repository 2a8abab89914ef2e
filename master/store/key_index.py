"""The revision history of one key, as generations.

A generation is one life of a key: from the put that creates it to the delete that ends it (the
tombstone), or to now. Only the last generation can be alive. Worked example::

    put a @2; put a @3; delete a @4; put a @6; put a @7
    -> generations [ {created 2, ver 3, revs [2, 3, 4], dead}, {created 6, ver 2, revs [6, 7]} ]

``ver`` counts the revisions of the generation including its tombstone, so the version at
``revs[i]`` is ``ver - (len(revs) - 1 - i)``, also after compaction dropped older revisions.

``get(at)`` finds the revision of the key visible at store revision ``at``::

    get(1) -> None (not created yet)    get(3) -> rev 3, created 2, version 2
    get(4) -> None (deleted at 4)       get(5) -> None
    get(6) -> rev 6, created 6, version 1

``compact(at)`` drops every revision that no read at a revision >= ``at`` can see: in each
generation only the newest revision <= ``at`` survives, and not even that one when it is a
tombstone (a deleted key is invisible at ``at`` and later). Continuing the example::

    compact(3) -> [ {created 2, ver 3, revs [3, 4], dead}, {created 6, ver 2, revs [6, 7]} ]  victims [2]
    compact(5) -> [ {created 6, ver 2, revs [6, 7]} ]                                         victims [3, 4]
    compact(7) -> [ {created 6, ver 2, revs [7]} ]                                             victims [6]

A key with no generations left is gone from the index.
"""

from __future__ import annotations

from bisect import bisect_right

from master.store.revision import Revision

__all__ = ["Generation", "KeyIndex"]


class Generation:
    __slots__ = ("created", "dead", "revs", "ver")

    def __init__(self, created: int, ver: int, revs: list[Revision], dead: bool = False) -> None:
        self.created = created  # create_revision of the key in this life
        self.ver = ver  # version at revs[-1]
        self.revs = revs  # ascending; revs[-1] is the tombstone when dead
        self.dead = dead

    def __repr__(self) -> str:
        revs = ", ".join(f"{r.main}.{r.sub}" for r in self.revs)
        return f"Generation(created={self.created}, ver={self.ver}, revs=[{revs}], dead={self.dead})"


def _main(rev: Revision) -> int:
    return rev.main


class KeyIndex:
    __slots__ = ("generations", "key")

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.generations: list[Generation] = []

    def __repr__(self) -> str:
        return f"KeyIndex({self.key!r}, {self.generations!r})"

    @property
    def alive(self) -> bool:
        return bool(self.generations) and not self.generations[-1].dead

    @property
    def latest(self) -> Revision:
        return self.generations[-1].revs[-1]

    def put(self, rev: Revision, *, created: int = 0, version: int = 0) -> None:
        """Record a put at ``rev``. ``created``/``version`` are only given when rebuilding the
        index from stored rows, whose older revisions compaction may have removed."""
        if not self.alive:
            self.generations.append(Generation(created or rev.main, version or 1, [rev]))
            return
        g = self.generations[-1]
        g.revs.append(rev)
        g.ver = version or g.ver + 1

    def tombstone(self, rev: Revision, *, loading: bool = False) -> None:
        """Record a delete at ``rev``; the key must be alive. When rebuilding from stored rows,
        a tombstone may outlive the puts before it (a compaction interrupted half-way); it then
        stands alone in a dead generation until the compaction is finished."""
        if not self.alive:
            if loading:
                self.generations.append(Generation(0, 1, [rev], dead=True))
                return
            raise ValueError(f"key_index: tombstone of a deleted key {self.key!r}")
        g = self.generations[-1]
        g.revs.append(rev)
        g.ver += 1
        g.dead = True

    def get(self, at: int) -> tuple[Revision, int, int] | None:
        """(mod revision, create_revision, version) of the key at store revision ``at``, or None."""
        if not self.generations:
            return None
        g = self.generations[-1]
        latest = g.revs[-1]
        if latest.main <= at:  # most reads are at or after the latest change: no search
            return None if g.dead else (latest, g.created, g.ver)
        for g in reversed(self.generations):
            if g.revs[0].main > at:
                continue
            i = bisect_right(g.revs, at, key=_main) - 1
            if g.dead and i == len(g.revs) - 1:
                return None
            return g.revs[i], g.created, g.ver - (len(g.revs) - 1 - i)
        return None

    def prev(self, rev: Revision) -> Revision | None:
        """The revision before ``rev`` in the same generation (what prev_kv shows), or None."""
        for g in reversed(self.generations):
            if g.revs[0] > rev:
                continue
            i = bisect_right(g.revs, rev) - 1
            if i >= 1 and g.revs[i] == rev:
                return g.revs[i - 1]
            return None
        return None

    def compact(self, at: int, victims: list[Revision]) -> None:
        """Drop the revisions no read at ``at`` or later can see, appending them to ``victims``."""
        kept: list[Generation] = []
        for g in self.generations:
            if g.revs[0].main > at:
                kept.append(g)
                continue
            i = bisect_right(g.revs, at, key=_main) - 1
            if g.dead and i == len(g.revs) - 1:
                victims.extend(g.revs)
                continue
            victims.extend(g.revs[:i])
            del g.revs[:i]
            kept.append(g)
        self.generations = kept

    def compactable(self) -> bool:
        """Whether a future compaction could remove anything (more than one live revision)."""
        return len(self.generations) > 1 or (
            bool(self.generations) and (self.generations[0].dead or len(self.generations[0].revs) > 1)
        )
