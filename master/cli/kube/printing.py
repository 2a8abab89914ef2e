"""Human-readable output: server-side Tables as kubectl prints them, colour only on a terminal.

``pictl get`` asks the apiserver for ``meta.k8s.io/v1`` Tables, so the columns and their cells
(STATUS, AGE "5m3s", "<none>") are computed in one place, ``master.apiserver.tables``. Here
they become text: upper-case headers, columns aligned like Go's tabwriter with 3 spaces, the
``-o wide`` columns (priority > 0) only when asked, and kubectl's extras (NAMESPACE with -A,
LABELS with --show-labels, -L columns, ``pod/`` prefixes when several types are listed).

On a terminal the same layout is printed through rich with the header in bold and well-known
states coloured (Running green, Pending yellow, CrashLoopBackOff red); anything else (a pipe, a
file, a test) gets plain text, byte for byte what kubectl prints.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from master.api import timefmt
from master.apiserver.tables import human_duration
from master.cli.kube import tabwriter

__all__ = ["Out", "TableOptions", "age", "human_duration", "table_header", "table_rows"]

_GOOD = frozenset({"Running", "Ready", "Active", "Completed", "Succeeded", "True", "Normal", "Bound"})
_BUSY = frozenset({"Pending", "ContainerCreating", "PodInitializing", "Terminating", "Unknown", "Evicted",
                   "SchedulingDisabled", "Ready,SchedulingDisabled"})
_BAD = frozenset({"Error", "Failed", "CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff", "NotReady",
                  "OOMKilled", "False", "Warning", "CreateContainerError", "ContainerCannotRun",
                  "NotReady,SchedulingDisabled"})


def age(timestamp: str | None, now: float) -> str:
    """AGE of an RFC 3339 timestamp ("5m3s"), "<unknown>" without one."""
    if not timestamp:
        return "<unknown>"
    try:
        return human_duration(now - timefmt.to_epoch(timestamp))
    except timefmt.TimeFormatError:
        return "<unknown>"


@dataclass(frozen=True, slots=True)
class TableOptions:
    wide: bool = False
    no_headers: bool = False
    namespace_column: bool = False
    show_labels: bool = False
    label_columns: tuple[str, ...] = ()
    kind_prefix: str = ""  # "pod/" when several resource types are printed


def _columns(table: dict[str, Any], wide: bool) -> list[tuple[int, str]]:
    defs = table.get("columnDefinitions") or []
    return [(i, str(c.get("name", ""))) for i, c in enumerate(defs) if wide or not c.get("priority")]


def _label_header(key: str) -> str:
    return key.rsplit("/", 1)[-1].upper()


def table_header(table: dict[str, Any], opts: TableOptions) -> list[str]:
    head = [name.upper() for _, name in _columns(table, opts.wide)]
    if opts.namespace_column:
        head.insert(0, "NAMESPACE")
    head.extend(_label_header(k) for k in opts.label_columns)
    if opts.show_labels:
        head.append("LABELS")
    return head


def cell_text(value: Any) -> str:
    if value is None:
        return "<none>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def format_labels(labels: dict[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items())) or "<none>"


def table_rows(table: dict[str, Any], opts: TableOptions) -> list[list[str]]:
    columns = _columns(table, opts.wide)
    out = []
    for row in table.get("rows") or []:
        cells = row.get("cells") or []
        meta = (row.get("object") or {}).get("metadata") or {}
        line = [cell_text(cells[i]) if i < len(cells) else "" for i, _ in columns]
        if line and opts.kind_prefix:
            line[0] = opts.kind_prefix + line[0]
        if opts.namespace_column:
            line.insert(0, str(meta.get("namespace", "")))
        labels = meta.get("labels") or {}
        line.extend(str(labels.get(k, "")) for k in opts.label_columns)
        if opts.show_labels:
            line.append(format_labels(labels))
        out.append(line)
    return out


class Out:
    """stdout for tables and lines; rich (colour) only when stdout is a terminal."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.colour = _is_terminal(self.stream) and "NO_COLOR" not in os.environ
        self._console: Any = None

    def line(self, text: str = "") -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def table(self, lines: list[list[str]], *, header: bool = True, padding: int = 3) -> list[list[int]]:
        """Print aligned rows (the first one a header when ``header``); the column widths used."""
        widths = tabwriter.widths(lines, padding)
        for i, (cells, w) in enumerate(zip(lines, widths, strict=True)):
            self._row(cells, w, bold=header and i == 0)
        self.stream.flush()
        return widths

    def row(self, cells: list[str], column_widths: list[int]) -> list[int]:
        """One more row under a printed table (``get -w``), widening columns that overflow."""
        grown = [max(w, len(c) + 3) for w, c in zip(column_widths, cells, strict=False)]
        self._row(cells, grown, bold=False)
        self.stream.flush()
        return grown

    def _row(self, cells: list[str], column_widths: list[int], *, bold: bool) -> None:
        if not self.colour:
            self.stream.write(tabwriter.render(cells, column_widths) + "\n")
            return
        from rich.text import Text

        text = Text(no_wrap=False)
        for j, c in enumerate(cells):
            padded = c.ljust(column_widths[j]) if j < len(column_widths) else c
            style = "bold" if bold else _style(c)
            if style and padded != c:
                text.append(c, style=style)
                text.append(padded[len(c):])
            else:
                text.append(padded, style=style)
        self._rich().print(text, soft_wrap=True)

    def _rich(self) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self.stream, highlight=False, soft_wrap=True)
        return self._console


def _style(cell: str) -> str:
    if cell in _GOOD:
        return "green"
    if cell in _BUSY or cell.startswith("Init:"):
        return "yellow"
    if cell in _BAD:
        return "red"
    return ""


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
