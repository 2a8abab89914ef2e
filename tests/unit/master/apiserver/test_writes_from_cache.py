"""Bindings, patches and updates start from the watch cache's copy; a stale copy never decides the outcome."""

from __future__ import annotations

from typing import Any

from tests.fixtures.apiserver import Api

PODS = "/api/v1/namespaces/default/pods"


def _pod(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "x"}]}}


def _binding(name: str, node: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name}, "target": {"kind": "Node", "name": node}}


def _freeze(api: Api, name: str) -> Any:
    """The cache, the pod's key and its cached copy now (put back later, the cache looks behind)."""
    cache = api.server.caches["pods"]
    key = api.server.storages["pods"].key("default", name)
    cached = cache.get(key)
    assert cached is not None
    return cache, key, cached


async def _cache_has(api: Api, rv: str) -> None:
    assert await api.server.caches["pods"].wait_for(int(rv), 10.0)


async def test_a_stale_copy_of_an_unbound_pod_still_refuses_a_bound_one(apiserver: Api) -> None:
    code, created = await apiserver.post(PODS, json=_pod("p"))
    assert code == 201
    await _cache_has(apiserver, created["metadata"]["resourceVersion"])
    cache, key, stale = _freeze(apiserver, "p")
    code, _ = await apiserver.post(f"{PODS}/p/binding", json=_binding("p", "n1"))
    assert code == 201
    code, bound = await apiserver.get(f"{PODS}/p")
    await _cache_has(apiserver, bound["metadata"]["resourceVersion"])
    cache.objects[key] = stale  # the cache has not seen the binding yet
    code, status = await apiserver.post(f"{PODS}/p/binding", json=_binding("p", "n2"))
    assert code == 409 and 'already assigned to node "n1"' in status["message"]
    code, pod = await apiserver.get(f"{PODS}/p")
    assert pod["spec"]["nodeName"] == "n1"


async def test_a_stale_copy_of_a_changed_pod_binds_the_current_one(apiserver: Api) -> None:
    code, created = await apiserver.post(PODS, json=_pod("q"))
    await _cache_has(apiserver, created["metadata"]["resourceVersion"])
    cache, key, stale = _freeze(apiserver, "q")
    code, _ = await apiserver.patch(f"{PODS}/q", data=b'{"metadata":{"labels":{"new":"label"}}}',
                                    headers={"Content-Type": "application/merge-patch+json"})
    assert code == 200
    _, patched = await apiserver.get(f"{PODS}/q")
    await _cache_has(apiserver, patched["metadata"]["resourceVersion"])
    cache.objects[key] = stale
    code, _ = await apiserver.post(f"{PODS}/q/binding", json=_binding("q", "n1"))
    assert code == 201
    _, pod = await apiserver.get(f"{PODS}/q")
    assert pod["spec"]["nodeName"] == "n1" and pod["metadata"]["labels"] == {"new": "label"}


async def test_a_pod_deleted_behind_the_cache_is_not_found(apiserver: Api) -> None:
    code, created = await apiserver.post(PODS, json=_pod("r"))
    await _cache_has(apiserver, created["metadata"]["resourceVersion"])
    cache, key, stale = _freeze(apiserver, "r")
    await apiserver.server.storages["pods"].delete("default", "r")
    _, lst = await apiserver.get(PODS)
    await _cache_has(apiserver, lst["metadata"]["resourceVersion"])
    cache.objects[key] = stale
    code, status = await apiserver.post(f"{PODS}/r/binding", json=_binding("r", "n1"))
    assert code == 404 and status["reason"] == "NotFound"


CMS = "/api/v1/namespaces/default/configmaps"


async def _stale_configmap(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """A ConfigMap whose cached copy is one write behind: (the stale copy, the current object)."""
    code, first = await api.post(CMS, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                            "data": {"k": "1", "list": "a"}})
    assert code == 201
    cache = api.server.caches["configmaps"]
    key = api.server.storages["configmaps"].key("default", "c")
    assert await cache.wait_for(int(first["metadata"]["resourceVersion"]), 10.0)
    stale = cache.get(key)
    code, now = await api.patch(f"{CMS}/c", data=b'{"data":{"k":"2","extra":"x"}}',
                                headers={"Content-Type": "application/merge-patch+json"})
    assert code == 200
    assert await cache.wait_for(int(now["metadata"]["resourceVersion"]), 10.0)
    cache.objects[key] = stale
    return first, now


async def test_patches_pinned_to_the_current_version_pass_a_stale_cache(apiserver: Api) -> None:
    _, now = await _stale_configmap(apiserver)
    rv = now["metadata"]["resourceVersion"]
    code, got = await apiserver.patch(f"{CMS}/c", json={"metadata": {"resourceVersion": rv}, "data": {"k": "3"}},
                                      headers={"Content-Type": "application/merge-patch+json"})
    assert code == 200 and got["data"] == {"k": "3", "list": "a", "extra": "x"}


async def test_json_patch_tests_see_the_current_object(apiserver: Api) -> None:
    await _stale_configmap(apiserver)
    ops = [{"op": "test", "path": "/data/k", "value": "2"}, {"op": "remove", "path": "/data/extra"}]
    code, got = await apiserver.patch(f"{CMS}/c", json=ops, headers={"Content-Type": "application/json-patch+json"})
    assert code == 200 and got["data"] == {"k": "2", "list": "a"}


async def test_updates_at_the_current_version_pass_a_stale_cache(apiserver: Api) -> None:
    first, now = await _stale_configmap(apiserver)
    code, got = await apiserver.put(f"{CMS}/c", json={**now, "data": {"k": "4"}})
    assert code == 200 and got["data"] == {"k": "4"}
    code, status = await apiserver.put(f"{CMS}/c", json={**first, "data": {"k": "5"}})
    assert code == 409 and status["reason"] == "Conflict"
