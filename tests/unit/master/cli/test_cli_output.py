"""-o formats: parsing, kubectl-shaped YAML and JSON, names, custom columns."""

from __future__ import annotations

import json

import pytest
import yaml

from master.api import registry
from master.cli.kube import output


def test_parse_formats() -> None:
    assert output.parse("").is_table and output.parse("wide").is_table
    assert output.parse("yaml").kind == "yaml"
    assert output.parse("jsonpath={.metadata.name}").template is not None
    cols = output.parse("custom-columns=NAME:.metadata.name,IMAGES:spec.containers[*].image").columns
    assert [h for h, _ in cols] == ["NAME", "IMAGES"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("xml", 'unable to match a printer suitable for the output format "xml"', id="unknown"),
        pytest.param("jsonpath=", "no template given", id="empty-template"),
        pytest.param("jsonpath={.x[", "error parsing jsonpath", id="bad-template"),
        pytest.param("custom-columns=NAME", "expected <header>:<json-path-expr>", id="bad-columns"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(output.OutputError, match=message.replace("(", r"\(").replace("[", r"\[")):
        output.parse(text)


def test_yaml_looks_like_kubectl() -> None:
    doc = {"metadata": {"resourceVersion": "10", "creationTimestamp": "2026-01-01T00:00:00Z",
                        "annotations": {"a": '{"x":1}\n'}},
           "kind": "Pod", "apiVersion": "v1", "spec": {"containers": [{"name": "c", "args": ["a", "b"]}]}}
    text = output.to_yaml(doc)
    assert text.splitlines()[:2] == ["apiVersion: v1", "kind: Pod"]  # sorted keys
    assert 'resourceVersion: "10"' in text and 'creationTimestamp: "2026-01-01T00:00:00Z"' in text
    assert "  containers:\n  - args:\n    - a\n" in text  # lists not indented under their key
    assert "a: |\n      {\"x\":1}\n" in text  # multi-line strings as blocks
    assert yaml.safe_load(text) == doc


def test_json_is_indented_by_four_with_sorted_keys() -> None:
    text = output.to_json({"b": 1, "a": {"c": [1]}})
    assert text == '{\n    "a": {\n        "c": [\n            1\n        ]\n    },\n    "b": 1\n}\n'
    assert json.loads(text) == {"b": 1, "a": {"c": [1]}}


def test_names_lists_and_types() -> None:
    deploy = registry.DEFAULT.lookup("deploy")
    pod = registry.DEFAULT.lookup("po")
    assert deploy is not None and pod is not None
    assert output.name_of(deploy, {"metadata": {"name": "web"}}) == "deployment.apps/web"
    assert output.name_of(pod, {"metadata": {"name": "web"}}) == "pod/web"
    typed = output.with_type(deploy, {"metadata": {"name": "web"}})
    assert typed["apiVersion"] == "apps/v1" and typed["kind"] == "Deployment"
    assert output.as_list([typed])["kind"] == "List"


def test_custom_columns_rows() -> None:
    fmt = output.parse("custom-columns=NAME:.metadata.name,IMAGES:.spec.containers[*].image,X:.nope")
    rows = output.custom_rows(fmt, [{"metadata": {"name": "a"},
                                     "spec": {"containers": [{"image": "i1"}, {"image": "i2"}]}}])
    assert rows == [["NAME", "IMAGES", "X"], ["a", "i1,i2", "<none>"]]
