"""Resource arguments as kubectl reads them."""

from __future__ import annotations

import pytest

from master.cli.kube import resources


def _plurals(args: list[str]) -> list[tuple[str, list[str]]]:
    return [(t.resource.plural, t.names) for t in resources.parse(args)]


@pytest.mark.parametrize(
    ("args", "want"),
    [
        pytest.param(["po"], [("pods", [])], id="short-name"),
        pytest.param(["pods", "a", "b"], [("pods", ["a", "b"])], id="names"),
        pytest.param(["po,svc"], [("pods", []), ("services", [])], id="list"),
        pytest.param(["deploy.apps/web"], [("deployments", ["web"])], id="group-and-name"),
        pytest.param(["pod/a", "svc/b", "pod/c"], [("pods", ["a", "c"]), ("services", ["b"])], id="slash-form"),
        pytest.param(["all"], [("pods", []), ("services", []), ("daemonsets", []), ("deployments", []),
                               ("replicasets", [])], id="all"),
        pytest.param(["Deployment"], [("deployments", [])], id="kind"),
        pytest.param(["no,ns,cm,ds,rs"], [("nodes", []), ("namespaces", []), ("configmaps", []),
                                          ("daemonsets", []), ("replicasets", [])], id="more-short-names"),
    ],
)
def test_parse(args: list[str], want: list[tuple[str, list[str]]]) -> None:
    assert _plurals(args) == want


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["foo"], 'the server doesn\'t have a resource type "foo"', id="unknown"),
        pytest.param(["pods", "pod/a"], "there is no need to specify a resource type", id="mixed"),
        pytest.param(["pod/"], "must have a single resource and name", id="empty-name"),
        pytest.param(["po,,svc"], "invalid resource type list", id="empty-type"),
        pytest.param([], "you must specify the type of resource", id="nothing"),
    ],
)
def test_errors(args: list[str], message: str) -> None:
    with pytest.raises(resources.ResourceError, match=message):
        resources.parse(args)


def test_kind_names() -> None:
    assert resources.kind_name(resources.lookup("deploy")) == "deployment.apps"
    assert resources.kind_name(resources.lookup("svc")) == "service"
    assert "po" in resources.type_names() and "deployments" in resources.type_names()
