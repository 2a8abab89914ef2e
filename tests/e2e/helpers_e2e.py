"""What the end-to-end scenarios share: a ``Cluster`` around a running testbed, traffic, manifests.

::

    c = Cluster(tb)                                     # the testbed's master, agents and CLI
    c.pictl("apply", "-f", "-", input=manifest(...))    # the real CLI (KUBECONFIG is the admin's)
    c.get(f"/api/v1/namespaces/{ns}/pods")              # a JSON read as the admin
    c.wait(lambda: c.ready_pods(ns, "app=web") == 3, "3 web pods ready")
    with Load(urls) as load: ...                        # requests in a thread; load.failures()
    c.curl_in("pi-1", url)                              # the host's curl inside a node (or a pod)

Every wait has a generous deadline and fails with what it waited for plus the cluster's state
(``Cluster.diagnose``), never with a timing assertion.
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from cri_api.v1 import api_pb2, api_pb2_grpc

from hw.images.standard import WEB_PORT
from hw.testbed import Testbed, netns, procs
from hw.testbed import control as tbcontrol

__all__ = [
    "WAIT",
    "Cluster",
    "Load",
    "Result",
    "WaitTimeout",
    "daemonset",
    "http_get",
    "is_ready",
    "manifest",
    "names",
    "nodes_of",
    "service",
    "web_deployment",
]

# Deadlines for "eventually" (never assertions about speed: the machine is shared and slow).
WAIT = 180.0


# ---- manifests ---------------------------------------------------------------------------

def web_deployment(
    name: str = "web",
    *,
    replicas: int = 3,
    version: str = "1",
    toleration_seconds: int | None = None,
    grace: int = 5,
) -> dict[str, Any]:
    """A Deployment of the testbed's web image, ready on /healthz, with a short preStop pause so
    an endpoint leaves the proxies' rules before its server stops (no failed requests)."""
    tolerations = [] if toleration_seconds is None else [
        {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": toleration_seconds}
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
    ]
    spec: dict[str, Any] = {
        "terminationGracePeriodSeconds": grace,
        "containers": [{
            "name": "web",
            "image": f"localhost/web:{version}",
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"name": "http", "containerPort": WEB_PORT}],
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": WEB_PORT},
                               "periodSeconds": 1, "failureThreshold": 1},
            "lifecycle": {"preStop": {"exec": {"command": ["sleep", "2"]}}},
        }],
    }
    if tolerations:
        spec["tolerations"] = tolerations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec},
        },
    }


def service(name: str = "web", *, selector: str | None = None, node_port: bool = True) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"app": selector or name},
        "ports": [{"name": "http", "port": 80, "targetPort": WEB_PORT}],
    }
    if node_port:
        spec["type"] = "NodePort"
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def daemonset(name: str = "agent-ds") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "terminationGracePeriodSeconds": 2,
                    "containers": [{"name": "web", "image": "localhost/web:1",
                                    "imagePullPolicy": "IfNotPresent"}],
                },
            },
        },
    }


def manifest(*objects: dict[str, Any]) -> str:
    """A multi-document manifest (JSON is YAML)."""
    return "\n---\n".join(json.dumps(o) for o in objects) + "\n"


# ---- traffic -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    at: float
    url: str
    body: str  # "" on failure
    error: str = ""


def http_get(url: str, *, timeout: float = 3.0) -> Result:
    """One GET on a fresh connection (every request is a new flow through the proxy's rules)."""
    at = time.monotonic()
    host, _, rest = url.removeprefix("http://").partition("/")
    addr, _, port = host.partition(":")
    conn = http.client.HTTPConnection(addr, int(port or 80), timeout=timeout)
    try:
        conn.request("GET", "/" + rest, headers={"Connection": "close"})
        resp = conn.getresponse()
        body = resp.read().decode(errors="replace").strip()
        if resp.status != 200:
            return Result(at, url, "", f"HTTP {resp.status}")
        return Result(at, url, body)
    except (OSError, http.client.HTTPException) as exc:
        return Result(at, url, "", f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


class Load:
    """GETs in a loop on a thread (round-robin over ``urls``), inside ``netns_name`` if given,
    until the ``with`` block ends; every result is kept."""

    def __init__(self, urls: Sequence[str], *, netns_name: str | None = None, pause: float = 0.02) -> None:
        self.urls = list(urls)
        self.netns_name = netns_name
        self.pause = pause
        self.results: list[Result] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="e2e-load", daemon=True)

    def _loop(self) -> None:
        i = 0
        while not self._stop.is_set():
            self.results.append(http_get(self.urls[i % len(self.urls)]))
            i += 1
            time.sleep(self.pause)

    def _run(self) -> None:
        if self.netns_name is None:
            self._loop()
        else:
            netns.run_in(self.netns_name, self._loop)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def failures(self) -> list[Result]:
        return [r for r in self.results if not r.body]

    def summary(self) -> str:
        fails = self.failures()
        first = "; ".join(f"{r.url}: {r.error}" for r in fails[:5])
        return f"{len(self.results)} requests, {len(fails)} failed{': ' + first if fails else ''}"


# ---- the cluster -------------------------------------------------------------------------

class WaitTimeout(AssertionError):
    pass


@dataclass
class Cluster:
    """A testbed with a master and agents, seen the way a user sees it."""

    tb: Testbed
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), "NO_COLOR": "1", "COLUMNS": "200"}

    @property
    def kubeconfig(self) -> Path:
        return self.tb.kubeconfig

    # -- the CLIs --

    def run(self, argv: Sequence[str], *, input: str | None = None, check: bool = True,
            timeout: float = 240.0, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(list(argv), input=input, capture_output=True, text=True, timeout=timeout,
                              env=env or self.env)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def pictl(self, *args: str, input: str | None = None, check: bool = True,
              timeout: float = 240.0, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return self.run([*tbcontrol.pictl_command(), *args], input=input, check=check, timeout=timeout, env=env)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True,
                timeout: float = 240.0) -> subprocess.CompletedProcess[str]:
        cache = self.tb.paths.dir / "kubectl-cache"
        return self.run(["kubectl", f"--cache-dir={cache}", *args], input=input, check=check, timeout=timeout)

    def apply(self, ns: str, *objects: dict[str, Any]) -> None:
        self.pictl("apply", "-n", ns, "-f", "-", input=manifest(*objects))

    # -- reads --

    def _ssl(self) -> ssl.SSLContext:
        pki = self.tb.paths.master_dir / "pki"
        ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        return ctx

    def get(self, path: str, *, timeout: float = 10.0) -> dict[str, Any]:
        """GET ``path`` as the admin; the JSON object (AssertionError on any failure)."""
        req = urllib.request.Request(self.tb.server + path)
        try:
            with urllib.request.urlopen(req, context=self._ssl(), timeout=timeout) as resp:
                doc = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"GET {path}: HTTP {exc.code}: {exc.read()[:300]!r}") from exc
        except (OSError, ValueError) as exc:
            raise AssertionError(f"GET {path}: {exc}") from exc
        assert isinstance(doc, dict)
        return doc

    def try_get(self, path: str) -> dict[str, Any] | None:
        try:
            return self.get(path, timeout=5.0)
        except AssertionError:
            return None

    def watch_lines(self, path: str, *, timeout_seconds: int = 5) -> list[dict[str, Any]]:
        """The events of a watch on ``path`` (with ``watch=1&...``) until the server ends it."""
        sep = "&" if "?" in path else "?"
        req = urllib.request.Request(f"{self.tb.server}{path}{sep}watch=1&timeoutSeconds={timeout_seconds}")
        events = []
        with urllib.request.urlopen(req, context=self._ssl(), timeout=timeout_seconds + 30) as resp:
            for line in resp:
                if line.strip():
                    events.append(json.loads(line))
        return events

    def pods(self, ns: str, selector: str = "") -> list[dict[str, Any]]:
        q = f"?labelSelector={urllib.parse.quote(selector)}" if selector else ""
        return list(self.get(f"/api/v1/namespaces/{ns}/pods{q}").get("items") or [])

    def node(self, name: str) -> dict[str, Any]:
        return self.get(f"/api/v1/nodes/{name}")

    def node_ready(self, name: str) -> bool:
        doc = self.try_get(f"/api/v1/nodes/{name}")
        return doc is not None and _condition(doc, "Ready") == "True"

    def node_taints(self, name: str) -> set[tuple[str, str]]:
        doc = self.try_get(f"/api/v1/nodes/{name}") or {}
        return {(t.get("key", ""), t.get("effect", "")) for t in (doc.get("spec") or {}).get("taints") or []}

    def live_pods(self, ns: str, selector: str = "") -> list[dict[str, Any]]:
        """Pods that are not terminating."""
        return [p for p in self.pods(ns, selector) if not p["metadata"].get("deletionTimestamp")]

    def ready_pods(self, ns: str, selector: str = "") -> list[dict[str, Any]]:
        return [p for p in self.live_pods(ns, selector) if is_ready(p)]

    def endpoints(self, ns: str, name: str) -> set[str]:
        doc = self.try_get(f"/api/v1/namespaces/{ns}/endpoints/{name}") or {}
        return {a["ip"] for s in doc.get("subsets") or [] for a in s.get("addresses") or []}

    def service_ports(self, ns: str, name: str) -> tuple[str, int]:
        """(ClusterIP, NodePort or 0)."""
        spec = self.get(f"/api/v1/namespaces/{ns}/services/{name}")["spec"]
        return spec["clusterIP"], int(spec["ports"][0].get("nodePort") or 0)

    # -- waiting and diagnosis --

    def wait(self, cond: Callable[[], object], what: str, *, timeout: float = WAIT, every: float = 0.5) -> None:
        deadline = time.monotonic() + timeout
        last_error = ""
        while True:
            try:
                if cond():
                    return
            except AssertionError as exc:
                last_error = f" (last check: {exc})"
            if time.monotonic() > deadline:
                raise WaitTimeout(f"gave up after {timeout:g}s waiting for: {what}{last_error}")
            time.sleep(every)

    def wait_rollout(self, ns: str, deployment: str, *, timeout: float = WAIT) -> None:
        self.pictl("rollout", "status", "-n", ns, f"deployment/{deployment}", f"--timeout={int(timeout)}s",
                   timeout=timeout + 30)

    def wait_serving(self, urls: Sequence[str], *, timeout: float = WAIT) -> None:
        """Every URL answers (a new Service is served once every node's proxy programmed it)."""
        self.wait(lambda: all(http_get(u).body for u in urls), f"answers from {', '.join(urls)}", timeout=timeout)

    def wait_backends(self, fetch: Callable[[], Result], want: set[str], what: str, *,
                      timeout: float = WAIT) -> None:
        """Eventually ``fetch`` reaches exactly the pods ``want`` (by the names they answer with)."""
        self.wait(lambda: self.backends_seen(fetch, len(want), attempts=10 * len(want)) == want,
                  f"{what} reaches {sorted(want)}", timeout=timeout)

    def wait_settled(self, ns: str, selector: str, count: int, *, timeout: float = WAIT) -> list[dict[str, Any]]:
        """Exactly ``count`` pods matching ``selector``, all ready, none terminating."""
        def settled() -> bool:
            pods = self.pods(ns, selector)
            return len(pods) == count and all(is_ready(p) and not p["metadata"].get("deletionTimestamp")
                                              for p in pods)

        self.wait(settled, f"{count} ready pods ({selector}) in {ns} and no others", timeout=timeout)
        return self.pods(ns, selector)

    def diagnose(self) -> str:
        """What a person would look at when a scenario fails."""
        parts = []
        for args in (("get", "nodes", "-o", "wide"), ("get", "pods", "-A", "-o", "wide"),
                     ("get", "endpoints", "-A"), ("get", "events", "-A")):
            try:
                proc = self.pictl(*args, check=False, timeout=30)
                parts.append(f"$ pictl {' '.join(args)}\n{proc.stdout}{proc.stderr}")
            except subprocess.TimeoutExpired:
                parts.append(f"$ pictl {' '.join(args)}\n(timed out)")
        try:
            stuck = [p for p in self.get("/api/v1/pods").get("items") or [] if not is_ready(p)][:3]
        except AssertionError:
            stuck = []
        for pod in stuck:
            args = ("describe", "pod", pod["metadata"]["name"], "-n", pod["metadata"]["namespace"])
            proc = self.pictl(*args, check=False, timeout=30)
            parts.append(f"$ pictl {' '.join(args)}\n{proc.stdout}{proc.stderr}")
        try:
            parts.append("$ pictl testbed status\n" + "\n".join(
                f"{r.name} {r.ip} powered={r.powered} lan={r.lan_connected} "
                + " ".join(f"{c.component}={'up' if c.running else 'down'}" for c in r.components)
                for r in self.tb.status()))
        except Exception as exc:
            parts.append(f"testbed status: {exc}")
        logs = [("master", self.tb.paths.master_log)]
        logs += [(n.name, n.paths.agent_log) for n in self.tb.nodes]
        for name, log in logs:
            tail = procs.log_tail(log, lines=25).replace(" | ", "\n")
            parts.append(f"--- {name} log (tail) ---\n{tail}")
        return "\n\n".join(parts)

    # -- inside nodes and pods --

    def curl_in(self, node: str, url: str, *, timeout: float = 3.0, pod_netns: str | None = None) -> Result:
        """The host's curl run in ``node``'s network namespace (or in a pod's, by its netns path)."""
        target = pod_netns or str(self.tb.node(node).netns_path)
        at = time.monotonic()
        proc = subprocess.run(["nsenter", f"--net={target}", "--", "curl", "-sS", "-m", str(timeout), url],
                              capture_output=True, text=True, timeout=timeout + 30)
        if proc.returncode != 0:
            return Result(at, url, "", f"curl exit {proc.returncode}: {proc.stderr.strip()}")
        return Result(at, url, proc.stdout.strip())

    def backends_seen(self, fetch: Callable[[], Result], want: int, *, attempts: int = 120) -> set[str]:
        """Pod names that answered ``fetch`` until ``want`` distinct ones did (or attempts ran out)."""
        seen: set[str] = set()
        for _ in range(attempts):
            r = fetch()
            if r.body:
                seen.add(r.body.split()[-1])
            if len(seen) >= want:
                break
        return seen

    def pod_sandbox(self, pod: dict[str, Any]) -> tuple[str, str] | None:
        """(sandbox id, netns path) of ``pod`` in its node's containerd, or None."""
        node = pod["spec"]["nodeName"]
        uid = pod["metadata"]["uid"]
        channel = grpc.insecure_channel(self.tb.node(node).containerd_address)
        try:
            rt = api_pb2_grpc.RuntimeServiceStub(channel)
            flt = api_pb2.PodSandboxFilter(label_selector={"io.kubernetes.pod.uid": uid},
                                           state=api_pb2.PodSandboxStateValue(state=api_pb2.SANDBOX_READY))
            items = rt.ListPodSandbox(api_pb2.ListPodSandboxRequest(filter=flt), timeout=30).items
            if not items:
                return None
            st = rt.PodSandboxStatus(api_pb2.PodSandboxStatusRequest(pod_sandbox_id=items[0].id, verbose=True),
                                     timeout=30)
            info = json.loads(st.info.get("info", "{}"))
            paths = [n.get("path", "") for n in info.get("runtimeSpec", {}).get("linux", {}).get("namespaces", [])
                     if n.get("type") == "network"]
            return items[0].id, (paths[0] if paths else f"/proc/{info.get('pid')}/ns/net")
        finally:
            channel.close()

    def running_sandboxes(self, node: str, ns: str) -> list[str]:
        """Names of the pods of namespace ``ns`` whose sandbox is ready on ``node``'s containerd."""
        channel = grpc.insecure_channel(self.tb.node(node).containerd_address)
        try:
            rt = api_pb2_grpc.RuntimeServiceStub(channel)
            flt = api_pb2.PodSandboxFilter(label_selector={"io.kubernetes.pod.namespace": ns},
                                           state=api_pb2.PodSandboxStateValue(state=api_pb2.SANDBOX_READY))
            return sorted(s.metadata.name for s in rt.ListPodSandbox(
                api_pb2.ListPodSandboxRequest(filter=flt), timeout=30).items)
        finally:
            channel.close()

    # -- repair (between scenarios) --

    def heal(self, *, timeout: float = WAIT) -> None:
        """Undo every fault a scenario may have left: power, LAN, processes, cordons; wait Ready."""
        for row in self.tb.status():
            if not row.powered:
                self.tb.power_on(row.name)
            if not row.lan_connected:
                self.tb.set_connected(row.name, True)
        for row in self.tb.status():
            for comp in row.components:
                if not comp.running and not comp.note:
                    self.tb.start_component(row.name, comp.component)
        names = [n.name for n in self.tb.nodes]
        self.wait(lambda: all(self.node_ready(n) for n in names), f"nodes {', '.join(names)} Ready",
                  timeout=timeout)
        for n in names:
            if (self.node(n).get("spec") or {}).get("unschedulable"):
                self.pictl("uncordon", n)
        self.wait(lambda: not any(self.node_taints(n) for n in names), "no taints on any node", timeout=timeout)


def _condition(obj: dict[str, Any], kind: str) -> str:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return str(c.get("status", ""))
    return ""


def is_ready(pod: dict[str, Any]) -> bool:
    return _condition(pod, "Ready") == "True"


def names(pods: Iterable[dict[str, Any]]) -> set[str]:
    return {p["metadata"]["name"] for p in pods}


def nodes_of(pods: Iterable[dict[str, Any]]) -> set[str]:
    return {p["spec"].get("nodeName", "") for p in pods}
