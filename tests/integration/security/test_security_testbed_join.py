"""The real join on the simulated Pis: ``pictl agent --server ... --token ...`` in each node's
network namespace, against the testbed's master (authorization on, the certificate
controllers running as the controller-manager's own identity).

A machine with the right token joins and runs a pod that mounts a Secret (Node authorizer),
whose log the apiserver reads over TLS checked against the serving certificate the agent got
through its own CSR; a second machine presenting the same token for the same name is refused,
and so is a token pinned to another CA, before anything secret is sent.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hw.testbed import Testbed, control
from tests.fixtures.testbed import require_testbed_tools, unique_name

pytestmark = [pytest.mark.root, pytest.mark.containerd, pytest.mark.slow]


class Agents:
    def __init__(self, tb: Testbed, tmp: Path) -> None:
        self.tb = tb
        self.tmp = tmp
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, node: str, token: str, *, name: str = "", tag: str = "") -> tuple[subprocess.Popen[bytes], Path]:
        paths = self.tb.paths.node(node)
        data = self.tmp / f"{node}{tag}"
        data.mkdir(parents=True, exist_ok=True)
        log = data / "agent.log"
        argv = [*control.pictl_command(), "agent", "--server", self.tb.server, "--token", token,
                "--node-name", name or node, "--node-ip", self.tb.plan.ip(node),
                "--container-runtime-endpoint", f"unix://{paths.socket}", "--data-dir", str(data),
                "--cni-conf-dir", str(paths.cni_conf_dir), "--node-status-update-frequency", "2s"]
        with open(log, "wb") as out:
            proc = self.tb.popen(node, argv, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc, log

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)


@pytest.fixture(scope="module")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Testbed, Agents]]:
    require_testbed_tools()
    tb = Testbed(unique_name("join"))
    agents = Agents(tb, tmp_path_factory.mktemp("agents"))
    try:
        tb.up(2, agents=False)
        yield tb, agents
    finally:
        agents.stop()
        tb.down()


def kubectl(tb: Testbed, *args: str, check: bool = True, input: str | None = None) -> str:
    out = subprocess.run(["kubectl", "--kubeconfig", str(tb.kubeconfig), "--cache-dir",
                          str(tb.kubeconfig.parent / "kubectl-cache"), *args],
                         capture_output=True, text=True, timeout=60, input=input)
    if check and out.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)}: {out.stderr}")
    return out.stdout


def wait(predicate: object, what: str, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def new_token(tb: Testbed) -> str:
    out = subprocess.run([*control.pictl_command(), "--kubeconfig", str(tb.kubeconfig), "token", "create",
                          "--ttl", "1h"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def node_ready(tb: Testbed, name: str) -> bool:
    status = kubectl(tb, "get", "node", name, "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
                     check=False)
    return status.strip() == "True"


def test_join_run_and_refuse_impostors(testbed: tuple[Testbed, Agents]) -> None:
    tb, agents = testbed
    token = new_token(tb)
    pi1, log1 = agents.start("pi-1", token)
    wait(lambda: node_ready(tb, "pi-1") or pi1.poll() is not None, "pi-1 Ready")
    assert pi1.poll() is None, log1.read_text()
    text = log1.read_text()
    assert "matches the token's pin" in text and "serving certificate" in text

    # A second machine with the same token cannot become pi-1.
    thief, thief_log = agents.start("pi-2", token, name="pi-1", tag="-thief")
    assert thief.wait(timeout=120) != 0
    assert "NodeExists" in thief_log.read_text()
    # A token pinned to another CA: refused before the token is sent.
    parts = token.split("::")
    wrong = "K10" + "0" * 64 + "::" + parts[1]
    liar, liar_log = agents.start("pi-2", wrong, tag="-wrong-ca")
    assert liar.wait(timeout=60) != 0
    assert "does not match the join token's pin" in liar_log.read_text()
    # The same token still lets pi-2 join under its own name.
    pi2, log2 = agents.start("pi-2", token)
    wait(lambda: node_ready(tb, "pi-2") or pi2.poll() is not None, "pi-2 Ready")
    assert pi2.poll() is None, log2.read_text()

    # A pod on pi-1 mounting a Secret; its log is read through the agent's CSR-issued certificate.
    kubectl(tb, "create", "secret", "generic", "joined", "--from-literal=greeting=hello-from-secret")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "reader"},
           "spec": {"nodeName": "pi-1", "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "localhost/busybox:latest",
                                    "imagePullPolicy": "IfNotPresent",
                                    "command": ["sh", "-c", "cat /s/greeting; echo; cat "
                                                "/var/run/secrets/kubernetes.io/serviceaccount/token; echo; "
                                                "sleep 3600"],
                                    "volumeMounts": [{"name": "s", "mountPath": "/s"}]}],
                    "volumes": [{"name": "s", "secret": {"secretName": "joined"}}]}}
    import json

    kubectl(tb, "apply", "-f", "-", input=json.dumps(pod))
    wait(lambda: "hello-from-secret" in kubectl(tb, "logs", "reader", check=False), "the pod's log", 180)
    # Its ServiceAccount token was mounted, bound to the pod.
    token = kubectl(tb, "logs", "reader").splitlines()[1].strip()
    review = json.loads(kubectl(tb, "create", "--validate=false", "-o", "json", "-f", "-", input=json.dumps({
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}})))
    assert review["status"]["authenticated"], review
    assert review["status"]["user"]["username"] == "system:serviceaccount:default:default"
    assert review["status"]["user"]["extra"]["authentication.kubernetes.io/pod-name"] == ["reader"]
    csrs = kubectl(tb, "get", "csr", "-o", "jsonpath={range .items[*]}{.spec.signerName} {.spec.username} "
                                         "{.status.conditions[0].type}{\"\\n\"}{end}")
    lines = [line.split() for line in csrs.splitlines() if line.strip()]
    assert ["kubernetes.io/kubelet-serving", "system:node:pi-1", "Approved"] in lines
    assert any(entry[0] == "kubernetes.io/kube-apiserver-client-kubelet" and entry[2] == "Denied"
               for entry in lines if len(entry) == 3)
