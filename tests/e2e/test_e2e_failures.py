"""Scenarios 3 and 5: a simulated Pi loses power, or is cut off the LAN.

Power-off: within the node grace period (12 s here) plus the pods' toleration (2 s) the node is
NotReady with the unreachable NoExecute taint, its pods are replaced on the other nodes, and
the Service serves from those. After power-on it is Ready and untainted again and the pods
that could not be confirmed gone are cleaned up.

Partition: the node's pods keep running (they answer inside the node) while the cluster
replaces them elsewhere; after the heal the node's agent stops them, and the cluster
converges on exactly the desired replicas.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.helpers_e2e import Cluster, http_get, is_ready, service, web_deployment

pytestmark = [pytest.mark.root, pytest.mark.containerd, pytest.mark.slow]

SEL = "app=web"
UNREACHABLE = ("node.kubernetes.io/unreachable", "NoExecute")


def _deploy(cluster: Cluster, ns: str) -> list[dict[str, Any]]:
    cluster.apply(ns, web_deployment(replicas=3, toleration_seconds=2), service())
    cluster.wait_rollout(ns, "web")
    return cluster.wait_settled(ns, SEL, 3)


def _victim(pods: list[dict[str, Any]]) -> str:
    """A node that runs at least one of the pods (pi-1 is kept for the host's checks)."""
    nodes = sorted({p["spec"]["nodeName"] for p in pods}, key=lambda n: (n == "pi-1", n))
    return nodes[0]


def _replaced_elsewhere(cluster: Cluster, ns: str, victim: str) -> list[dict[str, Any]]:
    """Wait for 3 ready pods off ``victim``; return them."""
    def elsewhere() -> bool:
        ready = [p for p in cluster.ready_pods(ns, SEL) if p["spec"]["nodeName"] != victim]
        return len(ready) >= 3

    cluster.wait(elsewhere, f"3 ready web pods on nodes other than {victim}")
    return [p for p in cluster.ready_pods(ns, SEL) if p["spec"]["nodeName"] != victim]


def _serves_from(cluster: Cluster, ns: str, nodes: list[str], expected: set[str]) -> None:
    _, port = cluster.service_ports(ns, "web")
    urls = [f"http://{n.ip}:{port}/" for n in cluster.tb.nodes if n.name in nodes]

    def only_expected() -> bool:
        bodies = [http_get(u).body for u in urls * 4]
        return all(b and b.split()[-1] in expected for b in bodies)

    cluster.wait(only_expected, f"the Service answers on {nodes} from {sorted(expected)} only")


def test_power_off_moves_pods_and_power_on_recovers(cluster: Cluster, ns: str) -> None:
    pods = _deploy(cluster, ns)
    victim = _victim(pods)
    lost = {p["metadata"]["name"] for p in pods if p["spec"]["nodeName"] == victim}
    others = [n.name for n in cluster.tb.nodes if n.name != victim]

    cluster.tb.fault(victim, "power-off")
    try:
        cluster.wait(lambda: not cluster.node_ready(victim), f"{victim} NotReady after power-off")
        cluster.wait(lambda: UNREACHABLE in cluster.node_taints(victim), f"{victim} tainted {UNREACHABLE}")
        replacements = _replaced_elsewhere(cluster, ns, victim)
        names = {p["metadata"]["name"] for p in replacements}
        assert not names & lost
        _serves_from(cluster, ns, others, names)
    finally:
        cluster.tb.fault(victim, "power-on")

    cluster.wait(lambda: cluster.node_ready(victim), f"{victim} Ready after power-on")
    cluster.wait(lambda: not cluster.node_taints(victim), f"{victim} untainted after power-on")
    live = {p["metadata"]["name"] for p in cluster.wait_settled(ns, SEL, 3)}
    assert not live & lost
    cluster.wait(lambda: set(cluster.running_sandboxes(victim, ns)) <= live,
                 f"no sandbox of a deleted pod runs on {victim} after it booted")


def test_partitioned_node_keeps_its_pods_and_converges_after_heal(cluster: Cluster, ns: str) -> None:
    pods = _deploy(cluster, ns)
    victim = _victim(pods)
    cut_off = [p for p in pods if p["spec"]["nodeName"] == victim]
    stranded = cut_off[0]
    url = f"http://{stranded['status']['podIP']}:8080/"

    cluster.tb.fault(victim, "partition")
    try:
        cluster.wait(lambda: not cluster.node_ready(victim), f"{victim} NotReady after the partition")
        _replaced_elsewhere(cluster, ns, victim)
        # Cut off, the node's agent cannot learn that its pods were replaced: they keep running.
        r = cluster.curl_in(victim, url)
        assert r.body.endswith(stranded["metadata"]["name"]), f"{url} inside {victim}: {r.error or r.body}"
        assert stranded["metadata"]["name"] in cluster.running_sandboxes(victim, ns)
    finally:
        cluster.tb.fault(victim, "heal")

    cluster.wait(lambda: cluster.node_ready(victim), f"{victim} Ready after the heal")
    pods = cluster.wait_settled(ns, SEL, 3)
    live = {p["metadata"]["name"] for p in pods}
    assert stranded["metadata"]["name"] not in live
    assert all(is_ready(p) for p in pods)

    def converged() -> bool:
        running = {name for n in cluster.tb.nodes for name in cluster.running_sandboxes(n.name, ns)}
        return running == live

    cluster.wait(converged, f"exactly the pods {sorted(live)} run on the nodes (the stranded ones stopped)")
    _serves_from(cluster, ns, [n.name for n in cluster.tb.nodes], live)
