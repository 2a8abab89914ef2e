"""Scenario 1 and the Service traffic of issue 6: a web Deployment behind a NodePort Service on
the testbed, real requests from the host, from inside every node and from inside a pod.

- every node's NodePort answers; the ClusterIP from every node and from a pod reaches all
  three backends; pod-to-pod works across nodes both ways; a Service with no endpoints
  refuses at once (connection refused, not a timeout);
- scale 3 -> 6 -> 2, roll out web:2, roll back: no request fails meanwhile (an endpoint leaves
  the rules before its pod stops), and once a change is done only the current pods answer.
"""

from __future__ import annotations

import functools

import pytest

from tests.e2e.helpers_e2e import Cluster, Load, http_get, names, service, web_deployment

pytestmark = [pytest.mark.root, pytest.mark.containerd, pytest.mark.slow]

SEL = "app=web"


def _deploy(cluster: Cluster, ns: str, replicas: int = 3) -> tuple[str, int]:
    cluster.apply(ns, web_deployment(replicas=replicas), service())
    cluster.wait_rollout(ns, "web")
    pods = cluster.wait_settled(ns, SEL, replicas)
    ips = {p["status"]["podIP"] for p in pods}
    cluster.wait(lambda: cluster.endpoints(ns, "web") == ips, f"endpoints of web == {sorted(ips)}")
    cluster_ip, node_port = cluster.service_ports(ns, "web")
    cluster.wait_serving(_node_port_urls(cluster, node_port))
    return cluster_ip, node_port


def _node_port_urls(cluster: Cluster, port: int) -> list[str]:
    return [f"http://{n.ip}:{port}/" for n in cluster.tb.nodes]


def _answers_only_from(cluster: Cluster, urls: list[str], expected: set[str], version: str) -> None:
    """After a change is done (and programmed), only the current pods answer, with ``version``."""
    def only_current() -> bool:
        results = [http_get(u) for u in urls * 4]
        return all(r.body and r.body.split()[-1] in expected and r.body.split()[0] == version for r in results)

    cluster.wait(only_current, f"only {sorted(expected)} (version {version}) answer on {urls}")


def test_service_traffic_reaches_every_backend(cluster: Cluster, ns: str) -> None:
    cluster_ip, node_port = _deploy(cluster, ns)
    backends = names(cluster.live_pods(ns, SEL))

    for url in _node_port_urls(cluster, node_port):
        cluster.wait_backends(functools.partial(http_get, url), backends, f"NodePort {url}")

    for node in cluster.tb.nodes:
        fetch = functools.partial(cluster.curl_in, node.name, f"http://{cluster_ip}/")
        cluster.wait_backends(fetch, backends, f"ClusterIP {cluster_ip} from {node.name}")

    pods = cluster.live_pods(ns, SEL)
    by_node = {p["spec"]["nodeName"]: p for p in pods}
    assert len(by_node) >= 2, f"the 3 pods landed on one node: {[(p['metadata']['name'], p['spec']['nodeName']) for p in pods]}"
    a, b = list(by_node.values())[:2]
    sandbox_a, sandbox_b = cluster.pod_sandbox(a), cluster.pod_sandbox(b)
    assert sandbox_a and sandbox_b, "the pods' sandboxes are not running in their nodes' containerd"
    netns_a, netns_b = sandbox_a[1], sandbox_b[1]

    fetch = functools.partial(cluster.curl_in, a["spec"]["nodeName"], f"http://{cluster_ip}/", pod_netns=netns_a)
    cluster.wait_backends(fetch, backends, f"ClusterIP {cluster_ip} from pod {a['metadata']['name']}")

    for src, src_ns, dst in ((a, netns_a, b), (b, netns_b, a)):
        url = f"http://{dst['status']['podIP']}:8080/"
        r = cluster.curl_in(src["spec"]["nodeName"], url, pod_netns=src_ns)
        assert r.body.endswith(dst["metadata"]["name"]), (
            f"{src['metadata']['name']} ({src['spec']['nodeName']}) -> {dst['metadata']['name']} "
            f"({dst['spec']['nodeName']}) at {url}: {r.error or r.body}")

    cluster.apply(ns, service("empty", selector="nothing-matches", node_port=False))
    empty_ip, _ = cluster.service_ports(ns, "empty")
    first = cluster.tb.nodes[0].name

    def refused() -> bool:
        r = cluster.curl_in(first, f"http://{empty_ip}/", timeout=10)
        # curl's exit 7 is "could not connect" (refused); 28 would be a timeout.
        return not r.body and r.error.startswith("curl exit 7")

    cluster.wait(refused, f"a connection to the endpoint-less Service {empty_ip} is refused")


def test_scale_rollout_and_undo_without_failed_requests(cluster: Cluster, ns: str) -> None:
    _, node_port = _deploy(cluster, ns)
    urls = _node_port_urls(cluster, node_port)

    cluster.pictl("scale", "-n", ns, "deployment/web", "--replicas=6")
    pods = cluster.wait_settled(ns, SEL, 6)
    cluster.wait(lambda: len(cluster.endpoints(ns, "web")) == 6, "6 endpoints")
    _answers_only_from(cluster, urls, names(pods), "1")

    with Load(urls) as load:
        cluster.pictl("scale", "-n", ns, "deployment/web", "--replicas=2")
        pods = cluster.wait_settled(ns, SEL, 2)
    assert not load.failures(), f"scale 6 -> 2: {load.summary()}"
    _answers_only_from(cluster, urls, names(pods), "1")

    with Load(urls) as load:
        cluster.apply(ns, web_deployment(replicas=2, version="2"))
        cluster.wait_rollout(ns, "web")
        pods = cluster.wait_settled(ns, SEL, 2)
    assert not load.failures(), f"rolling update to web:2: {load.summary()}"
    _answers_only_from(cluster, urls, names(pods), "2")

    with Load(urls) as load:
        cluster.pictl("rollout", "undo", "-n", ns, "deployment/web")
        cluster.wait_rollout(ns, "web")
        pods = cluster.wait_settled(ns, SEL, 2)
    assert not load.failures(), f"rollout undo: {load.summary()}"
    _answers_only_from(cluster, urls, names(pods), "1")
    history = cluster.pictl("rollout", "history", "-n", ns, "deployment/web").stdout
    assert "3" in history.split(), f"rollout history after undo shows no revision 3:\n{history}"
