"""The kubectl JSONPath subset of -o jsonpath and custom columns."""

from __future__ import annotations

from typing import Any

import pytest

from master.cli.kube import jsonpath

DOC: dict[str, Any] = {
    "kind": "List",
    "items": [
        {"metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "web"}},
         "spec": {"containers": [{"image": "busybox"}, {"image": "nginx"}]}, "status": {"phase": "Running"}},
        {"metadata": {"name": "b"}, "spec": {"replicas": 3, "ready": True, "ratio": 1.0},
         "status": {"phase": "Pending"}},
    ],
}


@pytest.mark.parametrize(
    ("template", "want"),
    [
        pytest.param("{.items[*].metadata.name}", "a b", id="wildcard"),
        pytest.param("{.items[0].spec.containers[-1].image}", "nginx", id="negative-index"),
        pytest.param("{.items[0:1].metadata.name}", "a", id="slice"),
        pytest.param("{.items[*]['metadata']['name']}", "a b", id="quoted-keys"),
        pytest.param("{..image}", "busybox nginx", id="recursive"),
        pytest.param('{.items[?(@.status.phase=="Running")].metadata.name}', "a", id="filter-eq"),
        pytest.param('{.items[?(@.status.phase!="Running")].metadata.name}', "b", id="filter-ne"),
        pytest.param("{.items[?(@.spec.replicas>2)].metadata.name}", "b", id="filter-gt"),
        pytest.param("{.items[?(@.spec.replicas)].metadata.name}", "b", id="filter-exists"),
        pytest.param('{range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}',
                     "a\tRunning\nb\tPending\n", id="range"),
        pytest.param("{.items[0].metadata.labels.app\\.kubernetes\\.io/name}", "web", id="escaped-dots"),
        pytest.param("{.items[1].spec.ready} {.items[1].spec.ratio}", "true 1", id="scalars"),
        pytest.param("{.items[1].spec}", '{"replicas":3,"ready":true,"ratio":1.0}', id="objects-as-json"),
        pytest.param("name={.nope.deeper}", "name=", id="missing-is-empty"),
        pytest.param("{$.kind}", "List", id="root"),
    ],
)
def test_templates(template: str, want: str) -> None:
    assert jsonpath.Template(template).render(DOC) == want


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("{.items[", id="unclosed-bracket"),
        pytest.param("{.items", id="unclosed-action"),
        pytest.param("{range .items[*]}{.x}", id="range-without-end"),
        pytest.param("{end}", id="end-without-range"),
        pytest.param("{.items[x]}", id="bad-index"),
        pytest.param('{"unterminated}', id="bad-string"),
    ],
)
def test_bad_templates(template: str) -> None:
    with pytest.raises(jsonpath.JSONPathError):
        jsonpath.Template(template)
