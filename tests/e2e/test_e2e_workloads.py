"""Scenarios 2 and 6: a DaemonSet follows the nodes (one pod on every node, also on a node added
later), and cordon / drain / uncordon move workload off a node and let it back.

The DaemonSet scenario adds a node to the shared testbed; the other scenarios work with any
number of nodes.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.helpers_e2e import Cluster, Load, daemonset, is_ready, nodes_of, service, web_deployment

pytestmark = [pytest.mark.root, pytest.mark.containerd, pytest.mark.slow]


def _one_per_node(cluster: Cluster, ns: str, selector: str) -> bool:
    pods = cluster.live_pods(ns, selector)
    want = sorted(n.name for n in cluster.tb.nodes)
    ready = sorted(p["spec"].get("nodeName", "") for p in pods if is_ready(p))
    # The reason goes into the timeout's message: which node lacks a ready pod, and why.
    assert ready == want, f"ready on {ready}, want {want}; not ready: " + ", ".join(
        f"{p['metadata']['name']} on {p['spec'].get('nodeName') or '(unscheduled)'} "
        f"({(p.get('status') or {}).get('phase')}, {_conditions(p)})" for p in pods if not is_ready(p))
    return True


def _conditions(pod: dict[str, Any]) -> str:
    return " ".join(f"{c.get('type')}={c.get('status')}" for c in (pod.get("status") or {}).get("conditions") or [])


def test_daemonset_lands_on_every_node_including_a_new_one(cluster: Cluster, ns: str) -> None:
    cluster.apply(ns, daemonset("node-agent"))
    cluster.wait(lambda: _one_per_node(cluster, ns, "app=node-agent"),
                 "one ready node-agent pod on every node")

    new = cluster.tb.add_node()
    cluster.wait(lambda: cluster.node_ready(new.name), f"the new node {new.name} Ready")
    cluster.wait(lambda: _one_per_node(cluster, ns, "app=node-agent"),
                 f"one ready node-agent pod on every node, {new.name} included")
    status = cluster.get(f"/apis/apps/v1/namespaces/{ns}/daemonsets/node-agent")["status"]
    count = len(cluster.tb.nodes)
    assert status.get("desiredNumberScheduled") == count, status
    cluster.wait(lambda: cluster.get(f"/apis/apps/v1/namespaces/{ns}/daemonsets/node-agent")["status"]
                 .get("numberReady") == count, f"DaemonSet status numberReady == {count}")


def test_cordon_drain_uncordon(cluster: Cluster, ns: str) -> None:
    cluster.apply(ns, web_deployment(replicas=3), service())
    cluster.wait_rollout(ns, "web")
    pods = cluster.wait_settled(ns, "app=web", 3)
    victim = sorted(nodes_of(pods))[0]
    _, port = cluster.service_ports(ns, "web")
    urls = [f"http://{n.ip}:{port}/" for n in cluster.tb.nodes]
    cluster.wait_serving(urls)

    cluster.pictl("cordon", victim)
    assert cluster.node(victim)["spec"].get("unschedulable") is True
    with Load(urls) as load:
        out = cluster.pictl("drain", victim, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=180s")
        pods = cluster.wait_settled(ns, "app=web", 3)
    assert victim not in nodes_of(pods), f"pods still on {victim} after drain: {out.stdout}"
    assert not load.failures(), f"during the drain of {victim}: {load.summary()}"
    assert "drained" in out.stdout, out.stdout

    # A cordoned node gets nothing new, even when it is the emptiest.
    cluster.pictl("scale", "-n", ns, "deployment/web", "--replicas=5")
    pods = cluster.wait_settled(ns, "app=web", 5)
    assert victim not in nodes_of(pods)

    cluster.pictl("uncordon", victim)
    assert not cluster.node(victim)["spec"].get("unschedulable")
    cluster.pictl("rollout", "restart", "-n", ns, "deployment/web")
    cluster.wait_rollout(ns, "web")
    cluster.wait(lambda: victim in nodes_of(cluster.ready_pods(ns, "app=web")),
                 f"pods scheduled on {victim} again after uncordon")
