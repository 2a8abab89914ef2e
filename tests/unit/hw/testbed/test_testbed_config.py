"""What the testbed writes for each node: containerd config, CNI config, state, kubeconfigs, argv."""

from __future__ import annotations

import base64
import json
import tomllib
from pathlib import Path

import pytest
import yaml
from cryptography import x509

from hw.testbed import cni, containerd, control
from hw.testbed.errors import TestbedError
from hw.testbed.layout import NodePaths, TestbedPaths
from hw.testbed.naming import Plan
from hw.testbed.state import NodeRecord, ProcRecord, TestbedState, load_state, save_state
from master.util import pki


def test_containerd_config_is_per_node_and_has_what_this_vm_needs(tmp_path: Path) -> None:
    paths = NodePaths(tmp_path / "pi-1")
    cfg = tomllib.loads(containerd.render_config(paths))
    assert cfg["version"] == 2
    assert cfg["root"] == str(paths.containerd_root)
    assert cfg["state"] == str(paths.containerd_state)
    assert cfg["grpc"]["address"] == str(paths.socket)
    assert cfg["ttrpc"]["address"] == f"{paths.socket}.ttrpc"
    cri = cfg["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["restrict_oom_score_adj"] is True
    assert cri["netns_mounts_under_state_dir"] is True
    assert cri["sandbox_image"] == "localhost/pause:latest"
    assert cri["cni"]["conf_dir"] == str(paths.cni_conf_dir)
    assert cri["cni"]["bin_dir"] == "/usr/lib/cni"
    assert cri["containerd"]["snapshotter"] == "overlayfs"
    assert cri["containerd"]["runtimes"]["runc"]["options"]["Root"] == str(paths.runc_root)
    assert "io.containerd.snapshotter.v1.btrfs" in cfg["disabled_plugins"]
    # The CRI needs the tasks service, which needs the v1 runtime plugin.
    assert "io.containerd.runtime.v1.linux" not in cfg["disabled_plugins"]


def test_containerd_config_quotes_paths(tmp_path: Path) -> None:
    paths = NodePaths(tmp_path / 'we"ird\\dir')
    assert tomllib.loads(containerd.render_config(paths))["root"] == str(paths.containerd_root)


def test_cni_conflist_has_a_per_node_subnet_and_ipam_dir(tmp_path: Path) -> None:
    p1, p2 = NodePaths(tmp_path / "pi-1"), NodePaths(tmp_path / "pi-2")
    c1, c2 = json.loads(cni.render_conflist("pi-1", p1)), json.loads(cni.render_conflist("pi-2", p2))
    ipam1, ipam2 = c1["plugins"][0]["ipam"], c2["plugins"][0]["ipam"]
    assert ipam1["ranges"] == [[{"subnet": "10.244.1.0/24"}]]
    assert ipam2["ranges"] == [[{"subnet": "10.244.2.0/24"}]]
    assert ipam1["dataDir"] == str(p1.ipam_dir) != ipam2["dataDir"]
    assert c1["plugins"][0]["ipMasq"] is False
    cni.write_conflist("pi-1", p1)
    assert [p.name for p in p1.cni_conf_dir.iterdir()] == [cni.CONF_NAME]


def test_state_round_trip(tmp_path: Path) -> None:
    st = TestbedState(name="t1", index=3, agents=False, master_args=["--v=2"])
    st.nodes["pi-1"] = NodeRecord(name="pi-1", ip="10.77.3.11", netns="tb3-pi-1", veth="tb3-pi-1",
                                  procs={"containerd": ProcRecord(pid=10, start=20)})
    path = tmp_path / "state.json"
    save_state(path, st)
    assert load_state(path) == st
    assert load_state(tmp_path / "missing.json") is None


def test_damaged_state_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"name": 1}')
    with pytest.raises(TestbedError, match="damaged testbed state"):
        load_state(path)


def test_master_and_agent_command_lines(tmp_path: Path) -> None:
    plan, tb = Plan("t1", 4), TestbedPaths(tmp_path, "t1")
    assert control.master_argv(("pictl",), plan, tb, ["--log-level=debug"]) == [
        "pictl", "master", "--data-dir", str(tb.master_dir), "--bind-address", "10.77.4.10",
        "--secure-port", "6443", "--log-level=debug",
    ]
    node = tb.node("pi-2")
    assert control.agent_argv(("pictl",), plan, "pi-2", node, ["--x=1"]) == [
        "pictl", "agent", "--server", "https://10.77.4.10:6443", "--kubeconfig", str(node.kubeconfig),
        "--node-name", "pi-2", "--node-ip", "10.77.4.12",
        "--container-runtime-endpoint", f"unix://{node.socket}",
        "--data-dir", str(node.agent_dir), "--cni-conf-dir", str(node.cni_conf_dir), "--x=1",
    ]


def test_node_kubeconfig_is_a_node_identity_signed_by_the_cluster_ca(tmp_path: Path) -> None:
    plan, tb = Plan("t1", 4), TestbedPaths(tmp_path, "t1")
    ca = pki.create_ca()
    pki.write_cert_key(ca, tb.master_dir / "pki" / "ca.crt", tb.master_dir / "pki" / "ca.key")
    dest = tb.node("pi-3").kubeconfig
    control.write_node_kubeconfig(plan, tb, "pi-3", dest)
    assert dest.stat().st_mode & 0o777 == 0o600
    doc = yaml.safe_load(dest.read_text())
    assert doc["clusters"][0]["cluster"]["server"] == "https://10.77.4.10:6443"
    cert = x509.load_pem_x509_certificate(base64.b64decode(doc["users"][0]["user"]["client-certificate-data"]))
    assert pki.subject_identity(cert) == ("system:node:pi-3", ("system:nodes",))
    cert.verify_directly_issued_by(ca.cert)


def test_node_kubeconfig_without_a_ca_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TestbedError, match="identity"):
        control.write_node_kubeconfig(Plan("t1", 4), TestbedPaths(tmp_path, "t1"), "pi-1", tmp_path / "kc")
