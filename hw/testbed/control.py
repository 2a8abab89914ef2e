"""The master and the agents of a testbed, started through ``pictl`` like on real Pis.

The master runs in its own namespace on the LAN::

    pictl master --data-dir <tb>/master --bind-address 10.77.K.10 --secure-port 6443 [master args]

and is ready when ``https://10.77.K.10:6443/readyz`` answers 200 (checked against the CA it
wrote to ``<tb>/master/pki/ca.crt``). Each agent runs in its node's namespace::

    pictl agent --server https://10.77.K.10:6443 --kubeconfig <node>/kubeconfig
        --node-name pi-N --node-ip 10.77.K.(10+N)
        --container-runtime-endpoint unix://<node>/containerd.sock
        --data-dir <node>/agent --cni-conf-dir <node>/cni/net.d [agent args]

with a client certificate for ``system:node:pi-N`` (group ``system:nodes``) signed by the
cluster CA. ``available`` tells whether this ``pictl`` has a command at all (``master``
and ``agent`` arrive in later issues), so a testbed can still come up without them.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from hw.testbed import procs
from hw.testbed.errors import ComponentFailed
from hw.testbed.layout import NodePaths, TestbedPaths
from hw.testbed.naming import MASTER, Plan
from hw.testbed.state import ProcRecord
from master.util import pki

__all__ = [
    "agent_argv",
    "api_get",
    "available",
    "master_argv",
    "master_ready",
    "node_ready",
    "pictl_command",
    "start_agent",
    "start_master",
    "wait_master_ready",
    "write_node_kubeconfig",
    "write_node_serving_cert",
]

SECURE_PORT = 6443


def pictl_command() -> tuple[str, ...]:
    """How to run ``pictl``: the console script beside this interpreter, else the module."""
    script = Path(sys.executable).parent / "pictl"
    if script.exists():
        return (str(script),)
    found = shutil.which("pictl")
    return (found,) if found else (sys.executable, "-m", "master.cli.main")


@functools.cache
def available(pictl: tuple[str, ...], command: str) -> bool:
    """Does ``pictl <command> --help`` work?"""
    try:
        proc = subprocess.run([*pictl, command, "--help"], capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


def master_argv(pictl: tuple[str, ...], plan: Plan, tb: TestbedPaths, extra: list[str]) -> list[str]:
    return [*pictl, "master", "--data-dir", str(tb.master_dir), "--bind-address", plan.master_ip,
            "--secure-port", str(SECURE_PORT), *extra]


def start_master(pictl: tuple[str, ...], plan: Plan, tb: TestbedPaths, extra: list[str]) -> ProcRecord:
    tb.master_dir.mkdir(parents=True, exist_ok=True)
    return procs.start(plan.netns(MASTER), master_argv(pictl, plan, tb, extra), log=tb.master_log,
                       cwd=tb.master_dir)


def _ssl_context(tb: TestbedPaths) -> ssl.SSLContext:
    pki_dir = tb.master_dir / "pki"
    ctx = ssl.create_default_context(cafile=str(pki_dir / "ca.crt"))
    admin_cert, admin_key = pki_dir / "admin.crt", pki_dir / "admin.key"
    if admin_cert.exists() and admin_key.exists():
        ctx.load_cert_chain(str(admin_cert), str(admin_key))
    return ctx


def api_get(plan: Plan, tb: TestbedPaths, path: str, *, timeout: float = 2.0) -> tuple[int, bytes]:
    """GET ``path`` from the testbed's apiserver as the admin; (status, body). Raises OSError."""
    ctx = _ssl_context(tb)
    req = urllib.request.Request(plan.server_url(SECURE_PORT) + path)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, ssl.SSLError, TimeoutError, ConnectionError) as exc:
        raise OSError(str(exc)) from exc


def master_ready(plan: Plan, tb: TestbedPaths) -> bool:
    if not (tb.master_dir / "pki" / "ca.crt").exists():
        return False
    try:
        status, _ = api_get(plan, tb, "/readyz", timeout=1.0)
    except OSError:
        return False
    return status == 200


def wait_master_ready(plan: Plan, tb: TestbedPaths, proc: ProcRecord, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not (master_ready(plan, tb) and tb.admin_kubeconfig.exists()):
        if not procs.alive(proc):
            raise ComponentFailed(f"the master exited: {procs.log_tail(tb.master_log)}", log=tb.master_log)
        if time.monotonic() > deadline:
            raise ComponentFailed(
                f"the master is not ready after {timeout:g}s (see {tb.master_log})", log=tb.master_log
            )
        time.sleep(0.1)


def node_ready(plan: Plan, tb: TestbedPaths, node: str) -> bool:
    """Does the apiserver have Node ``node`` with condition Ready=True?"""
    try:
        status, body = api_get(plan, tb, f"/api/v1/nodes/{node}")
    except OSError:
        return False
    if status != 200:
        return False
    try:
        conditions = json.loads(body).get("status", {}).get("conditions", []) or []
    except (ValueError, AttributeError):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def write_node_kubeconfig(plan: Plan, tb: TestbedPaths, node: str, dest: Path) -> None:
    """A kubeconfig for ``system:node:<node>`` signed by the cluster CA (the master's pki/)."""
    pki_dir = tb.master_dir / "pki"
    try:
        ca = pki.read_cert_key(pki_dir / "ca.crt", pki_dir / "ca.key")
    except pki.PKIError as exc:
        raise ComponentFailed(f"cannot make {node}'s identity: {exc}") from exc
    user = f"system:node:{node}"
    pair = pki.client_cert(ca, user, groups=["system:nodes"])
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "picluster", "cluster": {
            "server": plan.server_url(SECURE_PORT), "certificate-authority-data": _b64(ca.cert_pem)}}],
        "users": [{"name": user, "user": {
            "client-certificate-data": _b64(pair.cert_pem), "client-key-data": _b64(pair.key_pem)}}],
        "contexts": [{"name": node, "context": {"cluster": "picluster", "user": user}}],
        "current-context": node,
    }
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    tmp.replace(dest)


def write_node_serving_cert(plan: Plan, tb: TestbedPaths, node: str, cert_dir: Path) -> None:
    """The agent's HTTPS pair (``kubelet.crt``/``kubelet.key`` in its ``--cert-dir``), signed by
    the cluster CA for the node's name and address, so the apiserver's log proxy trusts it."""
    pki_dir = tb.master_dir / "pki"
    try:
        ca = pki.read_cert_key(pki_dir / "ca.crt", pki_dir / "ca.key")
    except pki.PKIError as exc:
        raise ComponentFailed(f"cannot make {node}'s serving certificate: {exc}") from exc
    pair = pki.serving_cert(ca, node, [node, plan.ip(node)])
    cert_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    pki.write_cert_key(pair, cert_dir / "kubelet.crt", cert_dir / "kubelet.key")


def agent_argv(pictl: tuple[str, ...], plan: Plan, node: str, paths: NodePaths, extra: list[str]) -> list[str]:
    return [
        *pictl, "agent",
        "--server", plan.server_url(SECURE_PORT),
        "--kubeconfig", str(paths.kubeconfig),
        "--node-name", node,
        "--node-ip", plan.ip(node),
        "--container-runtime-endpoint", f"unix://{paths.socket}",
        "--data-dir", str(paths.agent_dir),
        "--cni-conf-dir", str(paths.cni_conf_dir),
        *extra,
    ]


def start_agent(pictl: tuple[str, ...], plan: Plan, node: str, paths: NodePaths, extra: list[str]) -> ProcRecord:
    paths.agent_dir.mkdir(parents=True, exist_ok=True)
    return procs.start(plan.netns(node), agent_argv(pictl, plan, node, paths, extra), log=paths.agent_log,
                       cwd=paths.agent_dir)
