"""pods/log is proxied to the agent's HTTPS endpoint, with the apiserver's client certificate."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from master.util import pki
from tests.fixtures.apiserver import Api
from tests.fixtures.ports import free_port

PODS = "/api/v1/namespaces/default/pods"


@pytest.fixture
async def agent(apiserver: Api) -> AsyncIterator[tuple[int, list[tuple[str, dict[str, str], str]]]]:
    d = apiserver.data_dir / "pki"
    ca = pki.read_cert_key(d / "ca.crt", d / "ca.key")
    serving = pki.serving_cert(ca, "pi-1", ["127.0.0.1"])
    pki.write_cert_key(serving, d / "agent.crt", d / "agent.key")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(d / "ca.crt"))
    ctx.load_cert_chain(d / "agent.crt", d / "agent.key")
    ctx.verify_mode = ssl.CERT_REQUIRED
    seen: list[tuple[str, dict[str, str], str]] = []

    async def logs(request: web.Request) -> web.StreamResponse:
        sslobj = request.transport.get_extra_info("ssl_object") if request.transport else None
        peer = sslobj.getpeercert() if sslobj else {}
        cn = dict(x[0] for x in peer.get("subject", ()))["commonName"]
        seen.append((request.path, dict(request.query), cn))
        if request.match_info["container"] == "missing":
            return web.Response(status=404, text="no such container")
        return web.Response(text="line 1\nline 2\n")

    app = web.Application()
    app.router.add_get("/containerLogs/{ns}/{pod}/{container}", logs)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=ctx).start()
    try:
        yield port, seen
    finally:
        await runner.cleanup()


async def test_log_is_proxied(apiserver: Api, agent: tuple[int, list[tuple[str, dict[str, str], str]]]) -> None:
    port, seen = agent
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "pi-1"},
            "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                       "daemonEndpoints": {"kubeletEndpoint": {"Port": port}}}}
    assert (await apiserver.post("/api/v1/nodes", json=node))[0] == 201
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"nodeName": "pi-1", "containers": [{"name": "c", "image": "x"}]}}
    assert (await apiserver.post(PODS, json=pod))[0] == 201
    code, text = await apiserver.get(f"{PODS}/p/log", params={"tailLines": "2", "timestamps": "true"})
    assert code == 200 and text == "line 1\nline 2\n"
    path, query, cn = seen[0]
    assert path == "/containerLogs/default/p/c"
    assert query["tailLines"] == "2" and query["timestamps"] == "true" and query["follow"] == "false"
    assert cn == "kube-apiserver-kubelet-client"


async def test_log_errors(apiserver: Api) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "x"}]}}
    await apiserver.post(PODS, json=pod)
    code, status = await apiserver.get(f"{PODS}/p/log")
    assert code == 400 and "container name must be specified" in status["message"]
    code, status = await apiserver.get(f"{PODS}/p/log", params={"container": "a"})
    assert code == 400 and "not scheduled" in status["message"]
    code, status = await apiserver.get(f"{PODS}/nope/log")
    assert code == 404
