"""Watch through the HTTP layer and the watch cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fixtures.apiserver import Api, running_apiserver

CMS = "/api/v1/namespaces/default/configmaps"
PODS = "/api/v1/namespaces/default/pods"


def cm(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}


async def test_initial_state_then_live_events(apiserver: Api) -> None:
    await apiserver.post(CMS, json=cm("before"))
    async with apiserver.watch(CMS) as w:
        assert await w.next() == ("ADDED", _any_named("before"))
        await apiserver.post(CMS, json=cm("after"))
        kind, obj = await w.next()  # type: ignore[misc]
        assert (kind, obj["metadata"]["name"]) == ("ADDED", "after")
        await apiserver.delete(f"{CMS}/after")
        kind, obj = await w.next()  # type: ignore[misc]
        assert (kind, obj["metadata"]["name"]) == ("DELETED", "after")


class _any_named:
    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, dict) and other.get("metadata", {}).get("name") == self.name


async def test_resume_from_resource_version(apiserver: Api) -> None:
    _, first = await apiserver.post(CMS, json=cm("one"))
    await apiserver.post(CMS, json=cm("two"))
    async with apiserver.watch(CMS, {"resourceVersion": first["metadata"]["resourceVersion"]}) as w:
        kind, obj = await w.next()  # type: ignore[misc]
        assert (kind, obj["metadata"]["name"]) == ("ADDED", "two")


async def test_label_selector_transitions(apiserver: Api) -> None:
    _, obj = await apiserver.post(CMS, json=cm("x", app="a"))
    rv = obj["metadata"]["resourceVersion"]
    async with apiserver.watch(CMS, {"labelSelector": "app=b", "resourceVersion": rv}) as w:
        await apiserver.patch(f"{CMS}/x", data=b'{"metadata":{"labels":{"app":"b"}}}',
                              headers={"Content-Type": "application/merge-patch+json"})
        assert (await w.next())[0] == "ADDED"  # type: ignore[index]
        await apiserver.patch(f"{CMS}/x", data=b'{"data":{"k":"w"}}',
                              headers={"Content-Type": "application/merge-patch+json"})
        assert (await w.next())[0] == "MODIFIED"  # type: ignore[index]
        await apiserver.patch(f"{CMS}/x", data=b'{"metadata":{"labels":{"app":"c"}}}',
                              headers={"Content-Type": "application/merge-patch+json"})
        assert (await w.next())[0] == "DELETED"  # type: ignore[index]


async def test_field_selector_on_node_name(apiserver: Api) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "x"}]}}
    async with apiserver.watch(PODS, {"fieldSelector": "spec.nodeName=pi-1"}) as w:
        await apiserver.post(PODS, json=pod)
        await apiserver.post(f"{PODS}/p/binding", json={"apiVersion": "v1", "kind": "Binding",
                                                        "metadata": {"name": "p"},
                                                        "target": {"kind": "Node", "name": "pi-1"}})
        kind, obj = await w.next()  # type: ignore[misc]
        assert kind == "ADDED" and obj["spec"]["nodeName"] == "pi-1"


async def test_timeout_ends_the_stream(apiserver: Api) -> None:
    async with apiserver.watch(CMS, {"timeoutSeconds": "1", "resourceVersion": "1"}) as w:
        while (ev := await w.next()) is not None:
            assert ev[0] in ("ADDED", "MODIFIED", "DELETED")


async def test_bookmarks(apiserver: Api) -> None:
    _, lst = await apiserver.get(CMS)
    async with apiserver.watch(CMS, {"allowWatchBookmarks": "true",
                                     "resourceVersion": lst["metadata"]["resourceVersion"]}) as w:
        kind, obj = await w.next()  # type: ignore[misc]
        assert kind == "BOOKMARK" and int(obj["metadata"]["resourceVersion"]) >= int(lst["metadata"]["resourceVersion"])


async def test_too_old_resource_version_is_410(tmp_path: Path) -> None:
    async with running_apiserver(tmp_path, watch_cache_events=4) as api:
        _, first = await api.post(CMS, json=cm("c0"))
        for i in range(1, 8):
            await api.post(CMS, json=cm(f"c{i}"))
        async with api.watch(CMS, {"resourceVersion": first["metadata"]["resourceVersion"]}) as w:
            kind, status = await w.next()  # type: ignore[misc]
            assert kind == "ERROR" and status["code"] == 410 and status["reason"] == "Expired"


async def test_many_watchers_share_one_store_watch(apiserver: Api) -> None:
    import contextlib

    async with contextlib.AsyncExitStack() as stack:
        readers = [await stack.enter_async_context(apiserver.watch(PODS, {"fieldSelector": f"spec.nodeName=n{i}"}))
                   for i in range(20)]
        cache = apiserver.server.caches["pods"]
        assert len(cache.watchers) == 20
        assert readers


async def test_disconnected_watchers_are_dropped(apiserver: Api) -> None:
    import asyncio

    import aiohttp

    from tests.fixtures.apiserver import admin_ssl

    cache = apiserver.server.caches["configmaps"]
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=admin_ssl(apiserver.data_dir)))
    resp = await session.get(apiserver.base + CMS, params={"watch": "1"})
    assert resp.status == 200
    for _ in range(100):
        if cache.watchers:
            break
        await asyncio.sleep(0.05)
    assert len(cache.watchers) == 1
    resp.close()
    await session.close()
    for _ in range(200):
        if not cache.watchers:
            break
        await asyncio.sleep(0.05)
    assert not cache.watchers


async def test_garbage_written_behind_our_back_is_ignored(apiserver: Api) -> None:
    client = apiserver.server.client
    async with apiserver.watch(CMS, {"resourceVersion": "1"}) as w:
        await client.put(b"/registry/configmaps/default/garbage", b"\x00not json")
        await apiserver.post(CMS, json=cm("fine"))
        while True:
            kind, obj = await w.next()  # type: ignore[misc]
            if obj["metadata"]["name"] == "fine":
                assert kind == "ADDED"
                break
    code, lst = await apiserver.get(CMS, params={"resourceVersion": "0"})
    assert code == 200 and "garbage" not in [c["metadata"]["name"] for c in lst["items"]]


async def test_watch_from_a_future_resource_version_waits_for_it(apiserver: Api) -> None:
    # kube-apiserver's cacher keeps such a watch open (only sendInitialEvents waits for the cache
    # and fails) and sends what comes after the resourceVersion once it happens.
    _, lst = await apiserver.get(CMS)
    future = int(lst["metadata"]["resourceVersion"]) + 1
    async with apiserver.watch(CMS, {"resourceVersion": str(future)}) as w:
        _, a = await apiserver.post(CMS, json=cm("a"))
        await apiserver.post(CMS, json=cm("b"))
        kind, obj = await w.next()  # type: ignore[misc]
    assert kind == "ADDED" and int(obj["metadata"]["resourceVersion"]) > future
    assert obj["metadata"]["name"] == ("a" if int(a["metadata"]["resourceVersion"]) > future else "b")


async def test_list_at_a_resource_version_the_cache_never_reaches_is_504(tmp_path: Path) -> None:
    async with running_apiserver(tmp_path, fresh_cache_wait=0.1) as api:
        _, lst = await api.get(CMS)
        current = int(lst["metadata"]["resourceVersion"])
        code, status = await api.get(CMS, params={"resourceVersion": str(current + 1000)})
    assert (code, status["code"], status["reason"]) == (504, 504, "Timeout")
    assert status["message"] == f"Timeout: Too large resource version: {current + 1000}, current: {current}"
    assert status["details"] == {"causes": [{"reason": "ResourceVersionTooLarge",
                                             "message": "Too large resource version"}], "retryAfterSeconds": 1}


async def test_boolean_parameters_decode_as_kube_apiserver(apiserver: Api) -> None:
    # Any value but "0" and "false" is true there (never a 400): ?watch=maybe is a watch and
    # ?allowWatchBookmarks=x asks for bookmarks.
    _, lst = await apiserver.get(CMS)
    async with apiserver.watch(CMS, {"watch": "maybe", "allowWatchBookmarks": "x",
                                     "resourceVersion": lst["metadata"]["resourceVersion"]}) as w:
        kind, _ = await w.next()  # type: ignore[misc]
        assert kind == "BOOKMARK"
    code, listed = await apiserver.get(CMS, params={"watch": "FALSE"})
    assert code == 200 and listed["kind"] == "ConfigMapList"


async def test_get_at_a_resource_version_is_not_older_than_it(tmp_path: Path) -> None:
    # kube-apiserver's cacher: the current object once the cache has seen N (not the object as
    # it was at N), and the same 504 as a list when the cache never reaches N.
    async with running_apiserver(tmp_path, fresh_cache_wait=0.1) as api:
        _, first = await api.post(CMS, json=cm("c"))
        await api.patch(f"{CMS}/c", json={"data": {"k": "2"}}, headers={"Content-Type": "application/merge-patch+json"})
        code, got = await api.get(f"{CMS}/c", params={"resourceVersion": first["metadata"]["resourceVersion"]})
        assert (code, got["data"]) == (200, {"k": "2"})
        future = int(got["metadata"]["resourceVersion"]) + 1000
        code, status = await api.get(f"{CMS}/c", params={"resourceVersion": str(future)})
    assert (code, status["reason"], status["details"]["causes"][0]["reason"]) == (
        504, "Timeout", "ResourceVersionTooLarge")
