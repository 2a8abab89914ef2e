"""Bad input against a real apiserver: one clear line per problem, a non-zero exit, nothing created.

apply and create check every object (server-side dry runs) before writing any, so a file with
one bad object among good ones leaves the cluster as it was.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.integration.cli.conftest import Cluster

GOOD = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good}\ndata: {a: '1'}\n---\n"


def _names(cluster: Cluster, ns: str) -> list[str]:
    out = cluster.pictl("get", "-n", ns, "cm,pods,svc", "-o", "name").out
    return sorted(out.split())


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        pytest.param("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c}\n",
                     'Pod "p" is invalid: spec.containers[0].image: Required value', id="invalid-object"),
        pytest.param("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [\n",
                     "error: STDIN: line 11: did not find expected node content", id="broken-yaml"),
        pytest.param("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
                     'no matches for kind "Widget" in version "example.com/v1"', id="unknown-kind"),
        pytest.param("apiVersion: v1\nkind: Service\nmetadata: {name: Web_1}\nspec: {ports: [{port: 80}]}\n",
                     'The Service "Web_1" is invalid: metadata.name: Invalid value: "Web_1"', id="invalid-name"),
        pytest.param("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 99999}]}\n",
                     'Service "s" is invalid: [spec.ports[0].port: Invalid value: 99999', id="invalid-port"),
    ],
)
@pytest.mark.parametrize("verb", ["apply", "create"])
def test_nothing_partial(cluster: Cluster, ns: str, verb: str, bad: str, message: str) -> None:
    before = _names(cluster, ns)
    r = cluster.pictl(verb, "-n", ns, "-f", "-", input=GOOD + bad)
    assert r.code == 1, r
    assert message in r.err, r.err
    assert r.out == "" and "Traceback" not in r.err
    assert all(line.startswith(("error: ", "Error from server", "The ")) for line in r.err.splitlines())
    assert _names(cluster, ns) == before  # "good" was not created either


@pytest.mark.parametrize("verb", ["apply", "create"])
def test_missing_namespace(cluster: Cluster, ns: str, verb: str) -> None:
    docs = (f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: good, namespace: {ns}}}\n---\n"
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: nowhere-at-all}\n")
    r = cluster.pictl(verb, "-f", "-", input=docs)
    assert r.code == 1
    assert r.err == ('Error from server (NotFound): error when creating "STDIN": '
                     'namespaces "nowhere-at-all" not found\n')
    assert _names(cluster, ns) == []


def test_every_problem_is_reported(cluster: Cluster, ns: str) -> None:
    docs = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p1}\nspec: {containers: [{name: c}]}\n---\n"
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p2}\nspec: {containers: [{name: c}]}\n")
    r = cluster.pictl("apply", "-n", ns, "-f", "-", input=docs)
    assert r.code == 1 and len(r.err.splitlines()) == 2
    assert 'Pod "p1" is invalid' in r.err and 'Pod "p2" is invalid' in r.err


def test_namespace_mismatch(cluster: Cluster, ns: str) -> None:
    r = cluster.pictl("apply", "-n", ns, "-f", "-", input="apiVersion: v1\nkind: ConfigMap\n"
                      "metadata: {name: c, namespace: other}\n")
    assert r.code == 1
    assert r.err == (f'error: the namespace from the provided object "other" does not match the namespace "{ns}". '
                     "You must pass '--namespace=other' to perform this operation.\n")


def test_invalid_update_leaves_the_object_alone(cluster: Cluster, ns: str) -> None:
    svc = "apiVersion: v1\nkind: Service\nmetadata: {{name: s}}\nspec: {{ports: [{{port: {port}}}]}}\n"
    cluster.ok("apply", "-n", ns, "-f", "-", input=svc.format(port=80))
    r = cluster.pictl("apply", "-n", ns, "-f", "-", input=svc.format(port=70000))
    assert r.code == 1 and "error when applying patch to service/s" in r.err and "spec.ports[0].port" in r.err
    live = json.loads(cluster.ok("get", "-n", ns, "svc", "s", "-o", "json"))
    assert live["spec"]["ports"][0]["port"] == 80


def test_missing_namespace_on_reads(cluster: Cluster) -> None:
    name = f"none-{uuid.uuid4().hex[:6]}"
    r = cluster.pictl("get", "pods", "-n", name)
    assert r.code == 0 and r.err == f"No resources found in {name} namespace.\n"
    r = cluster.pictl("create", "cm", "x", "-n", name)
    assert r.code == 1 and r.err == f'Error from server (NotFound): namespaces "{name}" not found\n'
    r = cluster.pictl("get", "pods", "-n", "Bad_NS")  # as kubectl: listing an impossible namespace finds nothing
    assert r.code == 0 and r.err == "No resources found in Bad_NS namespace.\n"


def test_installed_pictl_never_prints_a_traceback(cluster: Cluster) -> None:
    broken = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: a: b\n"
    p = cluster.run("apply", "-f", "-", input=broken)
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.startswith("error: STDIN: line 5: mapping values are not allowed")
    assert len(p.stderr.splitlines()) == 1
    p = cluster.run("get", "widgets")
    assert p.returncode == 1 and p.stderr == 'error: the server doesn\'t have a resource type "widgets"\n'
    p = cluster.run("get", "pods", "--no-such-flag")
    assert p.returncode == 2 and p.stderr == "error: No such option: --no-such-flag (see 'pictl get --help')\n"
