"""Where a testbed keeps things on disk.

::

    <root>/<name>/
      state.json                 what runs where (``state.TestbedState``)
      .lock                      held while a command changes the testbed
      master/                    the master's --data-dir (pki/, admin.kubeconfig, its store)
      master.log
      nodes/pi-N/
        containerd.toml          this node's containerd configuration
        containerd.sock          its CRI / containerd API socket
        containerd/              containerd root: content, snapshots, metadata (the "SD card")
        run/                     volatile, like /run on a Pi: emptied at power-off
          containerd/            containerd state (task bundles, pod netns mounts)
          runc/                  runc state
          cni-ipam/              host-local IPAM leases of the testbed's own CNI config
        cni/net.d/               CNI config dir (the agent's --cni-conf-dir)
        agent/                   the agent's --data-dir
        kubeconfig               the agent's identity (system:node:pi-N)
        containerd.log, agent.log
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hw.testbed.naming import MASTER

__all__ = ["DEFAULT_ROOT", "NodePaths", "TestbedPaths"]

DEFAULT_ROOT = Path("/var/lib/picluster/testbed")


@dataclass(frozen=True)
class NodePaths:
    dir: Path

    @property
    def containerd_config(self) -> Path:
        return self.dir / "containerd.toml"

    @property
    def socket(self) -> Path:
        return self.dir / "containerd.sock"

    @property
    def containerd_root(self) -> Path:
        return self.dir / "containerd"

    @property
    def run(self) -> Path:
        return self.dir / "run"

    @property
    def containerd_state(self) -> Path:
        return self.run / "containerd"

    @property
    def runc_root(self) -> Path:
        return self.run / "runc"

    @property
    def ipam_dir(self) -> Path:
        return self.run / "cni-ipam"

    @property
    def cni_conf_dir(self) -> Path:
        return self.dir / "cni" / "net.d"

    @property
    def agent_dir(self) -> Path:
        return self.dir / "agent"

    @property
    def kubeconfig(self) -> Path:
        return self.dir / "kubeconfig"

    @property
    def containerd_log(self) -> Path:
        return self.dir / "containerd.log"

    @property
    def agent_log(self) -> Path:
        return self.dir / "agent.log"


@dataclass(frozen=True)
class TestbedPaths:
    __test__ = False

    root: Path
    name: str

    @property
    def dir(self) -> Path:
        return self.root / self.name

    @property
    def state(self) -> Path:
        return self.dir / "state.json"

    @property
    def lock(self) -> Path:
        return self.dir / ".lock"

    @property
    def master_dir(self) -> Path:
        return self.dir / "master"

    @property
    def master_log(self) -> Path:
        return self.dir / "master.log"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.master_dir / "admin.kubeconfig"

    def node(self, name: str) -> NodePaths:
        if name == MASTER:
            return NodePaths(self.master_dir)
        return NodePaths(self.dir / "nodes" / name)
