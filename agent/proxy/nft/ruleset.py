"""A table of our own as a value: chains, rules, sets, maps and their elements.

``Ruleset`` is what the proxy wants in the kernel. It is split into ``Fragment`` s by owner
(one per Service, plus the fixed base), so that comparing two rulesets only has to look at
the fragments that are not the very same object: when one Service's endpoints change, the
model rebuilds that Service's fragment and reuses every other one, and the diff touches
only what changed.

``TableState`` is the flat view (every chain, set and element by name), which is what the
kernel dump and the fake return and what tests compare.

Rules and elements carry a human-readable ``text`` (nft syntax) that takes no part in
equality: two rules are equal when their expressions are.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from agent.proxy.nft.expr import Expr, Verdict

__all__ = ["Chain", "Element", "Fragment", "Hook", "Rule", "Ruleset", "SetSpec", "TableState"]

# netfilter hook numbers (enum nf_inet_hooks)
HOOK_PREROUTING = 0
HOOK_INPUT = 1
HOOK_FORWARD = 2
HOOK_OUTPUT = 3
HOOK_POSTROUTING = 4

HOOK_NAMES = {
    HOOK_PREROUTING: "prerouting",
    HOOK_INPUT: "input",
    HOOK_FORWARD: "forward",
    HOOK_OUTPUT: "output",
    HOOK_POSTROUTING: "postrouting",
}


@dataclass(frozen=True, slots=True)
class Rule:
    exprs: tuple[Expr, ...]
    text: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.text or " ".join(type(e).__name__.lower() for e in self.exprs)


@dataclass(frozen=True, slots=True)
class Hook:
    """What makes a chain a base chain: ``type nat hook prerouting priority -100``."""

    type: str
    hooknum: int
    priority: int

    def __str__(self) -> str:
        return f"type {self.type} hook {HOOK_NAMES.get(self.hooknum, self.hooknum)} priority {self.priority}"


@dataclass(frozen=True, slots=True)
class Chain:
    name: str
    rules: tuple[Rule, ...] = ()
    hook: Hook | None = None


@dataclass(frozen=True, slots=True)
class SetSpec:
    """A named set or verdict map.

    ``key_type`` is nft's data type id (concatenations combine ids 6 bits apiece, so nft
    can print the keys), ``key_len`` the key's length in bytes with every concatenated
    field padded to 4. A ``dynamic`` set is filled by the packet path (``update @set``),
    never by us; with ``timeout_ms`` its elements expire.
    """

    name: str
    key_type: int
    key_len: int
    verdict_map: bool = False
    dynamic: bool = False
    timeout_ms: int = 0


@dataclass(frozen=True, slots=True)
class Element:
    set_name: str
    key: bytes
    verdict: Verdict | None = None
    text: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Fragment:
    """Everything one owner contributes; names are unique across a ruleset."""

    chains: tuple[Chain, ...] = ()
    sets: tuple[SetSpec, ...] = ()
    elements: tuple[Element, ...] = ()


@dataclass(frozen=True)
class Ruleset:
    table: str
    fragments: Mapping[str, Fragment]

    def chains(self) -> Iterator[Chain]:
        for fragment in self.fragments.values():
            yield from fragment.chains

    def sets(self) -> Iterator[SetSpec]:
        for fragment in self.fragments.values():
            yield from fragment.sets

    def elements(self) -> Iterator[Element]:
        for fragment in self.fragments.values():
            yield from fragment.elements

    def counts(self) -> dict[str, int]:
        chains = rules = sets = elements = 0
        for fragment in self.fragments.values():
            chains += len(fragment.chains)
            rules += sum(len(c.rules) for c in fragment.chains)
            sets += len(fragment.sets)
            elements += len(fragment.elements)
        return {"chains": chains, "rules": rules, "sets": sets, "elements": elements}

    def state(self) -> TableState:
        elements: dict[str, dict[bytes, Verdict | None]] = {s.name: {} for s in self.sets()}
        for e in self.elements():
            elements.setdefault(e.set_name, {})[e.key] = e.verdict
        return TableState(
            chains={c.name: c for c in self.chains()},
            sets={s.name: s for s in self.sets()},
            elements=elements,
        )


@dataclass
class TableState:
    """One table, flat: what a dump of the kernel (or of the fake) returns."""

    chains: dict[str, Chain] = field(default_factory=dict)
    sets: dict[str, SetSpec] = field(default_factory=dict)
    elements: dict[str, dict[bytes, Verdict | None]] = field(default_factory=dict)

    def without_dynamic_elements(self) -> TableState:
        return TableState(
            chains=dict(self.chains),
            sets=dict(self.sets),
            elements={
                name: ({} if self.sets[name].dynamic else dict(elems))
                for name, elems in self.elements.items()
                if name in self.sets
            },
        )
