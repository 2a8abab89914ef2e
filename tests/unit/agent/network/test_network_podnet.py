"""PodNetwork: sysctls (against a fake /proc/sys), CNI config and routes in one call each."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.network.cni import CNISettings, config_is_current
from agent.network.podnet import NetworkSettings, PodNetwork
from agent.network.routes import FakeRouteTable, HostGwRoutes, Peer, Route
from agent.network.sysctl import SysctlError, get_sysctl, set_sysctl


def fake_proc(tmp_path: Path, bridge: bool = True) -> Path:
    root = tmp_path / "proc-sys"
    (root / "net/ipv4").mkdir(parents=True)
    (root / "net/ipv4/ip_forward").write_text("0\n")
    if bridge:
        (root / "net/bridge").mkdir(parents=True)
        (root / "net/bridge/bridge-nf-call-iptables").write_text("0\n")
    return root


@pytest.mark.parametrize("bridge", [True, False], ids=["br-netfilter", "no-br-netfilter"])
def test_setup(tmp_path, bridge):
    proc = fake_proc(tmp_path, bridge)
    cni = CNISettings(conf_dir=tmp_path / "net.d", data_dir=tmp_path / "agent")
    net = PodNetwork(NetworkSettings("pi-1", cni=cni, proc_sys=proc), HostGwRoutes(FakeRouteTable()))
    assert net.setup(None).reason == "NoPodCIDR"
    status = net.setup("10.244.1.0/24")
    assert status.available, status
    assert get_sysctl("net.ipv4.ip_forward", proc_sys=proc) == "1"
    assert config_is_current("10.244.1.0/24", cni)
    if bridge:
        assert get_sysctl("net.bridge.bridge-nf-call-iptables", proc_sys=proc) == "1"
    else:
        assert "br_netfilter" in status.message
    bad = net.setup("10.244.1.0/33")
    assert not bad.available and bad.reason == "CNIConfigFailed"


def test_sysctl_errors(tmp_path):
    proc = fake_proc(tmp_path)
    with pytest.raises(SysctlError, match="bad name"):
        get_sysctl("../etc/passwd", proc_sys=proc)
    with pytest.raises(SysctlError, match="does not exist"):
        set_sysctl("net.nope", "1", proc_sys=proc)
    net = PodNetwork(NetworkSettings("pi-1", proc_sys=tmp_path / "missing"), HostGwRoutes(FakeRouteTable()))
    assert net.setup("10.244.1.0/24").reason == "SysctlFailed"


def test_sync_routes(tmp_path):
    table = FakeRouteTable()
    net = PodNetwork(NetworkSettings("pi-1", service_dev="eth0"), HostGwRoutes(table))
    net.sync_routes(
        [Peer("pi-1", "10.244.1.0/24", "10.77.0.11"), Peer("pi-2", "10.244.2.0/24", "10.77.0.12")]
    )
    assert table.list() == [Route("10.244.2.0/24", "10.77.0.12"), Route("10.96.0.0/12", dev="eth0")]
