"""master.api.yamlfmt.check_shape: the limits the apiserver and pictl both put on a loaded document."""

from __future__ import annotations

from typing import Any

import pytest

from master.api import yamlfmt


def _nested(levels: int) -> Any:
    doc: Any = []
    for _ in range(levels - 1):
        doc = [doc]
    return doc


def _bomb(levels: int) -> Any:
    node: Any = ["lol"] * 9
    for _ in range(levels):
        node = [node] * 9  # one node shared nine times, as YAML aliases are
    return node


def _cycle() -> Any:
    anchor: dict[str, Any] = {}
    anchor["b"] = anchor
    return {"x": anchor}


@pytest.mark.parametrize(
    ("doc", "kind", "path"),
    [
        pytest.param(_nested(yamlfmt.MAX_DEPTH + 1), "depth", "", id="too-deep"),
        pytest.param(_bomb(8), "size", "", id="alias-bomb"),
        pytest.param(_cycle(), "cycle", "x.b", id="cycle"),
        pytest.param({"items": [{"a": 1}, _cycle()["x"]]}, "cycle", "items[1].b", id="cycle-in-list"),
    ],
)
def test_bad_shapes(doc: Any, kind: str, path: str) -> None:
    with pytest.raises(yamlfmt.ShapeError) as info:
        yamlfmt.check_shape(doc)
    assert (info.value.kind, info.value.path) == (kind, path)


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param(_nested(yamlfmt.MAX_DEPTH), id="at-the-depth-limit"),
        pytest.param(_bomb(4), id="shared-nodes-under-the-size-limit"),
        pytest.param({"a": [1, {"b": None}], "c": "d"}, id="plain"),
        pytest.param("scalar", id="scalar"),
    ],
)
def test_good_shapes(doc: Any) -> None:
    yamlfmt.check_shape(doc)
