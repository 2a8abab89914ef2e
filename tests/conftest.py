"""Shared test set-up. Fixture modules live in tests/fixtures and are loaded here as plugins."""

pytest_plugins: list[str] = [
    "tests.fixtures.netns",
    "tests.fixtures.testbed",
    "tests.fixtures.etcd",
    "tests.fixtures.store_process",
    "tests.fixtures.fake_apiserver",
    "tests.fixtures.apiserver",
]


def pytest_runtest_teardown(item: object) -> None:
    """Objects out of informers share one empty list and one empty dict (master.api.intern): a
    component that appended to an empty field of a cached object would change every cached
    object of its process. Any test that ran such code in-process fails here, named."""
    import sys

    intern = sys.modules.get("master.api.intern")
    if intern is None:
        return
    shared_list, shared_dict = intern._EMPTY_LIST, intern._EMPTY_DICT
    if shared_list or shared_dict:
        found = (list(shared_list), dict(shared_dict))
        shared_list.clear()
        shared_dict.clear()
        raise AssertionError(f"a cached object was mutated in place: the shared empty list/dict now hold {found}")
