"""Server-side Tables printed as kubectl prints them."""

from __future__ import annotations

import io
from typing import Any

from master.cli.kube.printing import Out, TableOptions, age, table_header, table_rows

TABLE: dict[str, Any] = {
    "kind": "Table",
    "columnDefinitions": [
        {"name": "Name", "priority": 0}, {"name": "Ready", "priority": 0}, {"name": "Status", "priority": 0},
        {"name": "Restarts", "priority": 0}, {"name": "Age", "priority": 0}, {"name": "IP", "priority": 1},
        {"name": "Nominated Node", "priority": 1},
    ],
    "rows": [
        {"cells": ["web-1", "1/1", "Running", 0, "5m3s", "10.244.1.5", None],
         "object": {"metadata": {"name": "web-1", "namespace": "default", "labels": {"tier": "front", "app": "web"}}}},
        {"cells": ["db", "0/1", "Pending", 2, "10s", "<none>", None],
         "object": {"metadata": {"name": "db", "namespace": "prod"}}},
    ],
}


def _print(opts: TableOptions) -> str:
    buf = io.StringIO()
    rows = table_rows(TABLE, opts)
    Out(buf).table(rows if opts.no_headers else [table_header(TABLE, opts), *rows])
    return buf.getvalue()


def test_default_columns() -> None:
    assert _print(TableOptions()) == (
        "NAME    READY   STATUS    RESTARTS   AGE\n"
        "web-1   1/1     Running   0          5m3s\n"
        "db      0/1     Pending   2          10s\n"
    )


def test_wide_namespace_labels_and_prefix() -> None:
    text = _print(TableOptions(wide=True, namespace_column=True, show_labels=True, label_columns=("app",),
                               kind_prefix="pod/"))
    lines = text.splitlines()
    assert lines[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NOMINATED",
                                "NODE", "APP", "LABELS"]
    assert lines[1].split() == ["default", "pod/web-1", "1/1", "Running", "0", "5m3s", "10.244.1.5", "<none>",
                                "web", "app=web,tier=front"]
    assert lines[2].split()[-1] == "<none>"


def test_no_headers_and_plain_text_off_a_terminal() -> None:
    text = _print(TableOptions(no_headers=True))
    assert not text.startswith("NAME") and "\x1b[" not in text


def test_watch_rows_keep_the_columns() -> None:
    buf = io.StringIO()
    out = Out(buf)
    widths = out.table([["NAME", "STATUS"], ["a", "Running"]])
    out.row(["a-much-longer-name", "Pending"], [max(w[0] for w in widths)])
    assert buf.getvalue().splitlines()[-1] == "a-much-longer-name   Pending"


def test_age() -> None:
    assert age("1970-01-01T00:00:00Z", 303) == "5m3s"
    assert age(None, 0) == "<unknown>" and age("garbage", 0) == "<unknown>"
