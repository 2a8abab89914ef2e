"""Column alignment is Go's text/tabwriter's, so pictl's tables and describe line up like kubectl's."""

from __future__ import annotations

import pytest

from master.cli.kube import tabwriter


@pytest.mark.parametrize(
    ("lines", "padding", "want"),
    [
        pytest.param(["NAME\tREADY\tSTATUS", "web-1\t1/1\tRunning"], 3,
                     ["NAME    READY   STATUS", "web-1   1/1     Running"], id="get-table"),
        pytest.param(["Name:\tweb", "Namespace:\tdefault", "Containers:", "  c:\tx"], 2,
                     ["Name:       web", "Namespace:  default", "Containers:", "  c:  x"], id="blocks-end-at-headings"),
        pytest.param(["a\tb\t", "ccc\td"], 1, ["a   b ", "ccc d"], id="trailing-empty-cell"),
        pytest.param(["x"], 3, ["x"], id="no-tabs"),
        pytest.param(["Labels:\ta=b", "\tc=d", "Annotations:\t<none>"], 2,
                     ["Labels:       a=b", "              c=d", "Annotations:  <none>"], id="continuation-lines"),
    ],
)
def test_align(lines: list[str], padding: int, want: list[str]) -> None:
    assert tabwriter.align(lines, padding) == want


def test_last_cell_is_never_padded() -> None:
    out = tabwriter.align(["a\tshort", "bb\tmuch longer"], 3)
    assert out == ["a    short", "bb   much longer"]
