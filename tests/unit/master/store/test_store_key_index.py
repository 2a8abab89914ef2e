"""The worked examples of master.store.key_index and master.store.index, as tests."""

from __future__ import annotations

import pytest

from master.store.index import TreeIndex
from master.store.key_index import KeyIndex
from master.store.revision import Revision as R


def example() -> KeyIndex:
    ki = KeyIndex(b"a")
    ki.put(R(2))
    ki.put(R(3))
    ki.tombstone(R(4))
    ki.put(R(6))
    ki.put(R(7))
    return ki


@pytest.mark.parametrize(
    ("at", "want"),
    [
        pytest.param(1, None, id="before-creation"),
        pytest.param(2, (R(2), 2, 1), id="created"),
        pytest.param(3, (R(3), 2, 2), id="second-put"),
        pytest.param(4, None, id="deleted"),
        pytest.param(5, None, id="still-deleted"),
        pytest.param(6, (R(6), 6, 1), id="recreated"),
        pytest.param(9, (R(7), 6, 2), id="latest"),
    ],
)
def test_get(at: int, want: tuple[R, int, int] | None) -> None:
    assert example().get(at) == want


@pytest.mark.parametrize(
    ("at", "victims", "gens"),
    [
        pytest.param(1, [], [[R(2), R(3), R(4)], [R(6), R(7)]], id="nothing"),
        pytest.param(3, [R(2)], [[R(3), R(4)], [R(6), R(7)]], id="inside-first-life"),
        pytest.param(4, [R(2), R(3), R(4)], [[R(6), R(7)]], id="at-the-tombstone"),
        pytest.param(5, [R(2), R(3), R(4)], [[R(6), R(7)]], id="after-the-tombstone"),
        pytest.param(7, [R(2), R(3), R(4), R(6)], [[R(7)]], id="latest"),
    ],
)
def test_compact(at: int, victims: list[R], gens: list[list[R]]) -> None:
    ki = example()
    got: list[R] = []
    ki.compact(at, got)
    assert got == victims
    assert [g.revs for g in ki.generations] == gens
    if at >= 5:
        # Versions survive compaction.
        assert ki.get(7) == (R(7), 6, 2)


def test_prev() -> None:
    ki = example()
    assert ki.prev(R(3)) == R(2)
    assert ki.prev(R(4)) == R(3)
    assert ki.prev(R(2)) is None
    assert ki.prev(R(6)) is None  # a new life has no previous value
    assert ki.prev(R(7)) == R(6)


def test_tombstone_of_deleted_key() -> None:
    ki = KeyIndex(b"a")
    with pytest.raises(ValueError, match="tombstone of a deleted key"):
        ki.tombstone(R(2))
    ki.tombstone(R(2), loading=True)  # left behind by an interrupted compaction
    assert ki.get(2) is None
    victims: list[R] = []
    ki.compact(2, victims)
    assert victims == [R(2)] and not ki.generations


@pytest.mark.parametrize(
    ("key", "end", "want"),
    [
        pytest.param(b"b", b"", [b"b"], id="single"),
        pytest.param(b"b", b"d", [b"b", b"c"], id="half-open"),
        pytest.param(b"b", b"\0", [b"b", b"c", b"d"], id="from-key"),
        pytest.param(b"d", b"b", [], id="empty"),
        pytest.param(b"\0", b"\0", [b"a", b"b", b"c", b"d"], id="all"),
    ],
)
def test_tree_between(key: bytes, end: bytes, want: list[bytes]) -> None:
    tree = TreeIndex()
    for i, k in enumerate([b"d", b"b", b"a", b"c"]):
        tree.put(k, R(i + 2))
    assert [ki.key for ki in tree.between(key, end)] == want


def test_tree_compaction_drops_dead_keys() -> None:
    tree = TreeIndex()
    tree.put(b"a", R(2))
    tree.put(b"b", R(3))
    tree.tombstone(b"a", R(4))
    assert tree.alive == 1
    assert tree.compact(4) == [R(2), R(4)]
    assert [ki.key for ki in tree.between(b"\0", b"\0")] == [b"b"]
    assert tree.compact(5) == []  # b has one revision: nothing to do, and it is no longer dirty
    tree.put(b"b", R(6))
    assert tree.compact(6) == [R(3)]
