"""/openapi/v2 and /openapi/v3 over HTTP: content negotiation, ETags, hash URLs, bad paths."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from multidict import CIMultiDict

from master.apiserver import openapi
from tests.fixtures.apiserver import Api

PROTOBUF_ACCEPT = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"


async def _get(api: Api, path: str, headers: dict[str, str] | None = None) -> tuple[int, CIMultiDict[str], bytes]:
    async with api.session.get(api.base + path, headers=headers or {}, allow_redirects=False) as resp:
        return resp.status, CIMultiDict(resp.headers), await resp.read()


def _fields(data: bytes) -> dict[int, list[Any]]:
    """One level of a protobuf message: field number -> values (bytes for length-delimited)."""
    out: dict[int, list[Any]] = {}
    i = 0

    def varint() -> int:
        nonlocal i
        shift = value = 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    while i < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            out.setdefault(number, []).append(varint())
        elif wire == 2:
            size = varint()
            out.setdefault(number, []).append(data[i:i + size])
            i += size
        elif wire == 1:
            out.setdefault(number, []).append(data[i:i + 8])
            i += 8
        else:
            raise AssertionError(f"unexpected wire type {wire}")
    return out


def _named(data: bytes, number: int) -> dict[str, bytes]:
    """gnostic's repeated Named* {name = 1; value = 2} pairs in field ``number``, as a dict."""
    pairs = (_fields(entry) for entry in _fields(data).get(number, []))
    return {p[1][0].decode(): p.get(2, [b""])[0] for p in pairs}


async def test_v2_is_json_by_default_and_protobuf_when_asked(apiserver: Api) -> None:
    code, headers, body = await _get(apiserver, "/openapi/v2")
    assert code == 200 and headers["Content-Type"].startswith("application/json")
    doc = json.loads(body)
    assert doc["swagger"] == "2.0" and "io.k8s.api.core.v1.Pod" in doc["definitions"]

    code, headers, body = await _get(apiserver, "/openapi/v2", {"Accept": PROTOBUF_ACCEPT})
    assert code == 200 and headers["Content-Type"] == openapi.PROTOBUF_V2_TYPE
    document = _fields(body)
    assert document[1] == [b"2.0"]
    definitions = _named(document[9][0], 1)
    pod = _fields(definitions["io.k8s.api.core.v1.Pod"])
    assert _fields(pod[22][0])[1] == [b"object"]  # type: TypeItem{value: "object"}
    extensions = {_fields(e)[1][0]: _fields(_fields(e)[2][0])[2][0] for e in pod[31]}
    assert json.loads(extensions[b"x-kubernetes-group-version-kind"]) == [
        {"group": "", "kind": "Pod", "version": "v1"}]
    spec = _fields(definitions["io.k8s.api.core.v1.PodSpec"])
    assert spec[19] == [b"containers"]  # required
    containers = _fields(_named(spec[25][0], 1)["containers"])
    ext = {_fields(e)[1][0]: _fields(_fields(e)[2][0])[2][0] for e in containers[31]}
    assert json.loads(ext[b"x-kubernetes-patch-merge-key"]) == "name"
    # The PATCH of a pod lists fieldValidation among its query parameters, inline.
    paths = _named(document[8][0], 2)
    patch = _fields(_fields(paths["/api/v1/namespaces/{namespace}/pods/{name}"])[8][0])
    names = []
    for item in patch[8]:
        parameter = _fields(_fields(item)[1][0])
        if 2 in parameter:  # non-body
            names.append(_fields(_fields(parameter[2][0])[3][0])[4][0].decode())
    assert "fieldValidation" in names


@pytest.mark.parametrize(
    ("accept", "protobuf"),
    [
        pytest.param("application/json", False, id="json"),
        pytest.param("*/*", False, id="any"),
        pytest.param(f"application/json, {PROTOBUF_ACCEPT}", False, id="json-first"),
        pytest.param(f"{PROTOBUF_ACCEPT}, application/json", True, id="protobuf-first"),
        pytest.param("application/com.github.proto-openapi.spec.v2.v1.0+protobuf", True, id="protobuf-dotted"),
        pytest.param("text/html", False, id="unknown-type-gets-json"),
    ],
)
async def test_v2_content_negotiation(apiserver: Api, accept: str, protobuf: bool) -> None:
    code, headers, _ = await _get(apiserver, "/openapi/v2", {"Accept": accept})
    assert code == 200
    assert (headers["Content-Type"] == openapi.PROTOBUF_V2_TYPE) is protobuf


async def test_etag_answers_304(apiserver: Api) -> None:
    code, headers, _ = await _get(apiserver, "/openapi/v2")
    etag = headers["ETag"]
    code, headers, body = await _get(apiserver, "/openapi/v2", {"If-None-Match": etag})
    assert code == 304 and body == b"" and headers["ETag"] == etag
    code, _, body = await _get(apiserver, "/openapi/v2", {"If-None-Match": '"stale"'})
    assert code == 200 and body


async def test_gzip_when_the_client_takes_it(apiserver: Api) -> None:
    async with apiserver.session.get(apiserver.base + "/openapi/v3/api/v1", headers={"Accept-Encoding": "gzip"},
                                     auto_decompress=False) as resp:
        assert resp.status == 200 and resp.headers["Content-Encoding"] == "gzip"
        zipped = await resp.read()
        weak = resp.headers["ETag"]
    async with apiserver.session.get(apiserver.base + "/openapi/v3/api/v1",
                                     headers={"Accept-Encoding": "identity"}) as resp:
        assert resp.status == 200 and "Content-Encoding" not in resp.headers
        assert await resp.read() == gzip.decompress(zipped)
        assert weak == "W/" + resp.headers["ETag"]


async def test_v3_index_and_hash_urls(apiserver: Api) -> None:
    code, headers, body = await _get(apiserver, "/openapi/v3")
    assert code == 200
    index = json.loads(body)["paths"]
    assert {"api/v1", "apis/apps/v1", "apis/rbac.authorization.k8s.io/v1"} <= set(index)
    url = index["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")

    code, headers, body = await _get(apiserver, url)
    assert code == 200 and "immutable" in headers["Cache-Control"]
    doc = json.loads(body)
    assert doc["openapi"].startswith("3.0") and "io.k8s.api.apps.v1.Deployment" in doc["components"]["schemas"]
    assert headers["ETag"] == f'W/"{url.rpartition("=")[2]}"'  # gzipped, as aiohttp asks

    code, headers, _ = await _get(apiserver, "/openapi/v3/apis/apps/v1?hash=OLD")
    assert code == 301 and headers["Location"] == url
    code, headers, again = await _get(apiserver, "/openapi/v3/apis/apps/v1")
    assert code == 200 and again == body and "no-cache" in headers["Cache-Control"]


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/openapi/v3/apis/nope/v1", id="unknown-group"),
        pytest.param("/openapi/v3/api/v2", id="unknown-core-version"),
        pytest.param("/openapi/v3/apis", id="half-a-path"),
        pytest.param("/openapi/v2/extra", id="below-v2"),
        pytest.param("/openapi/v4", id="unknown-version"),
        pytest.param("/openapi", id="bare"),
    ],
)
async def test_unknown_openapi_paths_are_404_status(apiserver: Api, path: str) -> None:
    code, status = await apiserver.get(path)
    assert code == 404 and status["kind"] == "Status" and status["reason"] == "NotFound"


async def test_writes_are_405(apiserver: Api) -> None:
    code, status = await apiserver.post("/openapi/v2", json={})
    assert code == 405 and status["kind"] == "Status"
