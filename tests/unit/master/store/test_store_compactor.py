"""Automatic compaction targets (the worked example of master.store.compactor)."""

from __future__ import annotations

import pytest

from master.store.compactor import Compactor


def test_by_age() -> None:
    c = Compactor(retain_revisions=0, retain_seconds=60)
    assert [c.target(t, rev) for t, rev in [(0, 10), (30, 50), (60, 90), (90, 95)]] == [0, 0, 10, 50]


def test_by_revisions() -> None:
    c = Compactor(retain_revisions=100, retain_seconds=0)
    assert [c.target(0, rev) for rev in (50, 150, 1000)] == [0, 50, 900]


@pytest.mark.parametrize(
    ("revisions", "seconds", "want"),
    [
        pytest.param(100, 60, 10, id="equal"),
        pytest.param(5, 60, 10, id="age-keeps-more"),
        pytest.param(105, 60, 5, id="revisions-keep-more"),
        pytest.param(5, 0, 105, id="revisions-only"),
        pytest.param(0, 0, 0, id="off"),
    ],
)
def test_both_keep_the_longer_history(revisions: int, seconds: float, want: int) -> None:
    c = Compactor(retain_revisions=revisions, retain_seconds=seconds)
    assert c.enabled is bool(revisions or seconds)
    c.target(0, 10)
    c.target(30, 50)
    assert c.target(60, 110) == want
