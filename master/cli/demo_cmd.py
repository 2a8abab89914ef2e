"""``pictl demo``: the README's main job, a simulated Pi cluster serving a web app.

::

    pictl demo up                  testbed "picluster" (master + pi-1..pi-3), the web app
                                   (Deployment of 3 + NodePort Service 30080), wait until every
                                   node's NodePort answers, print a summary and what to try next
    pictl demo up --nodes 5        more Pis (when the testbed is made; an existing one is reused)
    pictl demo down                remove the testbed and everything in it

Rerunning ``up`` is safe: a testbed that is up is reused as it is, a powered-off or cut-off
node and a stopped component are brought back first, and the app is applied again
(``unchanged`` when nobody touched it; a scaled or edited app returns to the manifest).
The app's manifest is ``WEB_APP`` (the same text as ``examples/web.yaml``).
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import typer
from rich.console import Console

from hw.testbed import DEFAULT_NAME, Testbed, TestbedError, TestbedExists
from hw.testbed import control as tbcontrol
from master.cli import testbed_cmd
from master.cli.main import CLIError

__all__ = ["APP_NAME", "NODE_PORT", "WEB_APP", "AppState", "register"]

APP_NAME = "web"
NODE_PORT = 30080

# The demo app. Readiness on /healthz and a short preStop pause let a rolling update or a
# scale-down finish without a failed request: the endpoint leaves the proxy's rules before the
# server stops. 30 s tolerations (instead of the default 300 s) move the pods of a failed Pi
# to the others about a minute after it fails (40 s node grace period + 30 s).
WEB_APP = """\
# The demo app: three replicas of the testbed's web image behind a NodePort Service.
#   pictl apply -f examples/web.yaml
#   curl http://<any node IP>:30080/        ->  "1 web-<hash>-<id>"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app: web
    spec:
      terminationGracePeriodSeconds: 10
      tolerations:
        - key: node.kubernetes.io/not-ready
          operator: Exists
          effect: NoExecute
          tolerationSeconds: 30
        - key: node.kubernetes.io/unreachable
          operator: Exists
          effect: NoExecute
          tolerationSeconds: 30
      containers:
        - name: web
          image: localhost/web:1
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: 8080
          readinessProbe:
            httpGet:
              path: /healthz
              port: 8080
            periodSeconds: 1
            failureThreshold: 1
          lifecycle:
            preStop:
              exec:
                command: ["sleep", "2"]
          resources:
            requests:
              cpu: 50m
              memory: 16Mi
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels:
    app: web
spec:
  type: NodePort
  selector:
    app: web
  ports:
    - name: http
      port: 80
      targetPort: http
      nodePort: 30080
"""

NAME_OPTION = typer.Option(DEFAULT_NAME, "--name", "-n", help="Testbed name.")


@dataclass(frozen=True)
class AppState:
    """What the cluster shows of the app at one moment."""

    desired: int = 0
    replicas: int = 0  # pods of every version that are not terminating
    pods: int = 0  # the app's pods, terminating ones included
    terminating: int = 0
    updated: int = 0
    ready: int = 0
    endpoints: int = 0
    node_port: int = NODE_PORT
    # node name -> the body its NodePort answered with ("" when it did not answer)
    answers: tuple[tuple[str, str], ...] = ()
    current: bool = False  # the Deployment controller has seen the latest spec

    @property
    def serving(self) -> int:
        return sum(1 for _, body in self.answers if body)

    @property
    def done(self) -> bool:
        settled = self.replicas == self.pods == self.updated == self.ready == self.desired and not self.terminating
        return self.current and self.desired > 0 and settled and 0 < self.serving == len(self.answers)

    def line(self) -> str:
        gone = f", {self.terminating} terminating" if self.terminating else ""
        return (f"pods ready {self.ready}/{self.desired} (updated {self.updated}{gone}), endpoints {self.endpoints}, "
                f"NodePort {self.node_port} answers on {self.serving}/{len(self.answers)} nodes")


def _api_json(tb: Testbed, path: str) -> dict[str, Any] | None:
    try:
        status, body = tbcontrol.api_get(tb.plan, tb.paths, path)
    except OSError:
        return None
    if status != 200:
        return None
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def http_get(url: str, *, timeout: float = 2.0) -> str:
    """The body of ``url`` (stripped), or "" when it does not answer 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return str(resp.read().decode(errors="replace").strip())
    except (urllib.error.URLError, OSError, ValueError):
        return ""


def observe(tb: Testbed, namespace: str = "default", name: str = APP_NAME) -> AppState:
    """The app's state: Deployment status, ready endpoints, and one GET per node's NodePort."""
    dep = _api_json(tb, f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}") or {}
    spec, status = dep.get("spec") or {}, dep.get("status") or {}
    meta = dep.get("metadata") or {}
    pods = _api_json(tb, f"/api/v1/namespaces/{namespace}/pods?labelSelector=app%3D{name}") or {}
    eps = _api_json(tb, f"/api/v1/namespaces/{namespace}/endpoints/{name}") or {}
    ready_eps = sum(len(s.get("addresses") or []) for s in eps.get("subsets") or [])
    svc = _api_json(tb, f"/api/v1/namespaces/{namespace}/services/{name}") or {}
    ports = (svc.get("spec") or {}).get("ports") or [{}]
    node_port = int(ports[0].get("nodePort") or NODE_PORT)
    answers = tuple((node.name, http_get(f"http://{node.ip}:{node_port}/", timeout=1.0)) for node in tb.nodes)
    return AppState(
        desired=int(spec.get("replicas", 0) or 0),
        replicas=int(status.get("replicas", 0) or 0),
        pods=len(pods.get("items") or []),
        terminating=sum(1 for p in pods.get("items") or [] if (p.get("metadata") or {}).get("deletionTimestamp")),
        updated=int(status.get("updatedReplicas", 0) or 0),
        ready=int(status.get("readyReplicas", 0) or 0),
        endpoints=ready_eps,
        node_port=node_port,
        answers=answers,
        current=bool(meta) and int(status.get("observedGeneration", 0) or 0) >= int(meta.get("generation", 1) or 1),
    )


def _name_flag(name: str) -> str:
    return "" if name == DEFAULT_NAME else f" --name {name}"


def _bring_up(tb: Testbed, nodes: int, master_args: Sequence[str], agent_args: Sequence[str],
              report: Callable[[str], None]) -> None:
    """The testbed up and whole: made when missing, else reused with anything broken repaired."""
    try:
        tb.up(nodes, master_args=master_args, agent_args=agent_args, progress=report)
    except TestbedExists:
        st = tb.state
        if not (st.master and st.agents):
            raise CLIError(f"testbed {tb.name!r} runs without a master or agents; "
                           f"pictl demo down{_name_flag(tb.name)} first, or pick another --name") from None
        report(f"reusing testbed {tb.name} ({len(tb.nodes)} nodes)")
    for comp, why in tb.state.unavailable.items():
        raise CLIError(f"the demo needs the {comp}, but {why}")  # the first one is enough
    if _revive(tb, report):
        tb.wait_nodes_ready(progress=report)


def _revive(tb: Testbed, report: Callable[[str], None]) -> bool:
    """Undo what a fault left behind (power, LAN, stopped processes), master first; True when
    something needed it."""
    acted = False
    for row in tb.status():
        if not row.powered:
            report(f"{row.name}: powering on")
            tb.power_on(row.name)
            acted = True
        if not row.lan_connected:
            report(f"{row.name}: reconnecting to the LAN")
            tb.set_connected(row.name, True)
            acted = True
        if row.powered:
            for comp in row.components:
                if not comp.running and not comp.note:
                    report(f"{row.name}: starting {comp.component}")
                    tb.start_component(row.name, comp.component)
                    acted = True
    return acted


def _pictl(tb: Testbed, args: Sequence[str], *, input: str | None = None) -> subprocess.CompletedProcess[str]:
    argv = [*tbcontrol.pictl_command(), *args, "--kubeconfig", str(tb.kubeconfig)]
    return subprocess.run(argv, input=input, capture_output=True, text=True, timeout=120)


def _apply(tb: Testbed, report: Callable[[str], None]) -> None:
    proc = _pictl(tb, ["apply", "-f", "-"], input=WEB_APP)
    if proc.returncode != 0:
        raise CLIError(f"applying the web app failed: {(proc.stderr or proc.stdout).strip()}")
    for line in proc.stdout.splitlines():
        report(line)


def _wait_serving(tb: Testbed, timeout: float, report: Callable[[str], None]) -> AppState:
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        state = observe(tb)
        if state.line() != last:
            last = state.line()
            report(last)
        if state.done:
            return state
        if time.monotonic() > deadline:
            raise CLIError(
                f"the web app is not serving after {timeout:g}s ({last}); look at it with: "
                f"KUBECONFIG={tb.kubeconfig} pictl get pods -o wide; pictl describe deployment {APP_NAME}"
            )
        time.sleep(0.5)


def _summary(tb: Testbed, state: AppState, elapsed: float, out: Console) -> None:
    flag = _name_flag(tb.name)
    out.print(f"\n[bold green]picluster demo is up[/bold green] ({elapsed:.1f}s): "
              f"{len(tb.nodes)} simulated Pis, master at {tb.server}\n")
    for args in (["get", "nodes", "-o", "wide"], ["get", "pods", "-o", "wide"]):
        proc = _pictl(tb, args)
        out.print(f"$ pictl {' '.join(args)}", style="bold")
        out.print((proc.stdout or proc.stderr).rstrip(), markup=False, highlight=False)
        out.print()
    out.print(f"The web app answers through its NodePort {state.node_port} on every node:", style="bold")
    ips = {n.name: n.ip for n in tb.nodes}
    for node, body in state.answers:
        out.print(f"  curl http://{ips[node]}:{state.node_port}/   ->  {body}", markup=False, highlight=False)
    first = tb.nodes[0].ip
    out.print("\nTry next (pictl and kubectl reach this cluster once KUBECONFIG is set):", style="bold")
    hints = [
        (f"export KUBECONFIG={tb.kubeconfig}", ""),
        ("pictl get nodes -o wide", ""),
        ("pictl get pods -o wide", ""),
        (f"curl http://{first}:{state.node_port}/", "another pod answers each time"),
        (f"pictl scale deployment {APP_NAME} --replicas 6", ""),
        (f"pictl testbed fault pi-2 power-off{flag}", "its pods move to the other Pis in about a minute"),
        (f"pictl testbed fault pi-2 power-on{flag}", ""),
        (f"pictl testbed status{flag}", ""),
        (f"pictl testbed down{flag}", "remove it all (or: bash scripts/demo.sh --down)"),
    ]
    width = max(len(cmd) for cmd, why in hints if why)
    for cmd, why in hints:
        out.print(f"  {cmd:<{width}}   # {why}" if why else f"  {cmd}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    demo_app = typer.Typer(
        name="demo",
        help="The main job: a simulated Pi cluster serving a web app (up), and its removal (down).",
        no_args_is_help=True,
    )
    app.add_typer(demo_app, name="demo")
    # soft_wrap: long lines (kubeconfig paths, wide tables) stay whole when piped to a file.
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    out = Console(highlight=False, soft_wrap=True)

    @demo_app.command("up")
    def up(
        nodes: int = typer.Option(3, "--nodes", min=1, max=244, help="Simulated Pis of a new testbed."),
        name: str = NAME_OPTION,
        timeout: float = typer.Option(300.0, "--timeout", min=1.0, help="Seconds to wait for the app to answer."),
        master_arg: list[str] = typer.Option([], "--master-arg", help="Extra flag for pictl master (repeat)."),
        agent_arg: list[str] = typer.Option([], "--agent-arg", help="Extra flag for every pictl agent (repeat)."),
    ) -> None:
        """Bring up the testbed, deploy the web app, wait until it answers on every node, show what to try."""
        start = time.monotonic()
        report = testbed_cmd.progress(err, start)
        try:
            tb = Testbed(name)
            err.print(f"[bold]1/3[/bold] testbed {name}: master + {nodes} simulated Pis")
            _bring_up(tb, nodes, master_arg, agent_arg, report)
            err.print(f"[bold]2/3[/bold] the web app: Deployment {APP_NAME} (3 x localhost/web:1) "
                      f"and NodePort Service {APP_NAME}")
            _apply(tb, report)
            err.print("[bold]3/3[/bold] waiting until it answers through the NodePort on every node")
            state = _wait_serving(tb, timeout, report)
        except TestbedError as exc:
            raise CLIError(str(exc)) from exc
        _summary(tb, state, time.monotonic() - start, out)

    @demo_app.command("down")
    def down(name: str = NAME_OPTION) -> None:
        """Remove the demo's testbed: processes, namespaces, links, files. Safe to repeat."""
        try:
            Testbed(name).down(progress=testbed_cmd.progress(err))
        except TestbedError as exc:
            raise CLIError(str(exc)) from exc
