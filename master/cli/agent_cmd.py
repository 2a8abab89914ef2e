"""``pictl agent``: the node agent (kubelet, pod network, service proxy) in one process.

    pictl agent --kubeconfig /etc/picluster/kubelet.kubeconfig --node-ip 192.168.1.21 \\
        [--server https://192.168.1.10:6443] [--node-name pi-1] \\
        [--container-runtime-endpoint unix:///run/containerd/containerd.sock] \\
        [--data-dir /var/lib/picluster/agent] [--pod-manifest-path /etc/kubernetes/manifests] \\
        [--cni-conf-dir /etc/cni/net.d] [--pod-cidr 10.244.1.0/24]

    pictl agent --server https://192.168.1.10:6443 --token K10<CA sha256>::<id>.<secret> ...
        joins with a token from ``pictl token create`` instead of a kubeconfig: the agent checks
        the server's CA against the token, gets its node certificate through a CSR, writes
        <data-dir>/kubelet.kubeconfig and renews the certificate before it expires
        (agent/kubelet/bootstrap.py)

Durations take Go's forms ("10s", "1m30s", "500ms") or plain seconds. One log line per start-up
step; SIGTERM or Ctrl-C stops the agent cleanly and leaves the pods running.

Once the flags check out, the command replaces itself (``os.execve``, same pid) with
``python -m agent.main``, which runs the agent without the CLI's libraries (agent/main.py).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
from dataclasses import replace
from pathlib import Path

import typer

from master.cli import relaunch

__all__ = ["parse_duration", "register"]

log = logging.getLogger("pictl.agent")

def parse_duration(text: str, flag: str) -> float:
    """"10s", "1m30s", "500ms", "2h" or "15" (seconds) -> seconds, more than zero; ValueError
    naming the flag."""
    from master.cli.kube.options import parse_duration as parse
    from master.cli.main import CLIError

    try:
        value = parse(text, flag=flag)
    except CLIError as exc:
        raise ValueError(str(exc)) from None
    if value <= 0:
        raise ValueError(f"invalid {flag} {text!r}: must be positive")
    return value


def _default_ip() -> str:
    import psutil

    for _name, addrs in sorted(psutil.net_if_addrs().items()):
        for a in addrs:
            if a.family == socket.AF_INET and not a.address.startswith("127."):
                return str(a.address)
    return "127.0.0.1"


def _exec_agent(settings: object, join: object, level: int) -> None:
    """Become ``python -m agent.main`` (same pid) without the CLI's libraries; see agent/main.py.
    Falls back to running here when the interpreter cannot be executed."""
    from agent.agent import AgentSettings
    from agent.main import LAUNCH_ENV, Launch, encode_launch, run

    assert isinstance(settings, AgentSettings)
    launch = Launch(settings=settings, join=join, log_level=level)
    relaunch.exec_python("import agent.main as m; raise SystemExit(m.main())", {LAUNCH_ENV: encode_launch(launch)})
    raise SystemExit(run(launch))


def register(app: typer.Typer) -> None:
    @app.command("agent")
    def agent(
        server: str = typer.Option("", "--server", help="apiserver URL (default: the kubeconfig's)."),
        kubeconfig: Path = typer.Option(None, "--kubeconfig", help="The agent's identity (system:node:<name>)."),
        token: str = typer.Option("", "--token", help="Join with a token from pictl token create (K10...::id.secret) "
                                                      "instead of a --kubeconfig; needs --server."),
        node_name: str = typer.Option("", "--node-name", help="Node name (default: the hostname)."),
        node_ip: str = typer.Option("", "--node-ip", help="The node's LAN address (InternalIP)."),
        runtime_endpoint: str = typer.Option("unix:///run/containerd/containerd.sock",
                                             "--container-runtime-endpoint", help="containerd's CRI socket."),
        data_dir: Path = typer.Option(Path("/var/lib/picluster/agent"), "--data-dir", help="State directory."),
        pod_manifest_path: Path = typer.Option(None, "--pod-manifest-path",
                                               help="Directory of static pod manifests (e.g. /etc/kubernetes/manifests)."),
        cni_conf_dir: Path = typer.Option(Path("/etc/cni/net.d"), "--cni-conf-dir",
                                          help="Where the pod network's CNI config is written."),
        pod_cidr: str = typer.Option("", "--pod-cidr",
                                     help="This node's pod CIDR, when no controller assigns one."),
        cluster_cidr: str = typer.Option("10.244.0.0/16", "--cluster-cidr", help="The cluster's pod network."),
        service_cidr: str = typer.Option("10.96.0.0/12", "--service-cluster-ip-range", help="The Service range."),
        address: str = typer.Option("0.0.0.0", "--address", help="Address to serve HTTPS on."),
        port: int = typer.Option(10250, "--port", help="HTTPS port (logs, metrics, healthz)."),
        cert_dir: Path = typer.Option(None, "--cert-dir", help="Serving certificate dir (default <data-dir>/pki)."),
        tls_cert_file: Path = typer.Option(None, "--tls-cert-file"),
        tls_key_file: Path = typer.Option(None, "--tls-private-key-file"),
        pod_log_dir: Path = typer.Option(None, "--pod-log-dir", help="Container logs (default <data-dir>/logs)."),
        node_status_update_frequency: str = typer.Option("10s", "--node-status-update-frequency"),
        node_status_report_frequency: str = typer.Option("5m", "--node-status-report-frequency"),
        node_lease_duration_seconds: int = typer.Option(40, "--node-lease-duration-seconds"),
        node_lease_renew_interval: str = typer.Option("10s", "--node-lease-renew-interval"),
        sync_frequency: str = typer.Option("10s", "--sync-frequency", help="Every pod is re-synced this often."),
        file_check_frequency: str = typer.Option("5s", "--file-check-frequency",
                                                 help="How often the manifest dir is read."),
        max_pods: int = typer.Option(110, "--max-pods"),
        cluster_dns: str = typer.Option("", "--cluster-dns", help="Comma-separated DNS server IPs for pods."),
        cluster_domain: str = typer.Option("cluster.local", "--cluster-domain"),
        disable: str = typer.Option("", "--disable", help="Comma-separated parts not to run: network, proxy."),
        log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error."),
    ) -> None:
        """Run the node agent: register the Node, run its pods, pod network and service proxy."""
        from master.cli.main import CLIError

        level = getattr(logging, log_level.upper(), None)
        if not isinstance(level, int):
            raise CLIError(f"invalid --log-level {log_level!r}")
        logging.basicConfig(level=level, stream=sys.stderr,
                            format="%(asctime)s %(levelname).1s %(name)s: %(message)s")
        try:
            settings = _settings(**locals())
            join = _join_settings(settings, token, server) if token else None
        except ValueError as exc:
            raise CLIError(str(exc)) from exc
        _exec_agent(settings, join, level)


def _join_settings(settings: object, token: str, server: str) -> object:
    from agent.agent import AgentSettings
    from agent.kubelet.bootstrap import join_settings

    assert isinstance(settings, AgentSettings)
    k = settings.kubelet
    return join_settings(token, server=server, node_name=k.node_name, node_ip=k.node_ip, data_dir=k.data_dir,
                         cert_dir=k.certs)


def _cidr(text: str, flag: str) -> str:
    try:
        return str(ipaddress.IPv4Network(text, strict=True))
    except ValueError as exc:
        raise ValueError(f"invalid {flag} {text!r}: {exc}") from None


def _settings(**o: object) -> object:
    from agent.agent import AgentSettings
    from agent.kubelet.cri.containerd import ContainerdRuntime
    from agent.kubelet.cri.errors import InvalidArgumentError
    from agent.kubelet.nodeinfo import NodeSettings
    from agent.kubelet.settings import KubeletSettings
    from master.client import errors, kubeconfig

    node_name = str(o["node_name"] or socket.gethostname()).lower()
    node_ip = str(o["node_ip"] or _default_ip())
    try:
        ipaddress.IPv4Address(node_ip)
    except ValueError:
        raise ValueError(f"invalid --node-ip {node_ip!r}: want an IPv4 address") from None
    port = int(o["port"])  # type: ignore[call-overload]
    if not 0 <= port <= 65535:
        raise ValueError(f"invalid --port {port}: want 0-65535")
    max_pods = int(o["max_pods"])  # type: ignore[call-overload]
    if max_pods < 1:
        raise ValueError(f"invalid --max-pods {max_pods}: must be at least 1")
    lease = int(o["node_lease_duration_seconds"])  # type: ignore[call-overload]
    if lease < 1:
        raise ValueError(f"invalid --node-lease-duration-seconds {lease}: must be positive")
    try:
        ContainerdRuntime(str(o["runtime_endpoint"]))
    except InvalidArgumentError as exc:
        raise ValueError(f"invalid --container-runtime-endpoint: {exc}") from None
    disabled = {p.strip() for p in str(o["disable"]).split(",") if p.strip()}
    unknown = disabled - {"network", "proxy"}
    if unknown:
        raise ValueError(f"invalid --disable {','.join(sorted(unknown))}: want network and/or proxy")
    dns = tuple(p.strip() for p in str(o["cluster_dns"]).split(",") if p.strip())
    for ip in dns:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise ValueError(f"invalid --cluster-dns {ip!r}: want IP addresses") from None
    kc = o["kubeconfig"]
    if o.get("token"):
        from agent.kubelet.bootstrap import KUBECONFIG_NAME

        # Written by the join (agent/kubelet/bootstrap.py).
        kc = kc if kc is not None else Path(str(o["data_dir"])).absolute() / KUBECONFIG_NAME
    elif kc is None:
        raise ValueError("--kubeconfig or --token is required (the agent's identity; pictl testbed writes a "
                         "kubeconfig per node, pictl token create makes a join token)")
    else:
        try:
            kubeconfig.load_client_config(str(kc), server=str(o["server"]) or None)
        except errors.ConfigError as exc:
            raise ValueError(str(exc)) from None
    manifests = o["pod_manifest_path"]
    kubelet = KubeletSettings(
        node_name=node_name,
        node_ip=node_ip,
        data_dir=Path(str(o["data_dir"])).absolute(),
        pod_log_dir=Path(str(o["pod_log_dir"])).absolute() if o["pod_log_dir"] is not None else None,
        pod_manifest_path=Path(str(manifests)).absolute() if manifests is not None else None,
        port=port,
        address=str(o["address"]),
        cert_dir=Path(str(o["cert_dir"])).absolute() if o["cert_dir"] is not None else None,
        cluster_dns=dns,
        cluster_domain=str(o["cluster_domain"]),
        node_status_update_frequency=parse_duration(str(o["node_status_update_frequency"]),
                                                    "--node-status-update-frequency"),
        node_status_report_frequency=parse_duration(str(o["node_status_report_frequency"]),
                                                    "--node-status-report-frequency"),
        node_lease_duration_seconds=lease,
        node_lease_renew_interval=parse_duration(str(o["node_lease_renew_interval"]), "--node-lease-renew-interval"),
        sync_frequency=parse_duration(str(o["sync_frequency"]), "--sync-frequency"),
        static_pod_check_period=parse_duration(str(o["file_check_frequency"]), "--file-check-frequency"),
        node=replace(NodeSettings(), max_pods=max_pods),
    )
    pod_cidr = str(o["pod_cidr"])
    return AgentSettings(
        kubelet=kubelet,
        kubeconfig=Path(str(kc)),
        server=str(o["server"]) or None,
        runtime_endpoint=str(o["runtime_endpoint"]),
        cni_conf_dir=Path(str(o["cni_conf_dir"])).absolute(),
        pod_cidr=_cidr(pod_cidr, "--pod-cidr") if pod_cidr else None,
        cluster_cidr=_cidr(str(o["cluster_cidr"]), "--cluster-cidr"),
        service_cidr=_cidr(str(o["service_cidr"]), "--service-cluster-ip-range"),
        tls_cert_file=Path(str(o["tls_cert_file"])) if o["tls_cert_file"] is not None else None,
        tls_key_file=Path(str(o["tls_key_file"])) if o["tls_key_file"] is not None else None,
        network="network" not in disabled,
        proxy="proxy" not in disabled,
    )
