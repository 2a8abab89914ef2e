"""nodes/proxy: GET requests passed through to a node's agent (its HTTPS port, 10250).

::

    GET /api/v1/nodes/pi-1/proxy/metrics/resource   ->  GET https://10.77.0.11:10250/metrics/resource

The node's address and port are found as for ``pods/log`` (``verbs.logs``), and the apiserver
shows its ``apiserver-kubelet-client`` certificate. ``pictl top`` reads the agents' resource
metrics this way (Kubernetes has metrics-server for that; picluster reads the agents
directly). Only GET is proxied; an agent that cannot be reached is 502 BadGateway.
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from master.apiserver import errors
from master.apiserver.verbs.common import Call
from master.apiserver.verbs.logs import _client_ssl, _node_endpoint

__all__ = ["node_proxy"]

# Headers of the agent's answer worth passing on; the rest describe the agent's own connection.
_PASSED_HEADERS = ("Content-Type",)


async def node_proxy(call: Call) -> web.StreamResponse:
    node = await call.storage.get("", call.name)
    host, port = _node_endpoint(node, call.server.settings.kubelet_port)
    path = "/" + "/".join(call.info.rest)
    query = call.request.query_string
    url = f"https://{host}:{port}{path}" + (f"?{query}" if query else "")
    timeout = aiohttp.ClientTimeout(total=call.server.settings.kubelet_timeout)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, \
                session.get(url, ssl=_client_ssl(call)) as upstream:
            resp = web.StreamResponse(
                status=upstream.status,
                headers={h: upstream.headers[h] for h in _PASSED_HEADERS if h in upstream.headers},
            )
            await resp.prepare(call.request)
            async for chunk in upstream.content.iter_any():
                await resp.write(chunk)
            await resp.write_eof()
            return resp
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise errors.ApiError(errors.status(
            502, "BadGateway", f"cannot reach the agent of node {call.name} at {host}:{port}: {exc}")) from exc
