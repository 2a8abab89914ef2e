"""kubectl and pictl on the same cluster: each applies, reads and changes what the other made."""

from __future__ import annotations

import json

from tests.integration.cli.conftest import Cluster

DEPLOY = """\
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
        image: {image}
        ports: [{{containerPort: 80}}]
"""


def _deploy(name: str, image: str = "busybox:1.36", env: str = '[{name: A, value: "1"}]') -> str:
    """The manifest; ``env=""`` leaves the env list out (an empty list never converges: the server
    drops it, so both kubectl and pictl find it missing on every apply)."""
    text = DEPLOY.format(name=name, image=image)
    return text + f"        env: {env}\n" if env else text


def test_pictl_applies_then_kubectl_applies(cluster: Cluster, ns: str) -> None:
    assert cluster.ok("apply", "-n", ns, "-f", "-", input=_deploy("a")) == "deployment.apps/a created\n"
    out = cluster.kubectl("apply", "-n", ns, "-f", "-", input=_deploy("a")).stdout
    assert out == "deployment.apps/a unchanged\n"  # kubectl reads pictl's last-applied as its own
    out = cluster.kubectl("apply", "-n", ns, "-f", "-", input=_deploy("a", image="busybox:2", env="")).stdout
    assert out == "deployment.apps/a configured\n"
    dep = json.loads(cluster.kubectl("get", "-n", ns, "deploy", "a", "-o", "json").stdout)
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:2"
    assert "env" not in dep["spec"]["template"]["spec"]["containers"][0]


def test_kubectl_applies_then_pictl_applies(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=_deploy("b"))
    assert cluster.ok("apply", "-n", ns, "-f", "-", input=_deploy("b")) == "deployment.apps/b unchanged\n"
    out = cluster.ok("apply", "-n", ns, "-f", "-", input=_deploy("b", env=""))
    assert out == "deployment.apps/b configured\n"
    assert cluster.kubectl("apply", "-n", ns, "-f", "-", input=_deploy("b", env="")).stdout == (
        "deployment.apps/b unchanged\n")
    dep = json.loads(cluster.ok("get", "-n", ns, "deploy", "b", "-o", "json"))
    assert "env" not in dep["spec"]["template"]["spec"]["containers"][0]


def test_same_tables(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("create", "-n", ns, "configmap", "k", "--from-literal=a=1")
    cluster.ok("create", "-n", ns, "configmap", "p", "--from-literal=a=1", "--from-literal=b=2")
    ours = cluster.ok("get", "-n", ns, "cm").splitlines()
    theirs = cluster.kubectl("get", "-n", ns, "cm").stdout.splitlines()
    assert [line.split()[:2] for line in ours] == [line.split()[:2] for line in theirs]
    assert ours[0] == theirs[0]  # same header, same alignment
    ours_svc = cluster.ok("get", "svc", "kubernetes", "-n", "default", "-o", "wide").splitlines()[0]
    theirs_svc = cluster.kubectl("get", "svc", "kubernetes", "-n", "default", "-o", "wide").stdout.splitlines()[0]
    assert ours_svc == theirs_svc


def test_each_reads_and_deletes_the_others(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("create", "-n", ns, "deployment", "kd", "--image=busybox")
    cluster.ok("create", "-n", ns, "deployment", "pd", "--image=busybox")
    assert "pd" in cluster.kubectl("get", "-n", ns, "deploy", "pd").stdout
    assert "kd" in cluster.ok("get", "-n", ns, "deploy", "kd")
    cluster.ok("label", "-n", ns, "deploy", "kd", "by=pictl")
    cluster.kubectl("label", "-n", ns, "deploy", "pd", "by=kubectl")
    assert cluster.kubectl("get", "-n", ns, "deploy", "kd", "-o", "jsonpath={.metadata.labels.by}").stdout == "pictl"
    assert cluster.ok("get", "-n", ns, "deploy", "pd", "-o", "jsonpath={.metadata.labels.by}") == "kubectl"
    assert "deployment.apps \"kd\" deleted" in cluster.ok("delete", "-n", ns, "deploy", "kd")
    assert "deployment.apps \"pd\" deleted" in cluster.kubectl("delete", "-n", ns, "deploy", "pd").stdout


def test_config_views_agree(cluster: Cluster) -> None:
    ours = cluster.ok("config", "view")
    theirs = cluster.kubectl("config", "view").stdout
    import yaml

    assert yaml.safe_load(ours) == yaml.safe_load(theirs)
