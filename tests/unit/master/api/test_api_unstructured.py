"""dig: paths into plain-JSON objects (master.api.unstructured)."""

from __future__ import annotations

from typing import Any

import pytest

from master.api.unstructured import dig

POD = {"spec": {"containers": [{"name": "c", "ports": []}], "nodeName": None}, "status": "oops"}


@pytest.mark.parametrize(
    ("path", "want"),
    [
        pytest.param(("spec", "containers", 0, "name"), "c", id="keys-and-index"),
        pytest.param(("spec", "containers", 0, "ports"), [], id="empty-list-is-a-value"),
        pytest.param(("spec", "containers", 1, "name"), "dflt", id="index-past-the-end"),
        pytest.param(("spec", "nodeName"), "dflt", id="null-gives-default"),
        pytest.param(("spec", "missing"), "dflt", id="missing-key"),
        pytest.param(("status", "phase"), "dflt", id="key-into-a-string"),
        pytest.param(("spec", 0), "dflt", id="index-into-a-dict"),
        pytest.param((), POD, id="no-path"),
    ],
)
def test_dig(path: tuple[str | int, ...], want: Any) -> None:
    assert dig(POD, *path, default="dflt") == want


def test_dig_default_is_none() -> None:
    assert dig(None, "metadata") is None
