"""Each simulated Pi's containerd: its configuration, start and readiness.

Every node's containerd has its own root, state, sockets, runc root and CNI conf dir, so
several run side by side. Facts of this VM shape the config: the CRI needs
``restrict_oom_score_adj = true`` (the sandbox's oom_score_adj of -998 is refused otherwise,
"can't get final child's PID from pipe"), pod namespaces are mounted under the node's state
dir (so a power-off can drop them with the rest of the node's /run), and plugins a Pi does not
need are disabled to keep each instance small.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

import grpc
from cri_api.v1 import api_pb2, api_pb2_grpc

from hw.images.standard import PAUSE
from hw.testbed import procs
from hw.testbed.errors import ComponentFailed
from hw.testbed.layout import NodePaths
from hw.testbed.state import ProcRecord

__all__ = ["ContainerdSettings", "cri_ready", "render_config", "socket_ready", "start", "wait_ready"]

_DISABLED = (
    "io.containerd.snapshotter.v1.aufs",
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.zfs",
    "io.containerd.internal.v1.opt",
    "io.containerd.tracing.processor.v1.otlp",
    "io.containerd.internal.v1.tracing",
)


@dataclass(frozen=True)
class ContainerdSettings:
    binary: str = "containerd"
    cni_bin_dir: str = "/usr/lib/cni"
    sandbox_image: str = PAUSE
    snapshotter: str = "overlayfs"
    ready_timeout: float = 30.0


def _q(value: object) -> str:
    """A TOML basic string."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def render_config(paths: NodePaths, settings: ContainerdSettings = ContainerdSettings()) -> str:
    cri = '[plugins."io.containerd.grpc.v1.cri"'
    disabled = ", ".join(_q(p) for p in _DISABLED)
    return f"""# Written by the picluster testbed; rewritten at every start.
version = 2
root = {_q(paths.containerd_root)}
state = {_q(paths.containerd_state)}
disabled_plugins = [{disabled}]

[grpc]
  address = {_q(paths.socket)}

[ttrpc]
  address = {_q(str(paths.socket) + ".ttrpc")}

[debug]
  address = ""

[metrics]
  address = ""

{cri}]
  sandbox_image = {_q(settings.sandbox_image)}
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

{cri}.containerd]
  snapshotter = {_q(settings.snapshotter)}
  default_runtime_name = "runc"

{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

{cri}.containerd.runtimes.runc.options]
  Root = {_q(paths.runc_root)}
  SystemdCgroup = false

{cri}.cni]
  bin_dir = {_q(settings.cni_bin_dir)}
  conf_dir = {_q(paths.cni_conf_dir)}
  max_conf_num = 1
"""


def socket_ready(paths: NodePaths, timeout: float = 0.5) -> bool:
    """Does containerd accept connections on its socket?"""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        try:
            s.connect(str(paths.socket))
        except OSError:
            return False
    return True


def cri_ready(paths: NodePaths, timeout: float = 2.0) -> bool:
    """Does the CRI answer? It starts serving a moment after containerd's socket does."""
    if not socket_ready(paths):
        return False
    channel = grpc.insecure_channel(f"unix://{paths.socket}")
    try:
        api_pb2_grpc.RuntimeServiceStub(channel).Status(api_pb2.StatusRequest(), timeout=timeout)
    except grpc.RpcError:
        return False
    finally:
        channel.close()
    return True


def start(ns: str, paths: NodePaths, settings: ContainerdSettings = ContainerdSettings()) -> ProcRecord:
    for d in (paths.containerd_root, paths.containerd_state, paths.runc_root, paths.cni_conf_dir):
        d.mkdir(parents=True, exist_ok=True)
    paths.containerd_config.write_text(render_config(paths, settings))
    return procs.start(ns, [settings.binary, "--config", str(paths.containerd_config)],
                       log=paths.containerd_log)


def wait_ready(node: str, proc: ProcRecord, paths: NodePaths, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not cri_ready(paths):
        if not procs.alive(proc):
            raise ComponentFailed(
                f"containerd on {node} exited: {procs.log_tail(paths.containerd_log)}", log=paths.containerd_log
            )
        if time.monotonic() > deadline:
            raise ComponentFailed(
                f"containerd on {node} not ready after {timeout:g}s (see {paths.containerd_log})",
                log=paths.containerd_log,
            )
        time.sleep(0.05)
