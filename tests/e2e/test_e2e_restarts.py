"""Scenario 4: restarting an agent or the master disturbs nothing that runs.

- agent (kill -9, then start): the pods keep their uid, containers and restart counts, the
  Service answers throughout, the node stays Ready, and the agent then runs new pods;
- master (kill -9, then start): while it is down the CLI says so in one line; afterwards every
  object has the same uid and resourceVersion, a watch from a resourceVersion taken before the
  restart resumes, the agents' watches reconnect (a scale-up runs and serves on every node),
  and the Service answered throughout.
"""

from __future__ import annotations

import functools
import urllib.parse
from typing import Any

import pytest

from hw.testbed import MASTER
from tests.e2e.helpers_e2e import Cluster, Load, http_get, names, service, web_deployment

pytestmark = [pytest.mark.root, pytest.mark.containerd, pytest.mark.slow]

SEL = "app=web"


def _deploy(cluster: Cluster, ns: str, replicas: int = 3) -> list[dict[str, Any]]:
    cluster.apply(ns, web_deployment(replicas=replicas), service())
    cluster.wait_rollout(ns, "web")
    pods = cluster.wait_settled(ns, SEL, replicas)
    ips = {p["status"]["podIP"] for p in pods}
    cluster.wait(lambda: cluster.endpoints(ns, "web") == ips, "the endpoints list every pod")
    cluster.wait_serving(_urls(cluster, ns))
    return pods


def _fingerprint(pods: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """What must not change when a component restarts: identity, containers, restarts."""
    out = {}
    for p in pods:
        statuses = p["status"].get("containerStatuses") or []
        out[p["metadata"]["name"]] = (
            p["metadata"]["uid"],
            p["spec"]["nodeName"],
            p["status"].get("podIP"),
            tuple((c.get("containerID"), c.get("restartCount")) for c in statuses),
        )
    return out


def _urls(cluster: Cluster, ns: str) -> list[str]:
    _, port = cluster.service_ports(ns, "web")
    return [f"http://{n.ip}:{port}/" for n in cluster.tb.nodes]


def test_agent_restart_disturbs_no_pod(cluster: Cluster, ns: str) -> None:
    pods = _deploy(cluster, ns)
    node = pods[0]["spec"]["nodeName"]
    before = _fingerprint(pods)

    with Load(_urls(cluster, ns)) as load:
        cluster.tb.fault(node, "kill-agent")
        cluster.tb.fault(node, "start-agent")
        cluster.wait(lambda: cluster.node_ready(node), f"{node} Ready after its agent restarted")
        # Long enough for the new agent to have synced every pod (and its proxy the rules).
        cluster.wait(lambda: len(load.results) > 200, "some traffic through the restart")
    assert not load.failures(), f"during the agent restart on {node}: {load.summary()}"
    assert _fingerprint(cluster.wait_settled(ns, SEL, 3)) == before

    # The restarted agent runs new pods: one bound to its node directly.
    pinned = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pinned", "labels": {"app": "pinned"}},
              "spec": {"nodeName": node, "terminationGracePeriodSeconds": 1,
                       "containers": [{"name": "web", "image": "localhost/web:1"}]}}
    cluster.apply(ns, pinned)
    cluster.wait_settled(ns, "app=pinned", 1)


def test_master_restart_keeps_state_and_reconnects(cluster: Cluster, ns: str) -> None:
    pods = _deploy(cluster, ns)
    before = _fingerprint(pods)
    dep_path = f"/apis/apps/v1/namespaces/{ns}/deployments/web"
    dep = cluster.get(dep_path)
    pod_list = cluster.get(f"/api/v1/namespaces/{ns}/pods")
    list_rv = pod_list["metadata"]["resourceVersion"]
    rvs = {p["metadata"]["name"]: p["metadata"]["resourceVersion"] for p in pod_list["items"]}

    with Load(_urls(cluster, ns)) as load:
        cluster.tb.fault(MASTER, "kill-master")
        down = cluster.pictl("get", "pods", "-n", ns, check=False, timeout=60)
        assert down.returncode != 0
        lines = down.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in down.stderr, down.stderr
        assert "refused" in lines[0] or "unreachable" in lines[0] or "connect" in lines[0], lines[0]
        cluster.tb.fault(MASTER, "start-master")
        cluster.wait(lambda: all(cluster.node_ready(n.name) for n in cluster.tb.nodes),
                     "every node Ready after the master restart")
    assert not load.failures(), f"during the master restart: {load.summary()}"

    dep_after = cluster.get(dep_path)
    assert dep_after["metadata"]["uid"] == dep["metadata"]["uid"]
    assert dep_after["metadata"]["resourceVersion"] == dep["metadata"]["resourceVersion"]
    after = cluster.get(f"/api/v1/namespaces/{ns}/pods")
    assert {p["metadata"]["name"]: p["metadata"]["resourceVersion"] for p in after["items"]} == rvs
    assert _fingerprint(after["items"]) == before

    # The agents' watches reconnected: new pods run, and every node's proxy routes to them.
    cluster.pictl("scale", "-n", ns, "deployment/web", "--replicas=5")
    pods = cluster.wait_settled(ns, SEL, 5)
    new = names(pods) - set(before)
    assert len(new) == 2
    for url in _urls(cluster, ns):
        cluster.wait_backends(functools.partial(http_get, url), names(pods), url)

    # A watch from a resourceVersion taken before the restart either resumes with what came
    # after it, or says 410 Gone (the apiserver's watch cache starts at its start-up revision,
    # as Kubernetes' does) and a relist + watch from the listed resourceVersion works: what
    # every informer does.
    query = urllib.parse.urlencode({"resourceVersion": list_rv, "allowWatchBookmarks": "false"})
    events = cluster.watch_lines(f"/api/v1/namespaces/{ns}/pods?{query}", timeout_seconds=3)
    gone = [e for e in events if e.get("type") == "ERROR"]
    if gone:
        assert gone[0]["object"].get("code") == 410, gone[0]
        relisted = cluster.get(f"/api/v1/namespaces/{ns}/pods")
        assert names(relisted["items"]) == names(pods)
        cluster.pictl("scale", "-n", ns, "deployment/web", "--replicas=6")
        query = urllib.parse.urlencode({"resourceVersion": relisted["metadata"]["resourceVersion"]})
        events = cluster.watch_lines(f"/api/v1/namespaces/{ns}/pods?{query}", timeout_seconds=10)
        new = names(cluster.wait_settled(ns, SEL, 6)) - names(pods)
    added = {e["object"]["metadata"]["name"] for e in events if e.get("type") == "ADDED"}
    assert new <= added, f"watch after the restart: ADDED {sorted(added)}, want {sorted(new)}"
