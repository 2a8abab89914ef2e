"""Shared test set-up. Fixture modules live in tests/fixtures and are loaded here as plugins."""

pytest_plugins: list[str] = [
    "tests.fixtures.netns",
    "tests.fixtures.testbed",
    "tests.fixtures.etcd",
    "tests.fixtures.store_process",
    "tests.fixtures.fake_apiserver",
    "tests.fixtures.apiserver",
]
