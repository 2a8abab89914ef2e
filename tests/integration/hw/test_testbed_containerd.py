"""A 2-node testbed with containerd only: the LAN, the CRI, the images, and faults.

The testbed is shared by the module (building it is the slow part); each test that breaks
something repairs it before it ends, also when it fails.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from hw import images
from hw.images import File
from hw.testbed import Testbed, TestbedError, procs
from tests.fixtures.testbed import CRI, http_get_in

pytestmark = [pytest.mark.root, pytest.mark.containerd, pytest.mark.slow]


def _ping(tb: Testbed, src: str, dst_ip: str) -> bool:
    return tb.exec(src, ["busybox", "ping", "-c", "1", "-W", "1", dst_ip]).returncode == 0


@pytest.fixture
def cri1(containerd_testbed: Testbed) -> Iterator[CRI]:
    with CRI(containerd_testbed.node("pi-1").containerd_address) as cri:
        try:
            yield cri
        finally:
            cri.remove_all()


def test_nodes_are_on_the_lan(containerd_testbed: Testbed) -> None:
    tb = containerd_testbed
    assert [n.name for n in tb.nodes] == ["pi-1", "pi-2"]
    plan = tb.plan
    for node in tb.nodes:
        assert node.ip == plan.ip(node.name)
        addr = tb.exec(node.name, ["ip", "-4", "-o", "addr", "show", "dev", "eth0"]).stdout.decode()
        assert f"{node.ip}/24" in addr
        routes = tb.exec(node.name, ["ip", "route", "show", "default"]).stdout.decode()
        assert routes.strip() == "", "nodes must have no default route (nothing leaves the machine)"
        forward = tb.exec(node.name, ["cat", "/proc/sys/net/ipv4/ip_forward"]).stdout.decode()
        assert forward.strip() == "1"
    assert _ping(tb, "pi-1", tb.node("pi-2").ip)
    assert _ping(tb, "pi-2", plan.bridge_ip)
    for row in tb.status():
        assert row.powered and row.lan_connected
        [ctrd] = row.components
        assert ctrd.component == "containerd" and ctrd.running and ctrd.ready


def test_each_containerd_answers_cri_and_has_the_images(containerd_testbed: Testbed) -> None:
    for node in containerd_testbed.nodes:
        with CRI(node.containerd_address) as cri:
            assert cri.version().runtime_name == "containerd"
            assert set(images.STANDARD_REFS) <= cri.image_refs()


def test_web_pods_answer_with_version_and_pod_name(containerd_testbed: Testbed, cri1: CRI) -> None:
    web1 = cri1.run_pod("web-one", "localhost/web:1")
    web2 = cri1.run_pod("web-two", "localhost/web:2")
    assert web1.ip.startswith("10.244.1.") and web1.ip != web2.ip
    assert http_get_in(containerd_testbed, "pi-1", f"http://{web1.ip}:8080/") == "1 web-one\n"
    assert http_get_in(containerd_testbed, "pi-1", f"http://{web2.ip}:8080/") == "2 web-two\n"
    assert http_get_in(containerd_testbed, "pi-1", f"http://{web1.ip}:8080/healthz") == "ok\n"


def test_images_built_by_tests_run(containerd_testbed: Testbed) -> None:
    script = b"#!/bin/sh\necho hello from $(hostname) > /www/index.html\nexec httpd -f -p 9000 -h /www\n"
    archive = images.build_image("localhost/hello", "t", files={"/start.sh": File(script, 0o755), "/www/.keep": ""},
                                 entrypoint=["/start.sh"])
    containerd_testbed.import_images(archive, ["pi-2"])
    with CRI(containerd_testbed.node("pi-2").containerd_address) as cri:
        try:
            assert "localhost/hello:t" in cri.image_refs()
            pod = cri.run_pod("hello", "localhost/hello:t")
            assert http_get_in(containerd_testbed, "pi-2", f"http://{pod.ip}:9000/") == "hello from hello\n"
        finally:
            cri.remove_all()


def test_stopped_containerd_leaves_containers_running(containerd_testbed: Testbed, cri1: CRI) -> None:
    tb = containerd_testbed
    pod = cri1.run_pod("survivor", "localhost/web:1")
    try:
        tb.fault("pi-1", "stop-containerd")
        [row] = [r for r in tb.status() if r.name == "pi-1"]
        assert not row.components[0].running
        assert http_get_in(tb, "pi-1", f"http://{pod.ip}:8080/") == "1 survivor\n"
    finally:
        tb.fault("pi-1", "start-containerd")
    assert cri1.version().runtime_name == "containerd"
    assert cri1.sandbox_states()[pod.sandbox_id] == "SANDBOX_READY"


def test_partition_and_heal(containerd_testbed: Testbed) -> None:
    tb = containerd_testbed
    pi2 = tb.node("pi-2").ip
    try:
        tb.fault("pi-2", "partition")
        assert not _ping(tb, "pi-1", pi2)
        assert not next(r for r in tb.status() if r.name == "pi-2").lan_connected
    finally:
        tb.fault("pi-2", "heal")
    assert _ping(tb, "pi-1", pi2)


def test_power_off_stops_everything_and_power_on_boots_again(containerd_testbed: Testbed) -> None:
    tb = containerd_testbed
    node = tb.node("pi-2")
    with CRI(node.containerd_address) as cri:
        old = cri.run_pod("before-power-cut", "localhost/web:1")
    try:
        tb.fault("pi-2", "power-off")
        assert procs.pids_in_netns([node.netns]) == set()
        assert procs.victims([node.netns], [node.dir]) == set()
        assert not node.containerd_socket.exists()
        assert not any(node.paths.run.iterdir()), "a power cut empties /run"
        links = tb.exec("pi-2", ["ip", "-o", "link"]).stdout.decode()
        assert "cni0" not in links
        [row] = [r for r in tb.status() if r.name == "pi-2"]
        assert not row.powered and not row.components[0].running
        assert not _ping(tb, "pi-1", node.ip)
        with pytest.raises(TestbedError, match="powered off"):
            tb.fault("pi-2", "start-containerd")
    finally:
        tb.fault("pi-2", "power-on")
    assert _ping(tb, "pi-1", node.ip)
    with CRI(node.containerd_address) as cri:
        try:
            assert set(images.STANDARD_REFS) <= cri.image_refs(), "images survive on the 'SD card'"
            assert cri.sandbox_states()[old.sandbox_id] == "SANDBOX_NOTREADY"
            new = cri.run_pod("after-power-cut", "localhost/web:2")
            assert http_get_in(tb, "pi-2", f"http://{new.ip}:8080/") == "2 after-power-cut\n"
        finally:
            with contextlib.suppress(Exception):
                cri.remove_all()
