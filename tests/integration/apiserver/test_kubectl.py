"""Stock kubectl against a real ``pictl master``."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.fixtures.apiserver import MasterProcess

pytestmark = pytest.mark.slow

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: web}}
spec:
  containers:
  - name: c
    image: {image}
    ports: [{{containerPort: 80}}]
"""

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: c
        image: busybox:1.36
"""


def test_discovery_and_system_objects(master_process: MasterProcess) -> None:
    out = master_process.kubectl("get", "ns").stdout
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert ns in out
    svc = json.loads(master_process.kubectl("get", "svc", "kubernetes", "-o", "json").stdout)
    assert svc["spec"]["clusterIP"] == "10.96.0.1"
    resources = master_process.kubectl("api-resources").stdout
    assert "deployments" in resources and "endpointslices" in resources and "leases" in resources


def test_apply_get_label_annotate_describe_delete(master_process: MasterProcess) -> None:
    k = master_process.kubectl
    assert "pod/kpod created" in k("apply", "-f", "-", input=POD.format(name="kpod", image="busybox")).stdout
    assert "configured" in k("apply", "-f", "-", input=POD.format(name="kpod", image="busybox:2")).stdout
    got = json.loads(k("get", "pod", "kpod", "-o", "json").stdout)
    assert got["spec"]["containers"][0]["image"] == "busybox:2"
    k("label", "pod", "kpod", "tier=front")
    k("annotate", "pod", "kpod", "note=hello")
    out = k("get", "pod", "kpod", "--show-labels").stdout
    assert "tier=front" in out and "Pending" in out
    wide = k("get", "pods", "-o", "wide").stdout.splitlines()[0].split()
    assert wide[:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] and "NODE" in wide and "IP" in wide
    assert "note: hello" in k("describe", "pod", "kpod").stdout
    assert 'pod "kpod" deleted' in k("delete", "pod", "kpod").stdout
    err = k("get", "pod", "kpod", check=False)
    assert err.returncode != 0 and 'pods "kpod" not found' in err.stderr


def test_deployment_scale_and_rollout_status(master_process: MasterProcess) -> None:
    k = master_process.kubectl
    k("apply", "-f", "-", input=DEPLOYMENT.format(name="kdep"))
    k("scale", "deployment", "kdep", "--replicas=3")
    dep = json.loads(k("get", "deploy", "kdep", "-o", "json").stdout)
    assert dep["spec"]["replicas"] == 3
    # No controllers yet: play the deployment controller through the status subresource.
    status = {"status": {"observedGeneration": dep["metadata"]["generation"], "replicas": 3, "updatedReplicas": 3,
                         "readyReplicas": 3, "availableReplicas": 3}}
    k("patch", "deploy", "kdep", "--subresource=status", "--type=merge", "-p", json.dumps(status))
    out = k("rollout", "status", "deployment/kdep", "--timeout=20s").stdout
    assert "successfully rolled out" in out
    assert "3/3" in k("get", "deploy", "kdep").stdout
    k("delete", "deploy", "kdep")


def test_unknown_field_is_rejected_by_strict_validation(master_process: MasterProcess) -> None:
    bad = POD.format(name="strict", image="busybox") + "  bogusField: 1\n"
    result = master_process.kubectl("apply", "-f", "-", input=bad, check=False)
    assert result.returncode != 0
    assert 'unknown field "spec.bogusField"' in result.stderr
    ok = master_process.kubectl("apply", "--validate=false", "-f", "-", input=bad)
    assert "created" in ok.stdout
    master_process.kubectl("delete", "pod", "strict")


def test_get_watch_sees_changes(master_process: MasterProcess) -> None:
    cmd = ["kubectl", "--kubeconfig", str(master_process.kubeconfig), "--cache-dir",
           str(master_process.data_dir / "kubectl-cache"), "get", "configmaps", "-w", "--request-timeout=30s"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        master_process.kubectl("apply", "-f", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                                          "  name: watched\ndata: {a: b}\n")
        deadline = time.monotonic() + 20
        seen = ""
        assert proc.stdout is not None
        while time.monotonic() < deadline and "watched" not in seen:
            seen += proc.stdout.readline()
        assert "watched" in seen
    finally:
        proc.kill()
        proc.wait(timeout=10)
        master_process.kubectl("delete", "configmap", "watched", check=False)


def test_bad_namespace_and_missing_objects(master_process: MasterProcess) -> None:
    result = master_process.kubectl("get", "pods", "-n", "does-not-exist")
    assert "No resources found" in result.stderr
    result = master_process.kubectl("delete", "ns", "kube-system", check=False)
    assert result.returncode != 0 and "Forbidden" in result.stderr


def test_create_generators_send_protobuf(master_process: MasterProcess) -> None:
    k = master_process.kubectl
    k("create", "namespace", "gen")
    k("-n", "gen", "create", "deployment", "d", "--image=busybox", "--replicas=3", "--port=80")
    k("-n", "gen", "create", "configmap", "cm", "--from-literal=a=b")
    k("-n", "gen", "create", "secret", "generic", "s", "--from-literal=a=b")
    k("-n", "gen", "create", "serviceaccount", "sa")
    k("-n", "gen", "create", "service", "nodeport", "np", "--tcp=80:8080", "--node-port=30999")
    dep = json.loads(k("-n", "gen", "get", "deploy", "d", "-o", "json").stdout)
    assert dep["spec"]["replicas"] == 3
    assert dep["spec"]["template"]["spec"]["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert json.loads(k("-n", "gen", "get", "cm", "cm", "-o", "json").stdout)["data"] == {"a": "b"}
    assert json.loads(k("-n", "gen", "get", "secret", "s", "-o", "json").stdout)["data"] == {"a": "Yg=="}
    svc = json.loads(k("-n", "gen", "get", "svc", "np", "-o", "json").stdout)
    assert svc["spec"]["ports"][0]["nodePort"] == 30999 and svc["spec"]["ports"][0]["targetPort"] == 8080


def test_etcdctl_sees_registry_keys(master_process: MasterProcess) -> None:
    import os

    master_process.kubectl("create", "configmap", "etcdctl-visible", "--from-literal=a=b")
    out = subprocess.run(["etcdctl", "--endpoints", f"127.0.0.1:{master_process.client_port}", "get", "/",
                          "--prefix", "--keys-only"], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "ETCDCTL_API": "3"})
    assert out.returncode == 0, out.stderr
    keys = [line for line in out.stdout.splitlines() if line]
    assert "/registry/configmaps/default/etcdctl-visible" in keys
    assert "/registry/namespaces/kube-system" in keys
    assert "/registry/services/default/kubernetes" in keys
