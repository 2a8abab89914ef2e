"""The testbed's own CNI config, for nodes that run without an agent.

With agents, the agent writes the node's real CNI config into the same conf dir
(``--cni-conf-dir``); the testbed writes this one only for ``up --no-agents``, so containerd
alone can run pods. It is a plain bridge (``cni0`` inside the node) with host-local IPAM on the
node's pod CIDR; the IPAM data dir is per node (the default, /var/lib/cni/networks, would be
shared by every node on this machine) and volatile, so a power-off forgets leases the way
a reboot does.
"""

from __future__ import annotations

import ipaddress
import json

from hw.testbed.layout import NodePaths
from hw.testbed.naming import node_number

__all__ = ["CONF_NAME", "pod_cidr", "render_conflist", "write_conflist"]

CONF_NAME = "10-testbed.conflist"
CLUSTER_CIDR = ipaddress.IPv4Network("10.244.0.0/16")


def pod_cidr(node: str) -> ipaddress.IPv4Network:
    """pi-n gets 10.244.n.0/24."""
    return list(CLUSTER_CIDR.subnets(new_prefix=24))[node_number(node)]


def render_conflist(node: str, paths: NodePaths) -> str:
    return json.dumps({
        "cniVersion": "0.4.0",
        "name": "testbed",
        "plugins": [{
            "type": "bridge",
            "bridge": "cni0",
            "isGateway": True,
            "ipMasq": False,
            "hairpinMode": True,
            "ipam": {
                "type": "host-local",
                "dataDir": str(paths.ipam_dir),
                "ranges": [[{"subnet": str(pod_cidr(node))}]],
                "routes": [{"dst": "0.0.0.0/0"}],
            },
        }],
    }, indent=2) + "\n"


def write_conflist(node: str, paths: NodePaths) -> None:
    paths.cni_conf_dir.mkdir(parents=True, exist_ok=True)
    tmp = paths.cni_conf_dir / f".{CONF_NAME}.tmp"
    tmp.write_text(render_conflist(node, paths))
    tmp.replace(paths.cni_conf_dir / CONF_NAME)
