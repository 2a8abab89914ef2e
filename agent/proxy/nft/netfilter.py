"""The seam between the proxy and the kernel's nf_tables: one Protocol, two implementations.

``KernelNetfilter`` (``kernel.py``) speaks netlink to the real kernel; ``FakeNetfilter``
(``fake.py``) keeps the table in memory with the kernel's rules for what fails. Both pass
the contract suite in ``tests/integration/agent/test_proxy_netfilter_contract.py``.

Contract:

- ``apply(ops)`` runs the ops as one transaction: all of them take effect, or none do and
  ``ApplyError`` says which op failed and why (errno). Only tables named in the ops are
  touched.
- ``dump(table)`` returns the table's chains (with rules), named sets and their elements,
  or ``None`` when there is no such table. Inline anonymous maps come back inside their
  rules as ``Vmap`` expressions, so a dump compares equal to ``Ruleset.state()``.
- ``chain_rules(table, chain)`` returns one chain's rules (``None`` if it does not exist):
  cheap enough to poll for "is my change in the kernel yet".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from agent.proxy.nft.ops import Op
from agent.proxy.nft.ruleset import Rule, TableState

__all__ = ["Netfilter"]


class Netfilter(Protocol):
    def apply(self, ops: Sequence[Op]) -> None: ...

    def dump(self, table: str) -> TableState | None: ...

    def chain_rules(self, table: str, chain: str) -> tuple[Rule, ...] | None: ...

    def close(self) -> None: ...
