"""pictl's everyday flow against a real apiserver: apply, get, describe, label, scale, delete."""

from __future__ import annotations

import json

import yaml

from tests.integration.cli.conftest import Cluster

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {{app: web}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: c
        image: {image}
        env: {env}
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings}}
data: {{mode: fast}}
"""


def _app(image: str = "busybox:1.36", env: str = '[{name: DEBUG, value: "1"}]') -> str:
    return APP.format(image=image, env=env)


def test_apply_is_create_or_update_and_idempotent(cluster: Cluster, ns: str) -> None:
    out = cluster.ok("apply", "-n", ns, "-f", "-", input=_app())
    assert out.splitlines() == ["deployment.apps/web created", "service/web created", "configmap/settings created"]
    out = cluster.ok("apply", "-n", ns, "-f", "-", input=_app())
    assert out.splitlines() == ["deployment.apps/web unchanged", "service/web unchanged",
                                "configmap/settings unchanged"]
    out = cluster.ok("apply", "-n", ns, "-f", "-", input=_app(image="busybox:1.37", env="[]"))
    assert out.splitlines()[0] == "deployment.apps/web configured" and "service/web unchanged" in out
    dep = json.loads(cluster.ok("get", "-n", ns, "deploy", "web", "-o", "json"))
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "busybox:1.37" and "env" not in container
    last = json.loads(dep["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["metadata"] == {"annotations": {}, "labels": {"app": "web"}, "name": "web", "namespace": ns}


def test_apply_keeps_what_others_changed(cluster: Cluster, ns: str) -> None:
    cluster.ok("apply", "-n", ns, "-f", "-", input=_app())
    cluster.ok("scale", "-n", ns, "deploy/web", "--replicas=5")
    cluster.ok("label", "-n", ns, "deploy", "web", "extra=yes")
    out = cluster.ok("apply", "-n", ns, "-f", "-", input=_app(image="busybox:2"))
    assert "deployment.apps/web configured" in out
    dep = json.loads(cluster.ok("get", "-n", ns, "deploy", "web", "-o", "json"))
    # replicas is in the file (2): apply sets it back; the label nobody applied stays.
    assert dep["spec"]["replicas"] == 2 and dep["metadata"]["labels"]["extra"] == "yes"


def test_get_formats(cluster: Cluster, ns: str) -> None:
    cluster.ok("apply", "-n", ns, "-f", "-", input=_app())
    lines = cluster.ok("get", "-n", ns, "deploy").splitlines()
    assert lines[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert lines[1].split()[:4] == ["web", "0/2", "0", "0"]
    wide = cluster.ok("get", "-n", ns, "deploy", "-o", "wide").splitlines()[0].split()
    assert wide[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    both = cluster.ok("get", "-n", ns, "svc,cm").split("\n\n")
    assert both[0].splitlines()[1].startswith("service/web ")
    assert "configmap/settings" in both[1]
    assert cluster.ok("get", "-n", ns, "deploy,svc", "-o", "name").splitlines() == ["deployment.apps/web",
                                                                                  "service/web"]
    doc = yaml.safe_load(cluster.ok("get", "-n", ns, "cm", "-o", "yaml"))
    assert doc["kind"] == "List" and doc["items"][0]["kind"] == "ConfigMap"
    assert doc["items"][0]["data"] == {"mode": "fast"}
    one = yaml.safe_load(cluster.ok("get", "-n", ns, "cm", "settings", "-o", "yaml"))
    assert one["kind"] == "ConfigMap"
    assert cluster.ok("get", "-n", ns, "deploy", "web", "-o", "jsonpath={.spec.replicas}") == "2"
    labelled = cluster.ok("get", "-n", ns, "deploy", "--show-labels", "-L", "app").splitlines()
    assert labelled[0].split()[-2:] == ["APP", "LABELS"] and labelled[1].split()[-2:] == ["web", "app=web"]
    everywhere = cluster.ok("get", "deploy", "-A", "-l", "app=web").splitlines()
    assert everywhere[0].split()[0] == "NAMESPACE" and any(line.split()[0] == ns for line in everywhere[1:])
    assert cluster.pictl("get", "-n", ns, "deploy", "-l", "app=other").err == f"No resources found in {ns} namespace.\n"
    cols = cluster.ok("get", "-n", ns, "deploy", "-o", "custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas")
    assert cols.splitlines() == ["NAME   REPLICAS", "web    2"]
    cluster.ok("create", "-n", ns, "cm", "z1", "--from-literal=n=1")
    cluster.ok("create", "-n", ns, "cm", "a2", "--from-literal=n=2")
    rows = cluster.ok("get", "-n", ns, "cm", "z1", "a2", "--sort-by", ".data.n", "--no-headers").splitlines()
    assert [r.split()[0] for r in rows] == ["z1", "a2"]


def test_get_not_found_and_partial_results(cluster: Cluster, ns: str) -> None:
    cluster.ok("apply", "-n", ns, "-f", "-", input=_app())
    r = cluster.pictl("get", "-n", ns, "cm", "settings", "missing")
    assert r.code == 1
    assert r.out.splitlines()[1].startswith("settings ")
    assert r.err == 'Error from server (NotFound): configmaps "missing" not found\n'
    r = cluster.pictl("get", "-n", ns, "cm", "missing", "--ignore-not-found")
    assert (r.code, r.out, r.err) == (0, "", "")


def _flat(text: str) -> list[str]:
    """Lines with runs of spaces collapsed (alignment is the tabwriter's business)."""
    return [" ".join(line.split()) for line in text.splitlines()]


def test_describe(cluster: Cluster, ns: str) -> None:
    cluster.ok("apply", "-n", ns, "-f", "-", input=_app())
    text = _flat(cluster.ok("describe", "-n", ns, "deploy", "web"))
    assert text[0] == "Name: web" and f"Namespace: {ns}" in text
    assert "Replicas: 2 desired | 0 updated | 0 total | 0 available | 0 unavailable" in text
    assert "Image: busybox:1.36" in text and "DEBUG: 1" in text and text[-1] == "Events: <none>"
    svc = _flat(cluster.ok("describe", "-n", ns, "svc/web"))
    assert "Port: <unset> 80/TCP" in svc and "Selector: app=web" in svc
    assert "Data\n====\nmode:\n----\nfast\n" in cluster.ok("describe", "-n", ns, "cm", "sett")  # name prefix
    r = cluster.pictl("describe", "-n", ns, "cm", "zzz")
    assert r.code == 1 and r.err == 'Error from server (NotFound): configmaps "zzz" not found\n'


def test_label_annotate_scale(cluster: Cluster, ns: str) -> None:
    cluster.ok("apply", "-n", ns, "-f", "-", input=_app())
    assert cluster.ok("label", "-n", ns, "cm", "settings", "tier=front") == "configmap/settings labeled\n"
    r = cluster.pictl("label", "-n", ns, "cm", "settings", "tier=back")
    assert r.code == 1 and r.err == "error: 'tier' already has a value (front), and --overwrite is false\n"
    cluster.ok("label", "-n", ns, "cm", "settings", "tier=back", "--overwrite")
    assert cluster.ok("label", "-n", ns, "cm", "settings", "tier=back") == "configmap/settings not labeled\n"
    cluster.ok("annotate", "-n", ns, "cm", "settings", "note=hello world")
    cm = json.loads(cluster.ok("get", "-n", ns, "cm", "settings", "-o", "json"))
    assert cm["metadata"]["labels"] == {"tier": "back"} and cm["metadata"]["annotations"]["note"] == "hello world"
    cluster.ok("label", "-n", ns, "cm", "settings", "tier-")
    assert "tier" not in json.loads(cluster.ok("get", "-n", ns, "cm", "settings", "-o", "json"))["metadata"].get(
        "labels", {})
    assert cluster.ok("scale", "-n", ns, "deployment", "web", "--replicas", "4") == "deployment.apps/web scaled\n"
    r = cluster.pictl("scale", "-n", ns, "deploy/web", "--replicas=1", "--current-replicas=3")
    assert r.code == 1 and "Expected replicas to be 3, was 4" in r.err
    assert cluster.ok("get", "-n", ns, "deploy", "web", "-o", "jsonpath={.spec.replicas}") == "4"


def test_create_and_delete_by_selectors(cluster: Cluster, ns: str) -> None:
    assert cluster.ok("create", "-n", ns, "configmap", "a", "--from-literal=k=1") == "configmap/a created\n"
    cluster.ok("create", "-n", ns, "configmap", "b", "--from-literal=k=2")
    cluster.ok("label", "-n", ns, "cm", "a", "b", "group=x")
    r = cluster.pictl("create", "-n", ns, "configmap", "a", "--from-literal=k=1")
    assert r.code == 1 and r.err == 'Error from server (AlreadyExists): configmaps "a" already exists\n'
    assert cluster.ok("delete", "-n", ns, "cm", "-l", "group=x").splitlines() == ['configmap "a" deleted',
                                                                                  'configmap "b" deleted']
    cluster.ok("create", "-n", ns, "deployment", "d", "--image=busybox", "--replicas=2")
    dep = json.loads(cluster.ok("get", "-n", ns, "deploy", "d", "-o", "json"))
    assert dep["spec"]["template"]["spec"]["containers"][0] == {**dep["spec"]["template"]["spec"]["containers"][0],
                                                                 "name": "busybox", "image": "busybox"}
    assert cluster.ok("delete", "-n", ns, "deploy/d", "-o", "name") == "deployment.apps/d\n"
    r = cluster.pictl("delete", "-n", ns, "deploy", "d")
    assert r.code == 1 and r.err == 'Error from server (NotFound): deployments.apps "d" not found\n'
    assert cluster.pictl("delete", "-n", ns, "deploy", "d", "--ignore-not-found").code == 0


def test_apply_then_delete_by_file(cluster: Cluster, ns: str, tmp_path: object) -> None:
    from pathlib import Path

    f = Path(str(tmp_path)) / "app.yaml"
    f.write_text(_app())
    cluster.ok("apply", "-n", ns, "-f", str(f))
    out = cluster.ok("delete", "-n", ns, "-f", str(f))
    assert out.splitlines() == ['deployment.apps "web" deleted', 'service "web" deleted',
                                'configmap "settings" deleted']
    r = cluster.pictl("get", "-n", ns, "-f", str(f))
    assert r.code == 1 and 'deployments.apps "web" not found' in r.err


def test_apply_creates_the_namespace_first(cluster: Cluster) -> None:
    import uuid

    name = f"t-{uuid.uuid4().hex[:8]}"
    docs = (f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: {name}}}\n---\n"
            f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n")
    out = cluster.ok("apply", "-f", "-", input=docs)
    assert out.splitlines() == [f"namespace/{name} created", "configmap/c created"]
    cluster.pictl("delete", "ns", name, "--wait=false")


def test_dry_runs_write_nothing(cluster: Cluster, ns: str) -> None:
    out = cluster.ok("apply", "-n", ns, "-f", "-", "--dry-run=server", input=_app())
    assert "deployment.apps/web created (server dry run)" in out
    out = cluster.ok("apply", "-n", ns, "-f", "-", "--dry-run=client", input=_app())
    assert "configmap/settings created (dry run)" in out
    assert cluster.pictl("get", "-n", ns, "deploy,svc,cm", "-o", "name").out.strip() in (
        "", "configmap/kube-root-ca.crt")


def test_version_and_leading_flags(cluster: Cluster, ns: str) -> None:
    out = cluster.ok("version")
    assert out.splitlines()[1].startswith("Server Version: v1.")
    cluster.ok("create", "-n", ns, "cm", "lead")
    assert "lead" in cluster.ok("-n", ns, "get", "cm")


def test_patch_wait_and_api_resources(cluster: Cluster, ns: str) -> None:
    cluster.ok("apply", "-n", ns, "-f", "-", input=_app())
    assert cluster.ok("patch", "-n", ns, "deploy", "web", "-p", '{"spec":{"replicas":3}}') == (
        "deployment.apps/web patched\n")
    assert cluster.ok("patch", "-n", ns, "deploy/web", "--type=merge", "-p", "spec: {replicas: 3}") == (
        "deployment.apps/web patched (no change)\n")
    r = cluster.pictl("patch", "-n", ns, "deploy/web", "--type=json", "-p",
                      '[{"op":"replace","path":"/spec/replicas","value":-1}]')
    assert r.code == 1 and "Invalid" in r.err and "spec.replicas" in r.err
    out = cluster.ok("wait", "-n", ns, "--for=jsonpath={.spec.replicas}=3", "deploy/web", "--timeout=10s")
    assert out == "deployment.apps/web condition met\n"
    r = cluster.pictl("wait", "-n", ns, "--for=condition=Available", "deploy/web", "--timeout=1s")
    assert r.code == 1 and r.err == "error: timed out waiting for the condition on deployments.apps/web\n"
    cluster.ok("delete", "-n", ns, "cm", "settings", "--wait=false")
    assert cluster.ok("wait", "-n", ns, "--for=delete", "cm/settings") == "configmap/settings deleted\n"
    names = cluster.ok("api-resources", "-o", "name").split()
    assert "deployments.apps" in names and "pods" in names
    rows = cluster.ok("api-resources", "--namespaced=false").splitlines()
    assert any(line.split()[:2] == ["nodes", "no"] for line in rows)


def test_patch_output_formats(cluster: Cluster, ns: str) -> None:
    cluster.ok("create", "-n", ns, "cm", "a", "--from-literal=k=1")
    cluster.ok("create", "-n", ns, "cm", "b", "--from-literal=k=1")
    assert cluster.ok("patch", "-n", ns, "cm", "a", "-p", '{"data":{"k":"2"}}', "-o", "name") == "configmap/a\n"
    obj = json.loads(cluster.ok("patch", "-n", ns, "cm/a", "-p", '{"data":{"k":"3"}}', "-o", "json"))
    assert (obj["kind"], obj["apiVersion"], obj["data"]) == ("ConfigMap", "v1", {"k": "3"})
    docs = list(yaml.safe_load_all(cluster.ok("patch", "-n", ns, "cm", "a", "b", "--type=merge",
                                              "-p", '{"data":{"k":"4"}}', "-o", "yaml")))
    assert [(d["metadata"]["name"], d["data"]["k"]) for d in docs] == [("a", "4"), ("b", "4")]
    r = cluster.pictl("patch", "-n", ns, "cm", "a", "-p", "{}", "-o", "wide")
    assert (r.code, r.out) == (1, "") and 'output format "wide"' in r.err and "json,name,yaml" in r.err
