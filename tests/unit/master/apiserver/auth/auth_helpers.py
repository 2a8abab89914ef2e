"""Identities for the security tests: client certificates from the test cluster's CA, bearer
tokens, and a way to send a request as any of them to an in-process apiserver."""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from master.util import pki


@dataclass(frozen=True)
class Identity:
    """Who sends a request: a client certificate (user, groups), a bearer token, or nothing."""

    name: str
    user: str = ""
    groups: tuple[str, ...] = ()
    token: str = ""
    headers: dict[str, str] = field(default_factory=dict)


ANONYMOUS = Identity("anonymous")


def cert_identity(user: str, *groups: str, name: str = "") -> Identity:
    return Identity(name or user, user=user, groups=tuple(groups))


def token_identity(name: str, token: str) -> Identity:
    return Identity(name, token=token)


class Requester:
    """Sends requests as identities to ``base``, trusting the cluster CA in ``data_dir``."""

    def __init__(self, base: str, data_dir: Path) -> None:
        self.base = base
        self.data_dir = data_dir
        self.ca = pki.read_cert_key(data_dir / "pki" / "ca.crt", data_dir / "pki" / "ca.key")
        self._sessions: dict[tuple[str, tuple[str, ...]], aiohttp.ClientSession] = {}

    def _ssl(self, ident: Identity) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.data_dir / "pki" / "ca.crt"))
        if ident.user:
            pair = pki.client_cert(self.ca, ident.user, groups=list(ident.groups))
            d = self.data_dir / "test-identities"
            safe = ident.user.replace(":", "_")
            pki.write_cert_key(pair, d / f"{safe}.crt", d / f"{safe}.key")
            ctx.load_cert_chain(d / f"{safe}.crt", d / f"{safe}.key")
        return ctx

    def session(self, ident: Identity) -> aiohttp.ClientSession:
        key = (ident.user, ident.groups)
        if key not in self._sessions:
            self._sessions[key] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self._ssl(ident)))
        return self._sessions[key]

    async def request(self, ident: Identity, method: str, path: str, *, body: Any = None,
                      headers: dict[str, str] | None = None) -> tuple[int, Any]:
        hdrs = {**ident.headers, **(headers or {})}
        if ident.token:
            hdrs["Authorization"] = f"Bearer {ident.token}"
        data: bytes | None = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        async with self.session(ident).request(method, self.base + path, data=data, headers=hdrs) as resp:
            text = await resp.text()
            try:
                return resp.status, json.loads(text)
            except ValueError:
                return resp.status, text

    async def close(self) -> None:
        for s in self._sessions.values():
            await s.close()
        self._sessions.clear()


def pod(name: str, node: str, *, secret: str = "", configmap: str = "", sa: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]}
    volumes = []
    if secret:
        volumes.append({"name": "s", "secret": {"secretName": secret}})
    if configmap:
        volumes.append({"name": "c", "configMap": {"name": configmap}})
    if volumes:
        spec["volumes"] = volumes
    if sa:
        spec["serviceAccountName"] = sa
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def node(name: str, ip: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}]}}


def binding(kind: str, name: str, role_kind: str, role: str, subjects: list[tuple[str, str]],
            namespace: str = "") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    subs = []
    for k, n in subjects:
        if k == "ServiceAccount":
            ns, sa = n.split("/")
            subs.append({"kind": k, "name": sa, "namespace": ns})
        else:
            subs.append({"kind": k, "name": n, "apiGroup": "rbac.authorization.k8s.io"})
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role}, "subjects": subs}
