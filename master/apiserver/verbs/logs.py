"""pods/log: stream a container's log from the node agent.

The agent serves (on its HTTPS port, 10250 by default)::

    GET https://NODE_IP:PORT/containerLogs/{namespace}/{pod}/{container}
        ?follow=true|false&tailLines=N&previous=true|false&timestamps=true|false

The node address is the Node's InternalIP (else its first address) and the port its
status.daemonEndpoints.kubeletEndpoint.Port (else the configured default). The apiserver shows
its ``apiserver-kubelet-client`` certificate and checks the agent's against the cluster CA and
the Node's address (an IP SAN).
"""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp
from aiohttp import web

from master.apiserver import errors
from master.apiserver.verbs.common import Call, bool_param, int_param

__all__ = ["pod_log"]


def _node_endpoint(node: dict[str, Any], default_port: int) -> tuple[str, int]:
    status = node.get("status") or {}
    addresses = status.get("addresses") or []
    ip = next((a.get("address") for a in addresses if a.get("type") == "InternalIP"), None)
    if ip is None and addresses:
        ip = addresses[0].get("address")
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port") or default_port
    if not ip:
        raise errors.bad_request(f"node {node['metadata']['name']} has no address to reach its agent at")
    return str(ip), int(port)


def _client_ssl(call: Call) -> ssl.SSLContext:
    pki = call.server.pki
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert) if pki else None)
    # Agents are addressed by their Node's IP: their serving certificate (from the cluster CA,
    # through a kubelet-serving CSR or the testbed) must name that IP, so another node's
    # certificate is refused.
    ctx.check_hostname = True
    if pki is not None:
        ctx.load_cert_chain(pki.kubelet_client_cert, pki.kubelet_client_key)
    return ctx


async def pod_log(call: Call) -> web.StreamResponse:
    pod = await call.storage.get(call.namespace, call.name)
    spec = pod.get("spec") or {}
    containers = [c.get("name") for c in spec.get("containers") or []]
    init = [c.get("name") for c in spec.get("initContainers") or []]
    container = call.request.query.get("container", "")
    if not container:
        if len(containers) != 1:
            raise errors.bad_request(
                f"a container name must be specified for pod {call.name}, choose one of: {containers}"
                + (f" or one of the init containers: {init}" if init else ""))
        container = str(containers[0])
    elif container not in containers and container not in init:
        raise errors.bad_request(f"container {container} is not valid for pod {call.name}")
    node_name = spec.get("nodeName")
    if not node_name:
        raise errors.bad_request(f"pod {call.name} is not scheduled to a node yet; it has no logs")
    node = await call.server.storages["nodes"].get("", node_name)
    host, port = _node_endpoint(node, call.server.settings.kubelet_port)

    follow = bool_param(call.request, "follow")
    params = {"follow": str(follow).lower(),
              "previous": str(bool_param(call.request, "previous")).lower(),
              "timestamps": str(bool_param(call.request, "timestamps")).lower()}
    tail = int_param(call.request, "tailLines", minimum=0)
    if tail is not None:
        params["tailLines"] = str(tail)
    limit = int_param(call.request, "limitBytes", minimum=1)
    url = f"https://{host}:{port}/containerLogs/{call.namespace}/{call.name}/{container}"
    timeout = aiohttp.ClientTimeout(total=None if follow else call.server.settings.kubelet_timeout,
                                    connect=call.server.settings.kubelet_timeout)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, \
                session.get(url, params=params, ssl=_client_ssl(call)) as upstream:
            if upstream.status != 200:
                text = (await upstream.text())[:500]
                raise errors.ApiError(errors.status(
                    upstream.status if upstream.status in (400, 404) else 502,
                    "BadRequest" if upstream.status == 400 else "NotFound" if upstream.status == 404 else "BadGateway",
                    f"the agent on {node_name} answered {upstream.status}: {text.strip()}"))
            resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
            resp.enable_chunked_encoding()
            await resp.prepare(call.request)
            sent = 0
            async for chunk in upstream.content.iter_any():
                if limit is not None:
                    chunk = chunk[: max(limit - sent, 0)]
                if chunk:
                    await resp.write(chunk)
                    sent += len(chunk)
                if limit is not None and sent >= limit:
                    break
            await resp.write_eof()
            return resp
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise errors.ApiError(errors.status(
            502, "BadGateway", f"cannot reach the agent of node {node_name} at {host}:{port}: {exc}")) from exc
