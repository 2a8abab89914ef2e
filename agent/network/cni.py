"""The node's CNI configuration: render it from the podCIDR and write it where containerd reads it.

The network, decided:

- ``bridge`` plugin on ``cni0`` with ``isGateway`` (the bridge holds the podCIDR's first
  address and is every pod's default gateway, so pod traffic to Service IPs is routed by
  the node, through our nftables table) and ``hairpinMode`` (a pod reaching itself through
  its Service gets its own packets back through the bridge port).
- ``ipMasq: false``: pod egress to outside the cluster CIDR is masqueraded by our own
  nftables table (``agent.proxy.rules``), not by the plugin's iptables rules.
- ``host-local`` IPAM on the podCIDR with its ``dataDir`` under the agent's data dir:
  the default ``/var/lib/cni/networks`` would be shared by every simulated node on one
  host and hand out the same addresses twice.
- ``portmap`` chained for ``hostPort`` mappings (``capabilities.portMappings``).
- ``loopback`` is not listed: containerd's CRI brings up each pod's ``lo`` by running the
  ``loopback`` plugin from its bin dir by itself.

The file is written atomically (temporary file, fsync, rename) and only when its content
changes, so containerd never reads half a file.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from master.util.files import write_atomic

__all__ = ["CNIError", "CNISettings", "config_is_current", "remove_config", "render_config", "write_config"]

CNI_VERSION = "0.4.0"


class CNIError(Exception):
    """Bad input (not an IPv4 CIDR) or the configuration could not be written."""


@dataclass(frozen=True, slots=True)
class CNISettings:
    conf_dir: Path = Path("/etc/cni/net.d")
    data_dir: Path = Path("/var/lib/picluster/agent")
    bridge: str = "cni0"
    network_name: str = "picluster"
    file_name: str = "10-picluster.conflist"
    mtu: int | None = None

    @property
    def path(self) -> Path:
        return self.conf_dir / self.file_name

    @property
    def ipam_dir(self) -> Path:
        return self.data_dir / "cni" / "networks"


def _subnet(pod_cidr: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.IPv4Network(pod_cidr, strict=True)
    except ValueError as exc:
        raise CNIError(f"cni: podCIDR {pod_cidr!r} is not an IPv4 network: {exc}") from None
    if net.prefixlen > 30:
        raise CNIError(f"cni: podCIDR {pod_cidr} is too small for pods (need /30 or larger)")
    return net


def render_config(pod_cidr: str, settings: CNISettings) -> dict[str, Any]:
    """The conflist for ``pod_cidr`` as a dict (what ``write_config`` serialises)."""
    net = _subnet(pod_cidr)
    gateway = str(net.network_address + 1)
    bridge: dict[str, Any] = {
        "type": "bridge",
        "bridge": settings.bridge,
        "isGateway": True,
        "ipMasq": False,
        "hairpinMode": True,
        "ipam": {
            "type": "host-local",
            "ranges": [[{"subnet": str(net), "gateway": gateway}]],
            "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": str(settings.ipam_dir),
        },
    }
    if settings.mtu is not None:
        bridge["mtu"] = settings.mtu
    return {
        "cniVersion": CNI_VERSION,
        "name": settings.network_name,
        "plugins": [
            bridge,
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def _encode(config: dict[str, Any]) -> bytes:
    return (json.dumps(config, indent=2, sort_keys=False) + "\n").encode()


def config_is_current(pod_cidr: str, settings: CNISettings) -> bool:
    """True when the file on disk is exactly what ``write_config`` would write."""
    try:
        return settings.path.read_bytes() == _encode(render_config(pod_cidr, settings))
    except OSError:
        return False


def write_config(pod_cidr: str, settings: CNISettings) -> bool:
    """Write the conflist for ``pod_cidr`` atomically; returns whether the file changed."""
    data = _encode(render_config(pod_cidr, settings))
    path = settings.path
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    try:
        settings.conf_dir.mkdir(parents=True, exist_ok=True)
        settings.ipam_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data, mode=0o644, sync_dir=True)
    except OSError as exc:
        raise CNIError(f"cni: cannot write {path}: {exc.strerror or exc}") from exc
    return True


def remove_config(settings: CNISettings) -> bool:
    try:
        settings.path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise CNIError(f"cni: cannot remove {settings.path}: {exc.strerror or exc}") from exc
    return True
