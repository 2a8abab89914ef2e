"""The registry of testbeds: stable indices, the default at 0, no two testbeds on one LAN."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from hw.testbed.errors import TestbedError
from hw.testbed.registry import Registry


def test_default_gets_zero_others_from_one(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    assert reg.allocate("t1") == 1
    assert reg.allocate("picluster") == 0
    assert reg.allocate("t2") == 2
    assert reg.allocate("t1") == 1  # stable
    assert reg.entries() == {"picluster": 0, "t1": 1, "t2": 2}


def test_release_frees_the_index(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    reg.allocate("t1")
    reg.allocate("t2")
    reg.release("t1")
    reg.release("t1")  # idempotent
    assert reg.get("t1") is None
    assert reg.allocate("t3") == 1


def test_busy_indices_are_skipped(tmp_path: Path) -> None:
    assert Registry(tmp_path).allocate("t1", busy=lambda i: i < 5) == 5


def test_full_registry_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TestbedError, match="no free testbed index"):
        Registry(tmp_path).allocate("t1", busy=lambda _i: True)


def test_damaged_registry_does_not_block(tmp_path: Path) -> None:
    (tmp_path / "registry.json").write_text("{not json")
    assert Registry(tmp_path).allocate("t1") == 1


def test_concurrent_allocations_get_distinct_indices(tmp_path: Path) -> None:
    results: dict[str, int] = {}

    def work(name: str) -> None:
        results[name] = Registry(tmp_path).allocate(name)

    threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == list(range(1, 17))
    assert Registry(tmp_path).entries() == results
