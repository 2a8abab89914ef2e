"""The CNI conflist: content, atomic idempotent writes, bad input."""

from __future__ import annotations

import json
import os

import pytest

from agent.network.cni import (
    CNIError,
    CNISettings,
    config_is_current,
    remove_config,
    render_config,
    write_config,
)


@pytest.fixture
def settings(tmp_path) -> CNISettings:
    return CNISettings(conf_dir=tmp_path / "net.d", data_dir=tmp_path / "agent")


def test_render(settings):
    conf = render_config("10.244.3.0/24", settings)
    assert conf["cniVersion"] == "0.4.0"
    bridge, portmap = conf["plugins"]
    assert bridge["type"] == "bridge" and bridge["bridge"] == "cni0"
    assert bridge["isGateway"] is True and bridge["hairpinMode"] is True and bridge["ipMasq"] is False
    ipam = bridge["ipam"]
    assert ipam["type"] == "host-local"
    assert ipam["ranges"] == [[{"subnet": "10.244.3.0/24", "gateway": "10.244.3.1"}]]
    assert ipam["routes"] == [{"dst": "0.0.0.0/0"}]
    assert ipam["dataDir"] == str(settings.data_dir / "cni" / "networks")
    assert portmap == {"type": "portmap", "capabilities": {"portMappings": True}}


def test_write_is_idempotent_and_atomic(settings):
    assert not config_is_current("10.244.3.0/24", settings)
    assert write_config("10.244.3.0/24", settings) is True
    assert config_is_current("10.244.3.0/24", settings)
    mtime = os.stat(settings.path).st_mtime_ns
    assert write_config("10.244.3.0/24", settings) is False
    assert os.stat(settings.path).st_mtime_ns == mtime
    assert (
        json.loads(settings.path.read_text())["plugins"][0]["ipam"]["ranges"][0][0]["subnet"]
        == "10.244.3.0/24"
    )
    assert write_config("10.244.4.0/24", settings) is True
    assert not config_is_current("10.244.3.0/24", settings)
    assert [p.name for p in settings.conf_dir.iterdir()] == ["10-picluster.conflist"]  # no temp files left
    assert settings.ipam_dir.is_dir()
    assert remove_config(settings) is True and remove_config(settings) is False


@pytest.mark.parametrize(
    ("cidr", "message"),
    [
        pytest.param("nope", "not an IPv4 network", id="garbage"),
        pytest.param("10.244.3.1/24", "not an IPv4 network", id="host-bits-set"),
        pytest.param("fd00::/64", "not an IPv4 network", id="ipv6"),
        pytest.param("10.244.3.0/31", "too small", id="too-small"),
    ],
)
def test_bad_pod_cidr(settings, cidr, message):
    with pytest.raises(CNIError, match=message):
        write_config(cidr, settings)


def test_unwritable_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(CNIError, match="cannot write"):
        write_config("10.244.3.0/24", CNISettings(conf_dir=blocker / "net.d", data_dir=tmp_path))
