"""The ownership graph: every observed object by uid, with its owners and dependents.

Built from informer events (``upsert``, ``remove``), which return the uids the collector
should look at (``Work``). An owner that is referenced but not (yet) observed is a *virtual*
node: the collector asks the API whether it exists. Worked example::

    upsert(rs  uid=R, owners=[D])     D unknown: virtual D created; work: verify D
    upsert(pod uid=P, owners=[R])     R.dependents = {P}
    remove(R)                         R gone; work: attempt to delete P (its owner is gone)
    verify D: not found               virtual D removed; work: attempt to delete its dependents

Flags on a node: ``deleting`` (deletionTimestamp set), ``deleting_dependents`` (deletion in
the foreground: the foregroundDeletion finalizer is on it), ``orphan`` (the orphan finalizer
is on it and it is being deleted).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from master.api import meta

__all__ = ["FOREGROUND", "ORPHAN", "Graph", "GraphNode", "Identity", "Work"]

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
# Uids known not to exist, remembered so dangling references need no API call each time.
_ABSENT_CACHE = 10_000


@dataclass(frozen=True, slots=True)
class Identity:
    api_version: str
    kind: str
    namespace: str
    name: str
    uid: str

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where} ({self.uid})"


# Most objects own nothing: they share this instead of an empty set each (216 bytes a node).
_NO_DEPENDENTS: frozenset[str] = frozenset()


@dataclass(slots=True)
class GraphNode:
    identity: Identity
    # The observed object's own list (objects from informers are never mutated), not a copy.
    owners: list[meta.OwnerReference] = field(default_factory=list)
    dependents: set[str] | frozenset[str] = _NO_DEPENDENTS
    virtual: bool = False
    deleting: bool = False
    deleting_dependents: bool = False
    orphan: bool = False

    def add_dependent(self, uid: str) -> None:
        if isinstance(self.dependents, set):
            self.dependents.add(uid)
        else:
            self.dependents = {uid}

    def discard_dependent(self, uid: str) -> None:
        if isinstance(self.dependents, set):
            self.dependents.discard(uid)
            if not self.dependents:
                self.dependents = _NO_DEPENDENTS


@dataclass(slots=True)
class Work:
    delete: set[str] = field(default_factory=set)  # attempt to delete (or verify, if virtual)
    orphan: set[str] = field(default_factory=set)  # orphan the dependents, then drop the finalizer


def identity_of(obj: meta.Object) -> Identity:
    m = obj.metadata
    return Identity(obj.api_version, obj.kind, m.namespace, m.name, m.uid)


class Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, GraphNode] = {}
        self.absent: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self.nodes)

    def get(self, uid: str) -> GraphNode | None:
        return self.nodes.get(uid)

    def mark_absent(self, uid: str) -> None:
        self.absent[uid] = None
        self.absent.move_to_end(uid)
        while len(self.absent) > _ABSENT_CACHE:
            self.absent.popitem(last=False)

    def upsert(self, obj: meta.Object, namespaced_owner: dict[tuple[str, str], bool]) -> Work:
        """Record ``obj`` as it is now. ``namespaced_owner[(apiVersion, kind)]`` says whether an
        owner kind lives in the dependent's namespace (unknown kinds: assumed namespaced)."""
        work = Work()
        m = obj.metadata
        uid = m.uid
        node = self.nodes.get(uid)
        if node is None:
            node = GraphNode(identity_of(obj))
            self.nodes[uid] = node
        elif node.virtual:
            node.virtual = False
            node.identity = identity_of(obj)
        self.absent.pop(uid, None)
        old = {o.uid: o for o in node.owners}
        new = {o.uid: o for o in m.owner_references}
        for gone in old.keys() - new.keys():
            owner = self.nodes.get(gone)
            if owner is not None:
                owner.discard_dependent(uid)
                if owner.deleting_dependents:
                    work.delete.add(gone)
                self._drop_if_unused_virtual(owner)
        for added in new.keys() - old.keys():
            ref = new[added]
            owner = self.nodes.get(added)
            if owner is None:
                ns = m.namespace if namespaced_owner.get((ref.api_version, ref.kind), True) else ""
                owner = GraphNode(Identity(ref.api_version, ref.kind, ns, ref.name, ref.uid), virtual=True)
                self.nodes[added] = owner
                work.delete.add(added)  # verify it exists
            owner.add_dependent(uid)
        node.owners = m.owner_references
        for ref in node.owners:
            # A virtual owner is verified first (its absence then brings its dependents here).
            owner = self.nodes.get(ref.uid)
            if ref.uid in self.absent or (owner is not None and owner.deleting_dependents):
                work.delete.add(uid)
        node.deleting = bool(m.deletion_timestamp)
        was_foreground = node.deleting_dependents
        node.deleting_dependents = node.deleting and FOREGROUND in m.finalizers
        node.orphan = node.deleting and ORPHAN in m.finalizers
        if node.orphan:
            work.orphan.add(uid)
        if node.deleting_dependents:
            work.delete.add(uid)
            if not was_foreground:
                work.delete.update(node.dependents)
        return work

    def remove(self, uid: str) -> Work:
        """``uid`` is gone: unlink it; its dependents need a look (and foreground owners too)."""
        work = Work()
        node = self.nodes.pop(uid, None)
        self.mark_absent(uid)
        if node is None:
            return work
        for ref in node.owners:
            owner = self.nodes.get(ref.uid)
            if owner is None:
                continue
            owner.discard_dependent(uid)
            if owner.deleting_dependents:
                work.delete.add(ref.uid)
            self._drop_if_unused_virtual(owner)
        work.delete.update(d for d in node.dependents if d in self.nodes)
        return work

    def _drop_if_unused_virtual(self, node: GraphNode) -> None:
        if node.virtual and not node.dependents:
            self.nodes.pop(node.identity.uid, None)

    def blocking_dependents(self, uid: str) -> list[GraphNode]:
        """Dependents of ``uid`` whose reference to it has blockOwnerDeletion."""
        node = self.nodes.get(uid)
        if node is None:
            return []
        out = []
        for dep_uid in node.dependents:
            dep = self.nodes.get(dep_uid)
            if dep is None:
                continue
            if any(r.uid == uid and r.block_owner_deletion for r in dep.owners):
                out.append(dep)
        return out
