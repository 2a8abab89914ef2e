"""Large lists from the watch cache are streamed in pieces; what the client reads is the same list."""

from __future__ import annotations

import asyncio

from master.apiserver.verbs import read
from tests.fixtures.apiserver import Api

CMS = "/api/v1/namespaces/default/configmaps"
BIG = "x" * 2048


async def _fill(api: Api, n: int) -> None:
    sem = asyncio.Semaphore(8)

    async def one(i: int) -> None:
        async with sem:
            code, _ = await api.post(CMS, json={"apiVersion": "v1", "kind": "ConfigMap",
                                                "metadata": {"name": f"cm-{i:03d}"}, "data": {"big": BIG}})
            assert code == 201

    await asyncio.gather(*(one(i) for i in range(n)))


async def test_big_lists_are_whole_and_in_order(apiserver: Api) -> None:
    n = read.STREAM_LIST_BYTES // len(BIG) + 20
    await _fill(apiserver, n)
    for params in ({"resourceVersion": "0"}, {}):
        resp = await apiserver.session.get(apiserver.base + CMS, params=params)
        raw = await resp.read()
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("application/json")
        assert int(resp.headers["Content-Length"]) == len(raw) >= read.STREAM_LIST_BYTES
        lst = await resp.json()
        names = [c["metadata"]["name"] for c in lst["items"]]
        assert names == sorted(names) and len(names) == n
        assert lst["kind"] == "ConfigMapList" and int(lst["metadata"]["resourceVersion"]) > 0


async def test_pages_of_a_big_list(apiserver: Api) -> None:
    n = read.STREAM_LIST_BYTES // len(BIG) + 20
    await _fill(apiserver, n)
    code, first = await apiserver.get(CMS, params={"limit": str(n - 5)})
    assert code == 200 and len(first["items"]) == n - 5
    assert first["metadata"]["remainingItemCount"] == 5
    code, rest = await apiserver.get(CMS, params={"limit": str(n), "continue": first["metadata"]["continue"]})
    assert code == 200 and [c["metadata"]["name"] for c in rest["items"]] == [f"cm-{i:03d}" for i in range(n - 5, n)]


async def test_small_lists_are_one_body(apiserver: Api) -> None:
    await _fill(apiserver, 3)
    resp = await apiserver.session.get(apiserver.base + CMS, params={"resourceVersion": "0"})
    assert resp.status == 200 and int(resp.headers["Content-Length"]) == len(await resp.read())
