"""Revisions: ``Revision(main, sub)``.

``main`` is the store revision a write transaction creates (what clients see as mod_revision and
header.revision); ``sub`` numbers the changes inside that transaction, from 0. A txn that puts
``a`` and ``b`` at store revision 7 writes ``Revision(7, 0)`` and ``Revision(7, 1)``. Tuples
compare as (main, sub), which is the order of every change ever made.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Revision"]


class Revision(NamedTuple):
    main: int
    sub: int = 0
