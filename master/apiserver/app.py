"""The apiserver as a start/stop component: PKI, security, watch caches, bootstrap objects, HTTPS.

``pictl master`` (the composition root) makes the store client and hands it here; tests do the
same with an in-process store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from master.apiserver import admission, security
from master.apiserver.authz_policy import ensure_policy
from master.apiserver.bootstrap import bootstrap
from master.apiserver.certs import (
    ClusterPKI,
    ensure_component_kubeconfigs,
    ensure_pki,
    first_service_ip,
    kubeconfig_server,
    local_addresses,
)
from master.apiserver.encryption import load_config
from master.apiserver.registry import ServedRegistry
from master.apiserver.server import ApiServer
from master.apiserver.settings import ApiServerSettings
from master.store.client import Client

__all__ = ["ApiServerComponent"]

log = logging.getLogger(__name__)


def _advertise(settings: ApiServerSettings) -> str:
    if settings.advertise_address:
        return settings.advertise_address
    if settings.bind_address not in ("", "0.0.0.0", "::"):
        return settings.bind_address
    addrs = [a for a in local_addresses() if not a.startswith("127.")]
    return addrs[0] if addrs else "127.0.0.1"


class ApiServerComponent:
    name = "apiserver"

    def __init__(self, settings: ApiServerSettings, client: Client,
                 step: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.client = client
        self.step = step or (lambda msg: log.info("%s", msg))
        self.server: ApiServer | None = None
        self.pki: ClusterPKI | None = None
        # component ("controller-manager", "scheduler") -> its kubeconfig (its own identity)
        self.component_kubeconfigs: dict[str, Path] = {}

    async def start(self) -> None:
        s = self.settings
        advertise = _advertise(s)
        self.pki = ensure_pki(
            s.data_dir, service_ip=first_service_ip(s.service_cidr),
            server_url=kubeconfig_server(s.bind_address, s.secure_port),
            extra_sans=(*s.extra_sans, advertise),
        )
        self.step(f"apiserver: certificates ready in {self.pki.dir}")
        registry = ServedRegistry.builtin()
        transformers = {}
        if s.encryption_provider_config is not None:
            encryption = load_config(s.encryption_provider_config)
            transformers = encryption.transformers((r.plural, r.group) for r in registry.storage_resources())
            self.step(f"apiserver: encrypting at rest: {', '.join(sorted(transformers)) or '(nothing matched)'}")
        self.server = ApiServer(s, self.client, pki=self.pki, registry=registry, transformers=transformers,
                                admission=admission.select_plugins(s.enable_admission_plugins,
                                                                   s.disable_admission_plugins))
        security.install(self.server, s)
        self.step(f"apiserver: authorization mode {','.join(s.authorization_modes)}; admission "
                  f"{','.join(p.name for p in self.server.admission)}"
                  + (f"; audit log {s.audit.path}" if s.audit.path else ""))
        await self.server.start_storage()
        self.step(f"apiserver: watch caches primed for {len(self.server.caches)} resources")
        await bootstrap(self.server, advertise_address=advertise, port=s.secure_port)
        self.step("apiserver: system namespaces and the kubernetes Service are in place")
        await ensure_policy(self.server)
        self.step("apiserver: default RBAC roles and bindings are in place")
        port = await self.server.serve()
        if s.secure_port == 0:
            # Rewrite the kubeconfig with the port the OS chose.
            self.pki = ensure_pki(
                s.data_dir, service_ip=first_service_ip(s.service_cidr),
                server_url=kubeconfig_server(s.bind_address, port), extra_sans=(*s.extra_sans, advertise),
            )
        self.component_kubeconfigs = ensure_component_kubeconfigs(
            s.data_dir, server_url=kubeconfig_server(s.bind_address, port))
        host = f"[{advertise}]" if ":" in advertise else advertise
        await security.ensure_cluster_info(self.server, server_url=f"https://{host}:{port}")
        self.step(f"apiserver: serving HTTPS on {s.bind_address}:{port}")
        self.step(f"apiserver: admin kubeconfig at {self.pki.kubeconfig}")

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None
