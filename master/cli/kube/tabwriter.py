"""Column alignment as Go's ``text/tabwriter`` does it, which is how kubectl's output lines up.

Input lines hold tab-separated cells. A cell followed by a tab belongs to a column; the last
cell of a line does not and is never padded. A column is aligned over a *block*: consecutive
lines that all have a cell in it; a line with fewer cells ends the block. So in ``describe``
the ``Key:\\tvalue`` lines of a section line up, and a heading line (no tab) starts afresh::

    >>> print("\\n".join(align(["Name:\\tweb", "Namespace:\\tdefault", "Containers:", "  c:\\tx"], 2)))
    Name:       web
    Namespace:  default
    Containers:
      c:  x

``kubectl get`` pads with 3 spaces, ``describe`` with 2.
"""

from __future__ import annotations

__all__ = ["align", "widths"]


def widths(lines: list[list[str]], padding: int) -> list[list[int]]:
    """For each line, the widths of its columns (cells past them are printed as they are)."""
    out: list[list[int]] = [[] for _ in lines]

    def fmt(line0: int, line1: int, current: list[int]) -> None:
        column = len(current)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                out[this] = current
                this += 1
                continue
            start, width = this, 0
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + padding)
                this += 1
            fmt(start, this, [*current, width])

    fmt(0, len(lines), [])
    return out


def align(lines: list[str], padding: int = 3) -> list[str]:
    cells = [line.split("\t") for line in lines]
    return [render(c, w) for c, w in zip(cells, widths(cells, padding), strict=True)]


def render(cells: list[str], column_widths: list[int]) -> str:
    return "".join(c.ljust(column_widths[j]) if j < len(column_widths) else c for j, c in enumerate(cells))
