"""Scenario 7: stock kubectl runs the same basic flow as pictl, against the same cluster.

kubectl creates, exposes, scales, updates, rolls back and reads logs; pictl sees exactly what
kubectl made (and the other way round), and the Service kubectl exposed serves through its
NodePort. Both apply the same manifest in turns (the last-applied annotation is shared).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from tests.e2e.helpers_e2e import Cluster, http_get, manifest, names, web_deployment

pytestmark = [pytest.mark.root, pytest.mark.containerd, pytest.mark.slow]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "web.yaml"


def test_kubectl_and_pictl_share_one_cluster(cluster: Cluster, ns: str) -> None:
    k, p = cluster.kubectl, cluster.pictl
    nodes = k("get", "nodes", "-o", "json")
    assert sorted(n["metadata"]["name"] for n in json.loads(nodes.stdout)["items"]) == \
        sorted(n.name for n in cluster.tb.nodes)

    k("-n", ns, "create", "deployment", "web", "--image=localhost/web:1", "--replicas=2", "--port=8080")
    k("-n", ns, "expose", "deployment", "web", "--port=80", "--target-port=8080", "--type=NodePort")
    k("-n", ns, "rollout", "status", "deployment/web", "--timeout=180s", timeout=240)
    k("-n", ns, "scale", "deployment", "web", "--replicas=3")
    k("-n", ns, "rollout", "status", "deployment/web", "--timeout=180s", timeout=240)
    pods = cluster.wait_settled(ns, "app=web", 3)

    # pictl sees what kubectl made, in the same columns.
    table = p("get", "pods", "-n", ns, "-o", "wide").stdout
    assert all(name in table for name in names(pods)), table
    dep = json.loads(p("get", "deployment", "web", "-n", ns, "-o", "json").stdout)
    assert dep["spec"]["replicas"] == 3 and dep["status"]["readyReplicas"] == 3
    assert p("get", "pods", "-n", ns, "-o", "name").stdout.split() == \
        k("get", "pods", "-n", ns, "-o", "name").stdout.split()

    _, port = cluster.service_ports(ns, "web")
    urls = [f"http://{n.ip}:{port}/" for n in cluster.tb.nodes]
    cluster.wait_serving(urls)
    for url in urls:
        cluster.wait_backends(functools.partial(http_get, url), names(pods), url)

    k("-n", ns, "set", "image", "deployment/web", "web=localhost/web:2")
    k("-n", ns, "rollout", "status", "deployment/web", "--timeout=180s", timeout=240)
    cluster.wait(lambda: all(http_get(u).body.startswith("2 ") for u in urls * 3), "web:2 answers everywhere")
    history = p("rollout", "history", "-n", ns, "deployment/web").stdout
    assert {"1", "2"} <= set(history.split()), history

    p("rollout", "undo", "-n", ns, "deployment/web")
    k("-n", ns, "rollout", "status", "deployment/web", "--timeout=180s", timeout=240)
    cluster.wait(lambda: all(http_get(u).body.startswith("1 ") for u in urls * 3), "web:1 answers again")

    pod = sorted(names(cluster.wait_settled(ns, "app=web", 3)))[0]
    assert k("-n", ns, "logs", pod).returncode == 0
    assert p("logs", "-n", ns, pod).returncode == 0
    described = k("-n", ns, "describe", "deployment", "web").stdout
    assert "localhost/web:1" in described and "3 desired" in described, described

    # Apply in turns: kubectl, then pictl, then kubectl again, the same manifest.
    app = web_deployment("shared", replicas=1)
    k("-n", ns, "apply", "-f", "-", input=manifest(app))
    assert "unchanged" in p("apply", "-n", ns, "-f", "-", input=manifest(app)).stdout
    app["spec"]["replicas"] = 2
    assert "configured" in p("apply", "-n", ns, "-f", "-", input=manifest(app)).stdout
    assert "unchanged" in k("-n", ns, "apply", "-f", "-", input=manifest(app)).stdout
    cluster.wait_settled(ns, "app=shared", 2)

    # The README's example manifest goes in with either client (dry run on the server: the
    # demo owns the real one).
    k("-n", ns, "apply", "--dry-run=server", "-f", str(EXAMPLE))
    p("apply", "-n", ns, "--dry-run=server", "-f", str(EXAMPLE))

    k("-n", ns, "delete", "deployment", "shared", "--wait=true", "--timeout=120s", timeout=180)
    assert "shared" not in p("get", "deployments", "-n", ns, "-o", "name").stdout
