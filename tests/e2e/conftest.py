"""End-to-end fixtures: one testbed for all of tests/e2e (master + 3 simulated Pis, short
failure-detection settings), a fresh namespace per scenario, and the cluster's state attached
to the report of any scenario that fails.

Scenarios that break the testbed (power, LAN, processes, cordons) repair it themselves, and
``cluster`` repairs whatever is left after every scenario (``Cluster.heal``), so one scenario's
failure does not cascade. The testbed is removed after the last end-to-end test, also on failure.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest

from hw.testbed import Testbed
from tests.e2e.helpers_e2e import Cluster
from tests.fixtures.testbed import require_testbed_tools, unique_name

# Failure detection in seconds instead of minutes: a node is NotReady 12 s after its last
# heartbeat (the default is 40 s); the pods of the scenarios tolerate it for 2 s (default 300 s).
MASTER_ARGS = (
    "--node-monitor-period=1s",
    "--node-monitor-grace-period=12s",
    "--node-eviction-rate=10",
)
AGENT_ARGS = (
    "--node-status-update-frequency=2s",
    "--node-lease-renew-interval=1s",
    "--node-lease-duration-seconds=12",
)
NODES = 3


# Package scope: the testbed goes away when the last end-to-end test is done, not at the end of
# the whole suite (a session-wide one would keep 4 processes busy through every later test).
@pytest.fixture(scope="package")
def e2e_testbed() -> Iterator[Testbed]:
    require_testbed_tools()
    tb = Testbed(unique_name("e2e"))
    try:
        tb.up(NODES, master_args=MASTER_ARGS, agent_args=AGENT_ARGS)
        yield tb
    finally:
        tb.down()


@pytest.fixture
def cluster(e2e_testbed: Testbed) -> Iterator[Cluster]:
    c = Cluster(e2e_testbed)
    yield c
    c.heal()


@pytest.fixture
def ns(cluster: Cluster) -> Iterator[str]:
    """A namespace of the scenario's own, deleted (with everything in it) afterwards."""
    name = unique_name("e2e-")
    cluster.pictl("create", "namespace", name)
    yield name
    cluster.heal()  # pods on a dead or cut-off node could not finish terminating
    cluster.pictl("delete", "namespace", name, "--timeout=120s", check=False, timeout=180)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    funcargs = getattr(item, "funcargs", {})
    c = funcargs.get("cluster")
    if report.failed and report.when == "call" and isinstance(c, Cluster):
        try:
            report.sections.append(("cluster state at failure", c.diagnose()))
        except Exception as exc:  # the diagnosis must never hide the failure itself
            report.sections.append(("cluster state at failure", f"(could not collect: {exc})"))
