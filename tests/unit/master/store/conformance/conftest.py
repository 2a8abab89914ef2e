"""Every conformance test runs once per target in ``tests.fixtures.store_targets.CLIENT_FACTORIES``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from master.store.client import Client
from tests.fixtures.store_targets import CLIENT_FACTORIES, ETCD_TARGETS, Target


@pytest.fixture(
    params=[
        pytest.param(name, id=name, marks=[pytest.mark.etcd] if name in ETCD_TARGETS else [])
        for name in CLIENT_FACTORIES
    ]
)
async def target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Target]:
    async with CLIENT_FACTORIES[request.param](request, tmp_path) as t:
        yield t


@pytest.fixture
def client(target: Target) -> Client:
    return target.client
