"""Parsing request paths into RequestInfo."""

from __future__ import annotations

import pytest

from master.apiserver.requestinfo import parse_request_info


@pytest.mark.parametrize(
    ("method", "path", "query", "want"),
    [
        pytest.param("GET", "/api/v1/namespaces/default/pods", {}, ("list", "", "pods", "default", "", ""),
                     id="list-namespaced"),
        pytest.param("GET", "/api/v1/pods", {"watch": "1"}, ("watch", "", "pods", "", "", ""), id="watch-all"),
        pytest.param("GET", "/api/v1/watch/namespaces/default/pods", {}, ("watch", "", "pods", "default", "", ""),
                     id="watch-prefix"),
        pytest.param("PUT", "/api/v1/namespaces/default/pods/web/status", {},
                     ("update", "", "pods", "default", "web", "status"), id="status"),
        pytest.param("GET", "/apis/apps/v1/namespaces/ns/deployments/d", {},
                     ("get", "apps", "deployments", "ns", "d", ""), id="group"),
        pytest.param("DELETE", "/api/v1/namespaces/default/pods", {},
                     ("deletecollection", "", "pods", "default", "", ""), id="deletecollection"),
        pytest.param("GET", "/api/v1/namespaces/kube-system", {},
                     ("get", "", "namespaces", "kube-system", "kube-system", ""), id="namespace-object"),
        pytest.param("PUT", "/api/v1/namespaces/x/finalize", {}, ("update", "", "namespaces", "x", "x", "finalize"),
                     id="namespace-finalize"),
        pytest.param("POST", "/api/v1/namespaces/default/pods/p/eviction", {},
                     ("create", "", "pods", "default", "p", "eviction"), id="eviction"),
        pytest.param("PATCH", "/api/v1/nodes/pi-1/status", {}, ("patch", "", "nodes", "", "pi-1", "status"),
                     id="node-status"),
    ],
)
def test_resource_requests(method: str, path: str, query: dict[str, str], want: tuple[str, ...]) -> None:
    info = parse_request_info(method, path, query)
    assert info.is_resource
    assert (info.verb, info.group, info.resource, info.namespace, info.name, info.subresource) == want


@pytest.mark.parametrize("path", ["/healthz", "/version", "/api", "/apis", "/apis/apps", "/metrics", "/api/v1"])
def test_non_resource_requests(path: str) -> None:
    assert not parse_request_info("GET", path).is_resource
