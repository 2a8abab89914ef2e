"""Stock kubectl reading our OpenAPI documents: explain, client-side apply patches, validation."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.apiserver import MasterProcess

pytestmark = pytest.mark.slow

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {name}}}}}
  strategy: {strategy}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: main
        image: busybox:1.36
        env: [{{name: A, value: "1"}}, {{name: B, value: "{b}"}}]
      - name: {second}
        image: busybox:1.36
"""


def _deployment(name: str, *, b: str = "2", second: str = "side",
                strategy: str = "{type: RollingUpdate, rollingUpdate: {maxSurge: 1}}") -> str:
    return DEPLOYMENT.format(name=name, b=b, second=second, strategy=strategy)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("pods",), ["KIND:       Pod", "A group of containers", "spec\t<PodSpec>"], id="pods"),
        pytest.param(("pods.spec.containers.ports",),
                     ["FIELD: ports <[]ContainerPort>", "containerPort\t<integer> -required-"], id="ports"),
        pytest.param(("deployments", "--recursive"),
                     ["GROUP:      apps", "strategy\t<DeploymentStrategy>", "maxSurge\t<IntOrString>",
                      "containers\t<[]Container> -required-"], id="deployments-recursive"),
        pytest.param(("pods.spec.containers.resources",), ["limits\t<map[string]Quantity>"], id="quantity"),
        pytest.param(("pods.spec.tolerations.operator",), ["Exists or Equal"], id="described-by-comment"),
        pytest.param(("csr",), ["GROUP:      certificates.k8s.io", "KIND:       CertificateSigningRequest"],
                     id="csr"),
        pytest.param(("pods", "--output=plaintext-openapiv2"), ["KIND:     Pod", "spec\t<Object>"],
                     id="pods-from-v2-protobuf"),
        pytest.param(("pods.spec.containers", "--output=plaintext-openapiv2"),
                     ["RESOURCE: containers <[]Object>", "name\t<string> -required-"], id="containers-from-v2"),
    ],
)
def test_explain(master_process: MasterProcess, args: tuple[str, ...], expected: list[str]) -> None:
    out = master_process.kubectl("explain", *args).stdout
    for text in expected:
        assert text in out, (text, out[:2000])


def test_explain_of_a_missing_field_is_one_clear_error(master_process: MasterProcess) -> None:
    result = master_process.kubectl("explain", "pods.spec.nope", check=False)
    assert result.returncode != 0 and 'field "nope" does not exist' in result.stderr


def test_apply_builds_strategic_merge_patches_from_our_schema(master_process: MasterProcess) -> None:
    k = master_process.kubectl
    k("apply", "-f", "-", input=_deployment("oa-apply"))
    # Another actor adds an env var the manifest does not mention: a merge keeps it.
    k("set", "env", "deployment/oa-apply", "-c", "main", "EXTRA=x")
    result = k("apply", "-f", "-", input=_deployment("oa-apply", b="3", second="other", strategy="{type: Recreate}"))
    assert "configured" in result.stdout
    assert "warning" not in result.stderr.lower(), result.stderr
    dep = json.loads(k("get", "deployment", "oa-apply", "-o", "json").stdout)
    containers = dep["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["main", "other"]
    assert containers[0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"},
                                    {"name": "EXTRA", "value": "x"}]
    # strategy is retainKeys: switching to Recreate clears rollingUpdate.
    assert dep["spec"]["strategy"] == {"type": "Recreate"}
    diff = k("diff", "-f", "-", input=_deployment("oa-apply", b="4", second="other", strategy="{type: Recreate}"),
             check=False)
    assert diff.returncode == 1 and '+          value: "4"' in diff.stdout, diff.stderr
    k("delete", "deployment", "oa-apply")


def test_unknown_fields_fail_server_side_validation(master_process: MasterProcess) -> None:
    k = master_process.kubectl
    bad = _deployment("oa-strict").replace("        env:", "        bogus: 1\n        env:", 1)
    result = k("apply", "-f", "-", input=bad, check=False)
    assert result.returncode != 0
    assert 'unknown field "spec.template.spec.containers[0].bogus"' in result.stderr
    result = k("create", "--validate=true", "-f", "-", input=bad, check=False)
    assert result.returncode != 0 and "bogus" in result.stderr
    assert "created" in k("create", "--validate=false", "-f", "-", input=bad).stdout
    dep = json.loads(k("get", "deployment", "oa-strict", "-o", "json").stdout)
    assert "bogus" not in dep["spec"]["template"]["spec"]["containers"][0]
    k("delete", "deployment", "oa-strict")


def test_raw_documents(master_process: MasterProcess) -> None:
    v2 = json.loads(master_process.kubectl("get", "--raw", "/openapi/v2").stdout)
    assert v2["swagger"] == "2.0" and "io.k8s.api.apps.v1.Deployment" in v2["definitions"]
    index = json.loads(master_process.kubectl("get", "--raw", "/openapi/v3").stdout)
    url = index["paths"]["api/v1"]["serverRelativeURL"]
    core = json.loads(master_process.kubectl("get", "--raw", url).stdout)
    assert core["openapi"].startswith("3.0") and "io.k8s.api.core.v1.Pod" in core["components"]["schemas"]
