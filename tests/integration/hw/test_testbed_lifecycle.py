"""Testbed life cycle on the real machine: up, reuse, add-node, down (also after a crash),
the master on the LAN, the power driver, and the ``pictl testbed`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hw import images
from hw.power import PowerState, make_driver
from hw.testbed import Testbed, TestbedExists, cleanup, control, netns
from tests.fixtures.power_contract import check_power_driver
from tests.fixtures.testbed import CRI, http_get_in, require_testbed_tools, traces_of, unique_name

pytestmark = [pytest.mark.root, pytest.mark.containerd, pytest.mark.slow]

Factory = Callable[..., Testbed]


def test_down_leaves_nothing_behind(testbed_factory: Factory) -> None:
    tb = testbed_factory(2)
    index = tb.state.index
    node = tb.node("pi-1")
    with CRI(node.containerd_address) as cri:
        pod = cri.run_pod("doomed", "localhost/web:1")
    sandbox_dirs = [node.paths.containerd_root]
    assert cleanup.sandbox_ids(*sandbox_dirs) == {pod.sandbox_id}
    assert traces_of(tb, index) != []

    tb.down()
    assert traces_of(tb, index) == []
    assert not [p for p in cleanup.CNI_CACHE.glob(f"*{pod.sandbox_id}*")]
    assert not os.path.exists(f"/sys/fs/cgroup/memory{pod.cgroup_parent}")
    tb.down()  # idempotent
    assert traces_of(tb, index) == []


def test_down_cleans_up_after_a_crash(testbed_factory: Factory) -> None:
    tb = testbed_factory(1)
    index = tb.state.index
    with CRI(tb.node("pi-1").containerd_address) as cri:
        cri.run_pod("orphan", "localhost/busybox:latest", command=["sleep", "3600"])
    # A crash, or a user deleting files: damaged state, no registry entry, processes running.
    tb.paths.state.write_text("{damaged")
    tb._registry.release(tb.name)
    Testbed(tb.name).down()
    assert traces_of(tb, index) == []


def test_up_twice_reuses_and_other_parameters_are_refused(testbed_factory: Factory) -> None:
    tb = testbed_factory(1)
    pid = tb.state.nodes["pi-1"].procs["containerd"].pid
    again = Testbed(tb.name).up(1, master=False, agents=False)
    assert again.state.nodes["pi-1"].procs["containerd"].pid == pid
    with pytest.raises(TestbedExists, match="already up with 1 nodes"):
        Testbed(tb.name).up(2, master=False, agents=False)


def test_up_rebuilds_a_testbed_whose_namespaces_are_gone(testbed_factory: Factory) -> None:
    tb = testbed_factory(1)
    # What a reboot of this machine does: /var/run/netns is empty, every process is gone.
    tb.fault("pi-1", "power-off")
    netns.remove(tb.node("pi-1").netns)
    rebuilt = Testbed(tb.name).up(1, master=False, agents=False)
    [row] = rebuilt.status()
    assert row.powered and row.lan_connected and row.components[0].ready


def test_two_testbeds_coexist(testbed_factory: Factory) -> None:
    a, b = testbed_factory(1), testbed_factory(1)
    assert a.plan.subnet != b.plan.subnet
    assert a.plan.bridge != b.plan.bridge
    ping = a.exec("pi-1", ["busybox", "ping", "-c", "1", "-W", "1", b.node("pi-1").ip])
    assert ping.returncode != 0, "testbeds are separate LANs"


def test_add_node_joins_the_lan_with_images(testbed_factory: Factory) -> None:
    extra = images.build_image("localhost/extra", "1", cmd=["sleep", "3600"])
    tb = testbed_factory(1, images=[extra])
    node = tb.add_node()
    assert node.name == "pi-2" and node.ip == tb.plan.ip("pi-2")
    assert tb.exec("pi-1", ["busybox", "ping", "-c", "1", "-W", "1", node.ip]).returncode == 0
    with CRI(node.containerd_address) as cri:
        assert {*images.STANDARD_REFS, "localhost/extra:1"} <= cri.image_refs()
        try:
            pod = cri.run_pod("late", "localhost/web:2")
            assert http_get_in(tb, "pi-2", f"http://{pod.ip}:8080/") == "2 late\n"
        finally:
            cri.remove_all()


def test_power_driver_keeps_the_contract(testbed_factory: Factory) -> None:
    tb = testbed_factory(1)
    driver = make_driver("testbed", testbed=tb.name)
    check_power_driver(driver, "pi-1", "pi-7")
    assert driver.state("pi-1") == PowerState.ON
    with CRI(tb.node("pi-1").containerd_address) as cri:
        assert cri.version().runtime_name == "containerd"


@pytest.fixture
def master_available() -> None:
    if not control.available(control.pictl_command(), "master"):
        pytest.skip("pictl master is not available yet")


def test_master_runs_on_the_lan(testbed_factory: Factory, master_available: None) -> None:
    tb = testbed_factory(1, master=True, agents=False)
    plan = tb.plan
    assert tb.kubeconfig.is_file()
    assert tb.server == f"https://{plan.master_ip}:6443"
    status, body = control.api_get(plan, tb.paths, "/api/v1/namespaces")
    assert status == 200 and "kube-system" in body.decode()
    # From a node, over the LAN.
    assert tb.exec("pi-1", ["busybox", "ping", "-c", "1", "-W", "1", plan.master_ip]).returncode == 0

    tb.fault("master", "power-off")
    assert not control.master_ready(plan, tb.paths)
    tb.fault("master", "power-on")
    assert control.master_ready(plan, tb.paths)
    status, body = control.api_get(plan, tb.paths, "/api/v1/namespaces/kube-system")
    assert status == 200, "the store survives a power cycle"


@pytest.fixture
def cli_name() -> Iterator[str]:
    require_testbed_tools()
    name = unique_name("c")
    try:
        yield name
    finally:
        Testbed(name).down()


def _pictl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "master.cli.main", *args], capture_output=True, text=True,
                          timeout=300)


def test_pictl_testbed_command(cli_name: str) -> None:
    up = _pictl("testbed", "up", "--nodes", "1", "--name", cli_name, "--no-master", "--no-agents")
    assert up.returncode == 0, up.stderr
    assert "pi-1" in up.stdout and "containerd up" in up.stderr

    status = _pictl("testbed", "status", "--name", cli_name)
    assert status.returncode == 0 and "pi-1" in status.stdout and "ok (pid" in status.stdout

    ex = _pictl("testbed", "exec", "pi-1", "--name", cli_name, "--", "sh", "-c", "ip -o -4 addr show eth0; exit 3")
    assert ex.returncode == 3 and "10.77." in ex.stdout

    for action in ("power-off", "power-on"):
        res = _pictl("testbed", "fault", "pi-1", action, "--name", cli_name)
        assert res.returncode == 0, res.stderr

    bad = _pictl("testbed", "fault", "pi-9", "power-off", "--name", cli_name)
    assert bad.returncode == 1 and bad.stderr.startswith("error:") and "Traceback" not in bad.stderr
    no_kc = _pictl("testbed", "kubeconfig", "--name", cli_name)
    assert no_kc.returncode == 1 and "no master" in no_kc.stderr

    listing = _pictl("testbed", "list")
    assert cli_name in listing.stdout

    down = _pictl("testbed", "down", "--name", cli_name)
    assert down.returncode == 0, down.stderr
    assert not Path(f"/var/lib/picluster/testbed/{cli_name}").exists()
    assert cli_name not in json.loads(Path("/var/lib/picluster/testbed/registry.json").read_text())
