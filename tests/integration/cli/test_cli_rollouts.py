"""pictl rollout against a real apiserver; the test plays the deployment controller (status, ReplicaSets)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.integration.cli.conftest import Cluster

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: c, image: "{image}"}}]}}
"""


def _deployment(cluster: Cluster, ns: str) -> dict[str, Any]:
    return json.loads(cluster.ok("get", "-n", ns, "deploy", "web", "-o", "json"))


def _replicaset(dep: dict[str, Any], revision: int, image: str) -> dict[str, Any]:
    labels = {"app": "web", "pod-template-hash": f"h{revision}"}
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": f"web-h{revision}", "labels": labels,
                     "annotations": {"deployment.kubernetes.io/revision": str(revision),
                                     "kubernetes.io/change-cause": f"image {image}"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                          "uid": dep["metadata"]["uid"], "controller": True}]},
        "spec": {"replicas": 0, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "c", "image": image}]}}},
    }


def _set_status(cluster: Cluster, ns: str, **status: int) -> None:
    dep = _deployment(cluster, ns)
    body = {"status": {"observedGeneration": dep["metadata"]["generation"], **status}}
    code, answer = cluster.request("PATCH", f"/apis/apps/v1/namespaces/{ns}/deployments/web/status", data=json.dumps(body),
                                   headers={"Content-Type": "application/merge-patch+json"})
    assert code == 200, answer


def test_history_undo_restart_pause(cluster: Cluster, ns: str) -> None:
    cluster.ok("apply", "-n", ns, "-f", "-", input=DEPLOY.format(image="b"))
    dep = _deployment(cluster, ns)
    for revision, image in ((1, "a"), (2, "b")):
        code, answer = cluster.request("POST", f"/apis/apps/v1/namespaces/{ns}/replicasets",
                                       json=_replicaset(dep, revision, image))
        assert code == 201, answer
    lines = cluster.ok("rollout", "history", "-n", ns, "deploy/web").splitlines()
    assert lines[0] == "deployment.apps/web"
    assert [line.split(None, 1) for line in lines[1:4]] == [["REVISION", "CHANGE-CAUSE"], ["1", "image a"],
                                                            ["2", "image b"]]
    assert "image: a" in cluster.ok("rollout", "history", "-n", ns, "deploy/web", "--revision=1")
    assert cluster.ok("rollout", "undo", "-n", ns, "deployment", "web") == "deployment.apps/web rolled back\n"
    dep = _deployment(cluster, ns)
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "a"
    assert "pod-template-hash" not in dep["spec"]["template"]["metadata"]["labels"]
    assert cluster.ok("rollout", "undo", "-n", ns, "deploy/web", "--to-revision=1") == (
        "deployment.apps/web skipped rollback (current template already matches revision 1)\n")
    r = cluster.pictl("rollout", "undo", "-n", ns, "deploy/web", "--to-revision=7")
    assert r.code == 1 and r.err == "error: unable to find specified revision 7 in history\n"
    assert cluster.ok("rollout", "restart", "-n", ns, "deploy/web") == "deployment.apps/web restarted\n"
    annotations = _deployment(cluster, ns)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["kubectl.kubernetes.io/restartedAt"].endswith("Z")
    assert cluster.ok("rollout", "pause", "-n", ns, "deploy/web") == "deployment.apps/web paused\n"
    r = cluster.pictl("rollout", "restart", "-n", ns, "deploy/web")
    assert r.code == 1 and "can't restart paused deployment" in r.err
    assert cluster.ok("rollout", "resume", "-n", ns, "deploy/web") == "deployment.apps/web resumed\n"


def test_status_waits_for_the_rollout(cluster: Cluster, ns: str) -> None:
    cluster.ok("apply", "-n", ns, "-f", "-", input=DEPLOY.format(image="b"))
    _set_status(cluster, ns, replicas=2, updatedReplicas=1, availableReplicas=1)
    out = cluster.ok("rollout", "status", "-n", ns, "deploy/web", "--watch=false")
    assert out == 'Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been updated...\n'
    r = cluster.pictl("rollout", "status", "-n", ns, "deploy/web", "--timeout=1s")
    assert r.code == 1 and r.err == "error: timed out waiting for the condition\n"

    async def controller() -> None:
        await asyncio.sleep(1.0)
        await asyncio.to_thread(_set_status, cluster, ns, replicas=2, updatedReplicas=2, availableReplicas=1)
        await asyncio.sleep(0.5)
        await asyncio.to_thread(_set_status, cluster, ns, replicas=2, updatedReplicas=2, availableReplicas=2)

    done = cluster.spawn(controller())
    out = cluster.ok("rollout", "status", "-n", ns, "deploy/web", "--timeout=60s")
    done.result(30)
    assert out.splitlines() == [
        'Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been updated...',
        'Waiting for deployment "web" rollout to finish: 1 of 2 updated replicas are available...',
        'deployment "web" successfully rolled out',
    ]
