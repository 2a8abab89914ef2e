"""``Netfilter`` in memory, failing where the kernel fails, for fast unit tests.

It keeps every table as a ``TableState`` and applies a batch to a copy, swapping it in
only when every op succeeded, so a refused batch changes nothing, as in the kernel. The
errors are the kernel's errnos for the same mistakes (checked against the real thing by
the contract suite): ENOENT for a missing table, chain, set or element, EBUSY for deleting
a chain or set something still refers to, EEXIST for an element that exists with another
verdict or a set redefined differently.
"""

from __future__ import annotations

import copy
import errno
from collections.abc import Iterator, Sequence

from agent.proxy.errors import ApplyError
from agent.proxy.nft import expr as x
from agent.proxy.nft.ops import (
    AddChain,
    AddElements,
    AddRule,
    AddSet,
    AddTable,
    DeleteChain,
    DeleteElements,
    DeleteSet,
    DeleteTable,
    FlushChain,
    FlushSet,
    Op,
)
from agent.proxy.nft.ruleset import Chain, Rule, TableState

__all__ = ["FakeNetfilter"]


class _Refused(Exception):
    def __init__(self, err: int) -> None:
        self.errno = err


def _verdicts(rule: Rule) -> Iterator[x.Verdict]:
    for e in rule.exprs:
        if isinstance(e, x.Verdict):
            yield e
        elif isinstance(e, x.Vmap):
            for _, v in e.elements:
                yield v


def _set_refs(rule: Rule) -> Iterator[str]:
    for e in rule.exprs:
        if isinstance(e, (x.Lookup, x.Dynset)):
            yield e.set_name


class FakeNetfilter:
    def __init__(self) -> None:
        self.tables: dict[str, TableState] = {}
        self.batches: list[list[Op]] = []
        self.fail_next: int | None = None  # tests: refuse the next batch with this errno

    def close(self) -> None:
        pass

    def apply(self, ops: Sequence[Op]) -> None:
        if not ops:
            return
        if self.fail_next is not None:
            err, self.fail_next = self.fail_next, None
            raise ApplyError([("batch (injected failure)", err)])
        tables = copy.deepcopy(self.tables)
        failures: list[tuple[str, int]] = []
        for op in ops:
            try:
                self._apply(tables, op)
            except _Refused as exc:
                failures.append((type(op).__name__, exc.errno))
        if failures:
            raise ApplyError(failures)
        self.tables = tables
        self.batches.append(list(ops))

    def dump(self, table: str) -> TableState | None:
        state = self.tables.get(table)
        return copy.deepcopy(state) if state is not None else None

    def chain_rules(self, table: str, chain: str) -> tuple[Rule, ...] | None:
        state = self.tables.get(table)
        if state is None or chain not in state.chains:
            return None
        return state.chains[chain].rules

    # -- the rules of the kernel ---------------------------------------------------------

    @staticmethod
    def _table(tables: dict[str, TableState], name: str) -> TableState:
        if name not in tables:
            raise _Refused(errno.ENOENT)
        return tables[name]

    @staticmethod
    def _chain_in_use(t: TableState, name: str) -> bool:
        for chain in t.chains.values():
            for rule in chain.rules:
                if any(v.chain == name for v in _verdicts(rule)):
                    return True
        return any(v is not None and v.chain == name for elems in t.elements.values() for v in elems.values())

    @staticmethod
    def _set_in_use(t: TableState, name: str) -> bool:
        return any(name in _set_refs(r) for c in t.chains.values() for r in c.rules)

    def _apply(self, tables: dict[str, TableState], op: Op) -> None:
        match op:
            case AddTable(table):
                tables.setdefault(table, TableState())
            case DeleteTable(table):
                self._table(tables, table)
                del tables[table]
            case AddChain(table, name, hook):
                t = self._table(tables, table)
                existing = t.chains.get(name)
                if existing is None:
                    t.chains[name] = Chain(name, (), hook)
                elif existing.hook != hook:
                    raise _Refused(errno.EEXIST)
            case FlushChain(table, name):
                t = self._table(tables, table)
                if name not in t.chains:
                    raise _Refused(errno.ENOENT)
                t.chains[name] = Chain(name, (), t.chains[name].hook)
            case DeleteChain(table, name):
                t = self._table(tables, table)
                if name not in t.chains:
                    raise _Refused(errno.ENOENT)
                if self._chain_in_use(t, name):
                    raise _Refused(errno.EBUSY)
                del t.chains[name]
            case AddRule(table, chain, rule):
                t = self._table(tables, table)
                if chain not in t.chains:
                    raise _Refused(errno.ENOENT)
                if any(v.chain is not None and v.chain not in t.chains for v in _verdicts(rule)):
                    raise _Refused(errno.ENOENT)
                if any(name not in t.sets for name in _set_refs(rule)):
                    raise _Refused(errno.ENOENT)
                old = t.chains[chain]
                t.chains[chain] = Chain(chain, (*old.rules, Rule(rule.exprs)), old.hook)
            case AddSet(table, spec):
                t = self._table(tables, table)
                existing_spec = t.sets.get(spec.name)
                if existing_spec is None:
                    t.sets[spec.name] = spec
                    t.elements[spec.name] = {}
                elif existing_spec != spec:
                    raise _Refused(errno.EEXIST)
            case FlushSet(table, name):
                t = self._table(tables, table)
                if name not in t.sets:
                    raise _Refused(errno.ENOENT)
                t.elements[name] = {}
            case DeleteSet(table, name):
                t = self._table(tables, table)
                if name not in t.sets:
                    raise _Refused(errno.ENOENT)
                if self._set_in_use(t, name):
                    raise _Refused(errno.EBUSY)
                del t.sets[name]
                del t.elements[name]
            case AddElements(table, set_name, elements):
                t = self._table(tables, table)
                if set_name not in t.sets:
                    raise _Refused(errno.ENOENT)
                elems = t.elements[set_name]
                for e in elements:
                    if (
                        e.verdict is not None
                        and e.verdict.chain is not None
                        and e.verdict.chain not in t.chains
                    ):
                        raise _Refused(errno.ENOENT)
                    if e.key in elems and elems[e.key] != e.verdict:
                        raise _Refused(errno.EEXIST)
                    elems[e.key] = e.verdict
            case DeleteElements(table, set_name, keys):
                t = self._table(tables, table)
                if set_name not in t.sets:
                    raise _Refused(errno.ENOENT)
                elems = t.elements[set_name]
                for key in keys:
                    if key not in elems:
                        raise _Refused(errno.ENOENT)
                    del elems[key]
            case _:
                raise TypeError(f"nft: unknown op {op!r}")
