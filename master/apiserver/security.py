"""Issue 8's pieces wired into an ``ApiServer``: the authenticator and authorizer chains, the
ServiceAccount token issuer and the audit log, from ``ApiServerSettings``.

The authenticators and authorizers read the server's watch caches (falling back to the store
for a cached miss, which may be a moment behind a write): bootstrap-token Secrets,
ServiceAccounts and the pods a token is bound to; the RBAC objects (``RBACSource`` rebuilds its
index when one of the four caches moved); the pods bound to a node (Node authorizer).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import msgspec

from master.apiserver import authn, authz, errors
from master.apiserver.audit import Auditor
from master.apiserver.authn_bootstrap import BootstrapTokenAuthenticator
from master.apiserver.authn_serviceaccount import ServiceAccountAuthenticator, TokenIssuer, load_keys
from master.apiserver.authn_tokenfile import StaticTokenAuthenticator
from master.apiserver.authz_node import NodeAuthorizer
from master.apiserver.authz_rbac import RBACAuthorizer, RuleIndex

if TYPE_CHECKING:
    from master.apiserver.server import ApiServer
    from master.apiserver.settings import ApiServerSettings

__all__ = ["ObjectLookup", "RBACSource", "install", "pods_on_node"]

_decoder = msgspec.json.Decoder(dict)
RBAC_PLURALS = ("roles", "clusterroles", "rolebindings", "clusterrolebindings")


class ObjectLookup:
    """``await lookup(plural, namespace, name)`` -> the object (a dict) or None."""

    def __init__(self, server: ApiServer) -> None:
        self.server = server

    async def __call__(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        if not name:
            return None
        storage = self.server.storages.get(plural)
        if storage is None:
            return None
        cached = self.server.caches[plural].get(storage.key(namespace, name))
        if cached is not None:
            return _decoder.decode(cached.raw)
        try:
            return await storage.get(namespace, name)
        except errors.ApiError as exc:
            if exc.code == 404:
                return None
            raise

    async def secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self("secrets", namespace, name)


class RBACSource:
    """The current ``RuleIndex``, rebuilt only when a Role, ClusterRole or binding changed."""

    def __init__(self, server: ApiServer) -> None:
        self.server = server
        self._version: tuple[Any, ...] = ()
        self._index = RuleIndex()

    def _current_version(self) -> tuple[Any, ...]:
        out: list[Any] = []
        for plural in RBAC_PLURALS:
            cache = self.server.caches[plural]
            out.append((id(cache.objects), len(cache.objects), cache.events[-1].rv if cache.events else 0))
        return tuple(out)

    def _objects(self, plural: str) -> Iterator[dict[str, Any]]:
        for cached in list(self.server.caches[plural].objects.values()):
            yield _decoder.decode(cached.raw)

    def __call__(self) -> RuleIndex:
        version = self._current_version()
        if version != self._version:
            self._index = RuleIndex.build(
                roles=self._objects("roles"), cluster_roles=self._objects("clusterroles"),
                role_bindings=self._objects("rolebindings"),
                cluster_role_bindings=self._objects("clusterrolebindings"),
            )
            self._version = version
        return self._index


def pods_on_node(server: ApiServer, node: str) -> Iterator[dict[str, Any]]:
    for cached in list(server.caches["pods"].objects.values()):
        if cached.fields.get("spec.nodeName") == node:
            yield _decoder.decode(cached.raw)


def install(server: ApiServer, settings: ApiServerSettings) -> None:
    """Fill in ``server``'s authenticators, authorizers, token issuer and auditor. ValueError for
    unusable settings (token file, keys, modes, audit policy)."""
    lookup = ObjectLookup(server)
    assert server.pki is not None, "security needs the cluster PKI"
    keys = load_keys(server.pki.dir, signing_key_file=settings.service_account_signing_key_file,
                     key_files=settings.service_account_key_files)
    tokens: list[authn.TokenAuthenticator] = []
    if settings.token_auth_file is not None:
        tokens.append(StaticTokenAuthenticator.from_file(settings.token_auth_file))
    tokens.append(BootstrapTokenAuthenticator(lookup.secret, clock=settings.clock))
    tokens.append(ServiceAccountAuthenticator(keys, lookup, issuer=settings.service_account_issuer,
                                              clock=settings.clock))
    server.bearer = authn.BearerAuthenticator(tokens)
    server.authenticators = [authn.X509Authenticator(), server.bearer]
    server.token_issuer = TokenIssuer(keys, issuer=settings.service_account_issuer, clock=settings.clock)
    modes = authz.parse_modes(settings.authorization_modes)
    server.authorizers = authz.build_chain(modes, {
        "Node": lambda: NodeAuthorizer(lambda node: pods_on_node(server, node)),
        "RBAC": lambda: RBACAuthorizer(RBACSource(server)),
    })
    encrypted = [p for p, t in server.transformers.items() if t is not None]
    server.auditor = Auditor.from_settings(settings.audit, encrypted=encrypted)


CLUSTER_INFO_NAMESPACE = "kube-public"
CLUSTER_INFO_NAME = "cluster-info"


def cluster_info_kubeconfig(server_url: str, ca_pem: bytes) -> str:
    """The ``kubeconfig`` key of kube-public/cluster-info, kubeadm's shape: one nameless cluster."""
    import base64

    import yaml

    doc: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "preferences": {}, "current-context": "",
           "clusters": [{"name": "", "cluster": {"server": server_url,
                                                 "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
           "contexts": None, "users": None}
    return str(yaml.safe_dump(doc, sort_keys=True))


async def ensure_cluster_info(server: ApiServer, *, server_url: str) -> None:
    """Publish the CA and the server URL in kube-public/cluster-info (readable anonymously: a
    joining agent checks the CA against its token's pin before trusting anything else)."""
    import uuid

    from master.apiserver import body
    from master.apiserver.verbs.common import now_rfc3339

    assert server.pki is not None
    content = cluster_info_kubeconfig(server_url, server.pki.ca.cert_pem)
    storage = server.storages["configmaps"]
    obj = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": CLUSTER_INFO_NAME, "namespace": CLUSTER_INFO_NAMESPACE, "uid": str(uuid.uuid4()),
                        "creationTimestamp": now_rfc3339()},
           "data": {"kubeconfig": content}}
    try:
        await storage.create(CLUSTER_INFO_NAMESPACE, CLUSTER_INFO_NAME, obj)
        return
    except errors.ApiError as exc:
        if exc.reason != "AlreadyExists":
            raise

    async def refresh(current: dict[str, Any]) -> dict[str, Any] | None:
        if (current.get("data") or {}).get("kubeconfig") == content:
            return None
        new = body.clone(current)
        # The old signatures (bootstrap signer) are of the old content: drop them.
        new["data"] = {"kubeconfig": content}
        return new

    await storage.guaranteed_update(CLUSTER_INFO_NAMESPACE, CLUSTER_INFO_NAME, refresh)
