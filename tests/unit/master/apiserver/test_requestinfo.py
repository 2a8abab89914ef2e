"""Parsing request paths into RequestInfo."""

from __future__ import annotations

import pytest

from master.apiserver.requestinfo import parse_request_info, query_bool


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


@pytest.mark.parametrize(
    ("value", "want"),
    [
        pytest.param(None, False, id="absent"),
        pytest.param("0", False, id="0"),
        pytest.param("false", False, id="false"),
        pytest.param("FaLsE", False, id="false-any-case"),
        pytest.param("1", True, id="1"),
        pytest.param("true", True, id="true"),
        pytest.param("", True, id="empty"),
        pytest.param("maybe", True, id="maybe"),
        pytest.param("no", True, id="no"),
        pytest.param("f", True, id="f-is-not-parsebool-here"),
    ],
)
def test_query_bool_decodes_as_kube_apiserver(value: str | None, want: bool) -> None:
    # apimachinery's Convert_Slice_string_To_bool: only "0" and "false" are false; no value is a 400.
    assert query_bool(value) is want
    verb = parse_request_info("GET", "/api/v1/pods", {} if value is None else {"watch": value}).verb
    assert verb == ("watch" if want else "list")
