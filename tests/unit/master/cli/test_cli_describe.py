"""describe sections for the main kinds and the Events table."""

from __future__ import annotations

from typing import Any

from master.api import timefmt
from master.cli.kube import describe

NOW = timefmt.to_epoch("2026-01-01T01:00:00Z")

POD: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web", "tier": "front"},
                 "annotations": {"note": "hi", "kubectl.kubernetes.io/last-applied-configuration": "{}"},
                 "ownerReferences": [{"kind": "ReplicaSet", "name": "web-abc", "controller": True, "uid": "u"}]},
    "spec": {"nodeName": "pi-1", "serviceAccountName": "default",
             "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "3600"],
                             "ports": [{"containerPort": 80}],
                             "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "200m"}},
                             "env": [{"name": "A", "value": "1"},
                                     {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
                             "volumeMounts": [{"name": "d", "mountPath": "/data"}]}],
             "volumes": [{"name": "d", "emptyDir": {}}],
             "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                              "tolerationSeconds": 300}]},
    "status": {"phase": "Running", "hostIP": "10.77.0.11", "podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}],
               "startTime": "2026-01-01T00:00:00Z",
               "conditions": [{"type": "Ready", "status": "True"}],
               "containerStatuses": [{"name": "c", "ready": True, "restartCount": 1,
                                      "state": {"running": {"startedAt": "2026-01-01T00:00:05Z"}},
                                      "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]},
}

EVENTS = [
    {"type": "Warning", "reason": "BackOff", "message": "Back-off\nrestarting", "count": 3,
     "firstTimestamp": "2026-01-01T00:30:00Z", "lastTimestamp": "2026-01-01T00:55:00Z",
     "source": {"component": "kubelet"}},
    {"type": "Normal", "reason": "Scheduled", "message": "Successfully assigned default/web to pi-1",
     "lastTimestamp": "2026-01-01T00:00:00Z", "reportingComponent": "default-scheduler"},
]


def test_pod() -> None:
    text = describe.describe("pods", POD, describe.Context(events=EVENTS, now=NOW))
    lines = text.splitlines()
    assert lines[0] == "Name:             web"
    assert "Node:             pi-1/10.77.0.11" in lines
    assert "Start Time:       Thu, 01 Jan 2026 00:00:00 +0000" in lines
    assert "Labels:           app=web" in lines and "                  tier=front" in lines
    assert "Annotations:      note: hi" in lines  # the last-applied annotation is not shown
    assert "Controlled By:  ReplicaSet/web-abc" in lines
    assert any(line.strip() == "State:          Running" for line in lines)
    assert any(line.strip() == "Last State:     Terminated" for line in lines)
    assert any("B:  <set to the key 'k' in secret 's'>" in line for line in lines)
    assert any(line.strip() == "/data from d (rw)" for line in lines)
    assert "QoS Class:       Burstable" in lines
    assert "Tolerations:     node.kubernetes.io/not-ready:NoExecute op=Exists for 300s" in lines
    events = lines[lines.index("Events:") + 1:]
    assert events[0].split() == ["Type", "Reason", "Age", "From", "Message"]
    assert events[2].split()[:3] == ["Normal", "Scheduled", "60m"]  # oldest first
    assert "5m (x3 over 30m)" in events[3] and events[3].endswith("Back-off restarting")


def test_no_events() -> None:
    text = describe.describe("configmaps", {"metadata": {"name": "c", "namespace": "d"}, "data": {"k": "v\nw"}},
                             describe.Context(now=NOW))
    assert text.endswith("Events:  <none>\n")
    assert "k:\n----\nv\nw\n" in text


def test_secret_shows_sizes_not_values() -> None:
    text = describe.describe("secrets", {"metadata": {"name": "s", "namespace": "d"}, "type": "Opaque",
                                         "data": {"password": "czNjcmV0"}}, describe.Context(now=NOW))
    assert "password:  6 bytes" in text and "s3cret" not in text and "czNjcmV0" not in text


def test_node_with_pods_and_allocation() -> None:
    node = {"metadata": {"name": "pi-1", "labels": {"node-role.kubernetes.io/worker": ""}},
            "spec": {"podCIDR": "10.244.1.0/24", "unschedulable": True},
            "status": {"allocatable": {"cpu": "4", "memory": "4Gi"}, "capacity": {"cpu": "4"},
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                       "addresses": [{"type": "InternalIP", "address": "10.77.0.11"}]}}
    pods = [{"metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"},
             "spec": {"containers": [{"resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}]},
             "status": {"phase": "Running"}},
            {"metadata": {"name": "done", "namespace": "default"}, "spec": {}, "status": {"phase": "Succeeded"}}]
    text = describe.describe("nodes", node, describe.Context(related={"pods": pods}, now=NOW))
    assert "Roles:              worker" in text
    assert "Unschedulable:      true" in text
    assert any(line.split(":", 1)[1].strip() == "(1 in total)" for line in text.splitlines()
               if line.startswith("Non-terminated Pods:"))
    assert "500m (12%)" in text and "1Gi (25%)" in text


def test_deployment_and_generic() -> None:
    dep = {"metadata": {"name": "web", "namespace": "default"},
           "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "c", "image": "busybox"}]}}},
           "status": {"replicas": 3, "updatedReplicas": 3, "availableReplicas": 2, "unavailableReplicas": 1}}
    rs = {"metadata": {"name": "web-1"}, "spec": {"replicas": 3}, "status": {"replicas": 3}}
    text = describe.describe("deployments", dep, describe.Context(
        related={"replicasets": [rs], "new_replicaset": [rs]}, now=NOW))
    assert "3 desired | 3 updated | 3 total | 2 available | 1 unavailable" in text
    assert "NewReplicaSet:" in text and "web-1 (3/3 replicas created)" in text
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l", "namespace": "x"},
             "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}}
    text = describe.describe("leases", lease, describe.Context(now=NOW))
    assert "Holder Identity:" in text and "Lease Duration Seconds:" in text
