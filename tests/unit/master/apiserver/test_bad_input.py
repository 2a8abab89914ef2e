"""Bad input gets the right Status, never a 500 or a traceback."""

from __future__ import annotations

import pytest

from tests.fixtures.apiserver import Api, admin_ssl

PODS = "/api/v1/namespaces/default/pods"
GOOD = b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"x"}]}}'


@pytest.mark.parametrize(
    ("body", "content_type", "code", "reason"),
    [
        pytest.param(b"{not json", "application/json", 400, "BadRequest", id="garbage-json"),
        pytest.param(b"[1, 2]", "application/json", 400, "BadRequest", id="json-array"),
        pytest.param(b"", "application/json", 400, "BadRequest", id="empty"),
        pytest.param(b"a: [unclosed", "application/yaml", 400, "BadRequest", id="garbage-yaml"),
        pytest.param(GOOD, "text/plain", 415, "UnsupportedMediaType", id="wrong-content-type"),
        pytest.param(GOOD.replace(b'"v1"', b'"apps/v1"', 1), "application/json", 400, "BadRequest",
                     id="wrong-apiversion"),
        pytest.param(GOOD.replace(b'"Pod"', b'"Service"'), "application/json", 400, "BadRequest", id="wrong-kind"),
        pytest.param(GOOD.replace(b'"a"', b'"Not_Valid"'), "application/json", 422, "Invalid", id="invalid-name"),
        pytest.param(GOOD.replace(b'"name":"a"', b'"namespace":"other","name":"a"'), "application/json", 400,
                     "BadRequest", id="namespace-mismatch"),
    ],
)
async def test_bad_create_bodies(apiserver: Api, body: bytes, content_type: str, code: int, reason: str) -> None:
    got, status = await apiserver.post(PODS, data=body, headers={"Content-Type": content_type})
    assert got == code, status
    assert status["kind"] == "Status" and status["reason"] == reason and status["code"] == code


async def test_yaml_body_is_accepted(apiserver: Api) -> None:
    body = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\ndata: {a: b}\n"
    code, created = await apiserver.post("/api/v1/namespaces/default/configmaps", data=body,
                                         headers={"Content-Type": "application/yaml"})
    assert code == 201 and created["data"] == {"a": "b"}


async def test_huge_body_is_413(apiserver: Api) -> None:
    huge = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"a":"' + b"x" * (
        3 * 1024 * 1024 + 10) + b'"}}'
    code, status = await apiserver.post("/api/v1/namespaces/default/configmaps", data=huge,
                                        headers={"Content-Type": "application/json"})
    assert code == 413 and status["reason"] == "RequestEntityTooLarge"


async def test_unknown_paths_are_404_status(apiserver: Api) -> None:
    for path in ("/api/v1/nopes", "/apis/apps/v2/deployments", "/nothing/here", "/api/v1/namespaces/default/pods/a/x"):
        code, status = await apiserver.get(path)
        assert code == 404 and status["kind"] == "Status", path


async def test_unsupported_verbs_are_405(apiserver: Api) -> None:
    code, status = await apiserver.post("/api/v1/namespaces/default/pods/a/log", json={})
    assert code == 405 and status["reason"] == "MethodNotAllowed"


async def test_bad_query_parameters_are_400(apiserver: Api) -> None:
    for params in ({"limit": "x"}, {"labelSelector": "a in (b"}, {"continue": "!!!"}, {"resourceVersion": "abc"},
                   {"timeoutSeconds": "-1", "watch": "1"}):
        code, status = await apiserver.get(PODS, params=params)
        assert code == 400 and status["reason"] == "BadRequest", params


async def test_bad_patches(apiserver: Api) -> None:
    await apiserver.post(PODS, data=GOOD, headers={"Content-Type": "application/json"})
    code, status = await apiserver.patch(f"{PODS}/a", data=b"{x", headers={"Content-Type": "application/merge-patch+json"})
    assert code == 400, status
    code, status = await apiserver.patch(f"{PODS}/a", data=b"{}", headers={"Content-Type": "application/json"})
    assert code == 415, status
    code, status = await apiserver.patch(f"{PODS}/a", data=b"{}", headers={"Content-Type": "application/apply-patch+yaml"})
    assert code == 415, status
    code, status = await apiserver.patch(f"{PODS}/nope", data=b"{}",
                                         headers={"Content-Type": "application/merge-patch+json"})
    assert code == 404, status


async def test_unauthenticated_is_401_but_health_is_open(apiserver: Api) -> None:
    import ssl

    import aiohttp

    ctx = ssl.create_default_context(cafile=str(apiserver.data_dir / "pki" / "ca.crt"))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as anon:
        async with anon.get(apiserver.base + PODS) as resp:
            assert resp.status == 401
            assert (await resp.json())["reason"] == "Unauthorized"
        for path in ("/healthz", "/livez", "/readyz", "/version"):
            async with anon.get(apiserver.base + path) as resp:
                assert resp.status == 200, path
    assert admin_ssl(apiserver.data_dir) is not None
