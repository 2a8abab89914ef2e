"""One probe run: exec (CRI ExecSync), httpGet (from the node to the pod's IP) or tcpSocket.

The answer is a value::

    Outcome(Result.SUCCESS, "")                         exit 0, HTTP 200-399, connect ok
    Outcome(Result.FAILURE, "HTTP probe failed with statuscode: 500")
    Outcome(Result.UNKNOWN, "...")                      the probe could not run (the container
                                                        is gone, the runtime is down): ignored

The agent runs in the node's network namespace, so ``podIP:port`` is reachable from here. An
httpGet follows no redirects (3xx is a success, as for the kubelet when the redirect leaves the
host), sends ``User-Agent: kube-probe/<version>`` and the probe's headers, and skips certificate
checks for HTTPS. gRPC probes are not supported (always UNKNOWN, with a message).
"""

from __future__ import annotations

import asyncio
import enum
import ssl
from dataclasses import dataclass

from agent.kubelet.cri import CRIError, DeadlineExceededError, Runtime
from master.api.core import Container, Probe
from master.api.schema import IntOrString
from master.client import http1

__all__ = ["Outcome", "Prober", "Result", "resolve_port"]

_MAX_OUTPUT = 10 * 1024


class Result(enum.Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    message: str = ""


def resolve_port(port: IntOrString, container: Container) -> int | None:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port if 0 < port < 65536 else None
    if port.isdigit():
        n = int(port)
        return n if 0 < n < 65536 else None
    for p in container.ports:
        if p.name == port:
            return p.container_port
    return None


def _timeout(probe: Probe) -> float:
    return float(probe.timeout_seconds or 1)


class Prober:
    def __init__(self, runtime: Runtime, *, user_agent: str = "kube-probe/1.32") -> None:
        self._rt = runtime
        self._user_agent = user_agent
        self._ssl: ssl.SSLContext | None = None

    async def close(self) -> None:
        """Nothing to release: every HTTP probe has a connection of its own."""

    async def probe(self, probe: Probe, container: Container, container_id: str, pod_ip: str) -> Outcome:
        if probe.exec is not None:
            return await self._exec(probe, container_id)
        if probe.http_get is not None:
            return await self._http(probe, container, pod_ip)
        if probe.tcp_socket is not None:
            return await self._tcp(probe, container, pod_ip)
        if probe.grpc is not None:
            return Outcome(Result.UNKNOWN, "gRPC probes are not supported by this agent")
        return Outcome(Result.UNKNOWN, "probe has no handler")

    async def _exec(self, probe: Probe, container_id: str) -> Outcome:
        assert probe.exec is not None
        cmd = probe.exec.command
        if not cmd:
            return Outcome(Result.FAILURE, "exec probe has no command")
        try:
            r = await self._rt.exec_sync(container_id, cmd, _timeout(probe))
        except DeadlineExceededError:
            return Outcome(Result.FAILURE, f"command {cmd!r} timed out")
        except CRIError as exc:
            return Outcome(Result.UNKNOWN, f"exec probe could not run: {exc}")
        output = (r.stdout + r.stderr)[:_MAX_OUTPUT].decode("utf-8", "replace").strip()
        if r.exit_code == 0:
            return Outcome(Result.SUCCESS, output)
        return Outcome(Result.FAILURE, output or f"command {cmd!r} exited with {r.exit_code}")

    def _insecure_ssl(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            self._ssl.check_hostname = False
            self._ssl.verify_mode = ssl.CERT_NONE
        return self._ssl

    async def _http(self, probe: Probe, container: Container, pod_ip: str) -> Outcome:
        h = probe.http_get
        assert h is not None
        port = resolve_port(h.port, container)
        if port is None:
            return Outcome(Result.FAILURE, f"unable to find port {h.port!r} in container {container.name}")
        host = h.host or pod_ip
        if not host:
            return Outcome(Result.UNKNOWN, "the pod has no IP yet")
        scheme = (h.scheme or "HTTP").lower()
        path = h.path or "/"
        if not path.startswith("/"):
            path = "/" + path
        hostport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        url = f"{scheme}://{hostport}{path}"
        headers = {"User-Agent": self._user_agent, "Accept": "*/*"}
        for header in h.http_headers:
            headers[header.name] = header.value
        # A Host header of the probe's own names the virtual host, as the kubelet does.
        host_header = next((headers.pop(k) for k in list(headers) if k.lower() == "host"), hostport)
        try:
            head = http1.encode_head("GET", http1.request_target(path), host=host_header,
                                     headers=[*headers.items(), ("Connection", "close")])
        except ValueError as exc:
            return Outcome(Result.FAILURE, f'Get "{url}": {exc}')
        try:
            async with asyncio.timeout(_timeout(probe)):
                conn = await http1.connect(host, port, ssl=self._insecure_ssl() if scheme == "https" else None)
                try:
                    await conn.send(head)
                    resp = await conn.response("GET")
                    body = bytearray()
                    async for data in resp.chunks():
                        body += data
                        if len(body) >= _MAX_OUTPUT:
                            break
                finally:
                    conn.abort()
        except TimeoutError:
            return Outcome(Result.FAILURE, f'Get "{url}": context deadline exceeded')
        except OSError as exc:
            return Outcome(Result.FAILURE, f'Get "{url}": {exc.strerror or exc}')
        if 200 <= resp.status < 400:
            return Outcome(Result.SUCCESS, bytes(body[:_MAX_OUTPUT]).decode("utf-8", "replace").strip())
        return Outcome(Result.FAILURE, f"HTTP probe failed with statuscode: {resp.status}")

    async def _tcp(self, probe: Probe, container: Container, pod_ip: str) -> Outcome:
        t = probe.tcp_socket
        assert t is not None
        port = resolve_port(t.port, container)
        if port is None:
            return Outcome(Result.FAILURE, f"unable to find port {t.port!r} in container {container.name}")
        host = t.host or pod_ip
        if not host:
            return Outcome(Result.UNKNOWN, "the pod has no IP yet")
        try:
            async with asyncio.timeout(_timeout(probe)):
                _reader, writer = await asyncio.open_connection(host, port)
        except TimeoutError:
            return Outcome(Result.FAILURE, f"dial tcp {host}:{port}: i/o timeout")
        except OSError as exc:
            return Outcome(Result.FAILURE, f"dial tcp {host}:{port}: {exc.strerror or exc}")
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
        return Outcome(Result.SUCCESS, "")
