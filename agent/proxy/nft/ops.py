"""The verbs of one nftables transaction, and the plans that turn rulesets into them.

An ``Op`` is one message of a netlink batch (``wire`` encodes it; the fake interprets it).
The kernel applies a batch all or nothing, in order, so the plans put every operation
after what it depends on: sets and chains are created before rules and elements refer to
them, and a chain is deleted only after every rule and map element that pointed to it is
gone.

Three plans:

- ``recreate(new)`` replaces whatever table of that name exists (stale state from an
  earlier run included) with ``new``: add the table (so deleting it cannot fail), delete
  it, add it again with everything in it. Used on start-up and after a failed batch.
- ``update(old, new)`` changes only what differs, looking only at fragments that are not
  the same object in both. Raises ``RecreateNeeded`` for what cannot change in place (a
  base chain's hook, a set's type).
- ``resync(old, new)`` rewrites every chain and map of ``new`` in place (repairing edits
  made behind our back) but keeps dynamic sets, so session affinity survives it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from agent.proxy.nft.ruleset import Chain, Element, Fragment, Hook, Rule, Ruleset, SetSpec

__all__ = [
    "AddChain",
    "AddElements",
    "AddRule",
    "AddSet",
    "AddTable",
    "DeleteChain",
    "DeleteElements",
    "DeleteSet",
    "DeleteTable",
    "FlushChain",
    "FlushSet",
    "Op",
    "RecreateNeeded",
    "recreate",
    "resync",
    "update",
]


@dataclass(frozen=True, slots=True)
class AddTable:
    table: str


@dataclass(frozen=True, slots=True)
class DeleteTable:
    table: str


@dataclass(frozen=True, slots=True)
class AddSet:
    table: str
    spec: SetSpec


@dataclass(frozen=True, slots=True)
class DeleteSet:
    table: str
    name: str


@dataclass(frozen=True, slots=True)
class FlushSet:
    table: str
    name: str


@dataclass(frozen=True, slots=True)
class AddChain:
    table: str
    name: str
    hook: Hook | None = None


@dataclass(frozen=True, slots=True)
class DeleteChain:
    table: str
    name: str


@dataclass(frozen=True, slots=True)
class FlushChain:
    table: str
    name: str


@dataclass(frozen=True, slots=True)
class AddRule:
    table: str
    chain: str
    rule: Rule


@dataclass(frozen=True, slots=True)
class AddElements:
    table: str
    set_name: str
    elements: tuple[Element, ...]


@dataclass(frozen=True, slots=True)
class DeleteElements:
    table: str
    set_name: str
    keys: tuple[bytes, ...]


Op = (
    AddTable
    | DeleteTable
    | AddSet
    | DeleteSet
    | FlushSet
    | AddChain
    | DeleteChain
    | FlushChain
    | AddRule
    | AddElements
    | DeleteElements
)


class RecreateNeeded(Exception):
    """The change cannot be made in place; recreate the table instead."""


def _add_rules(table: str, chains: Iterable[Chain]) -> list[Op]:
    return [AddRule(table, c.name, r) for c in chains for r in c.rules]


def _grouped_adds(table: str, elements: Iterable[Element]) -> list[Op]:
    by_set: dict[str, list[Element]] = {}
    for e in elements:
        by_set.setdefault(e.set_name, []).append(e)
    return [AddElements(table, name, tuple(by_set[name])) for name in sorted(by_set)]


def _grouped_deletes(table: str, elements: Iterable[Element]) -> list[Op]:
    by_set: dict[str, list[bytes]] = {}
    for e in elements:
        by_set.setdefault(e.set_name, []).append(e.key)
    return [DeleteElements(table, name, tuple(by_set[name])) for name in sorted(by_set)]


def recreate(new: Ruleset) -> list[Op]:
    t = new.table
    chains = sorted(new.chains(), key=lambda c: c.name)
    ops: list[Op] = [AddTable(t), DeleteTable(t), AddTable(t)]
    ops += [AddSet(t, s) for s in sorted(new.sets(), key=lambda s: s.name)]
    ops += [AddChain(t, c.name, c.hook) for c in chains]
    ops += _add_rules(t, chains)
    ops += _grouped_adds(t, new.elements())
    return ops


def resync(old: Ruleset | None, new: Ruleset) -> list[Op]:
    t = new.table
    chains = sorted(new.chains(), key=lambda c: c.name)
    sets = sorted(new.sets(), key=lambda s: s.name)
    ops: list[Op] = [AddTable(t)]
    ops += [AddSet(t, s) for s in sets]
    ops += [AddChain(t, c.name, c.hook) for c in chains]
    ops += [FlushChain(t, c.name) for c in chains]
    ops += _add_rules(t, chains)
    ops += [FlushSet(t, s.name) for s in sets if not s.dynamic]
    ops += _grouped_adds(t, new.elements())
    if old is not None:
        new_chains = {c.name for c in chains}
        gone = sorted(c.name for c in old.chains() if c.name not in new_chains)
        ops += [FlushChain(t, name) for name in gone]
        ops += [DeleteChain(t, name) for name in gone]
        new_sets = {s.name for s in sets}
        ops += [
            DeleteSet(t, s.name) for s in sorted(old.sets(), key=lambda s: s.name) if s.name not in new_sets
        ]
    return ops


_EMPTY = Fragment()


def update(old: Ruleset, new: Ruleset) -> list[Op]:
    if old.table != new.table:
        raise RecreateNeeded(f"table renamed from {old.table!r} to {new.table!r}")
    old_frags, new_frags = old.fragments, new.fragments
    changed = [owner for owner, frag in new_frags.items() if old_frags.get(owner) is not frag]
    changed += [owner for owner in old_frags if owner not in new_frags]
    if not changed:
        return []

    old_chains: dict[str, Chain] = {}
    new_chains: dict[str, Chain] = {}
    old_sets: dict[str, SetSpec] = {}
    new_sets: dict[str, SetSpec] = {}
    old_elems: dict[tuple[str, bytes], Element] = {}
    new_elems: dict[tuple[str, bytes], Element] = {}
    for owner in changed:
        before = old_frags.get(owner, _EMPTY)
        after = new_frags.get(owner, _EMPTY)
        old_chains.update((c.name, c) for c in before.chains)
        new_chains.update((c.name, c) for c in after.chains)
        old_sets.update((s.name, s) for s in before.sets)
        new_sets.update((s.name, s) for s in after.sets)
        old_elems.update(((e.set_name, e.key), e) for e in before.elements)
        new_elems.update(((e.set_name, e.key), e) for e in after.elements)

    t = new.table
    for name, spec in new_sets.items():
        if name in old_sets and old_sets[name] != spec:
            raise RecreateNeeded(f"set {name!r} changed its definition")
    added_sets = sorted(n for n in new_sets if n not in old_sets)
    removed_sets = sorted(n for n in old_sets if n not in new_sets)

    added: list[Chain] = []
    replaced: list[Chain] = []
    for name in sorted(new_chains):
        chain = new_chains[name]
        before_chain = old_chains.get(name)
        if before_chain is None:
            added.append(chain)
        elif before_chain.hook != chain.hook:
            raise RecreateNeeded(f"chain {name!r} changed its hook")
        elif before_chain.rules != chain.rules:
            replaced.append(chain)
    removed = sorted(n for n in old_chains if n not in new_chains)

    stale: list[Element] = []
    fresh: list[Element] = []
    for key, elem in old_elems.items():
        now = new_elems.get(key)
        if now is None or now.verdict != elem.verdict:
            stale.append(elem)
    for key, elem in new_elems.items():
        was = old_elems.get(key)
        if was is None or was.verdict != elem.verdict:
            fresh.append(elem)
    stale.sort(key=lambda e: (e.set_name, e.key))
    fresh.sort(key=lambda e: (e.set_name, e.key))

    ops: list[Op] = [AddSet(t, new_sets[n]) for n in added_sets]
    ops += [AddChain(t, c.name, c.hook) for c in added]
    for chain in replaced:
        ops.append(FlushChain(t, chain.name))
        ops += _add_rules(t, [chain])
    ops += _add_rules(t, added)
    ops += _grouped_deletes(t, stale)
    ops += _grouped_adds(t, fresh)
    ops += [FlushChain(t, n) for n in removed]
    ops += [DeleteChain(t, n) for n in removed]
    ops += [DeleteSet(t, n) for n in removed_sets]
    return ops
