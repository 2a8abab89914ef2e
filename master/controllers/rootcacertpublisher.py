"""root-ca-cert-publisher: the ConfigMap ``kube-root-ca.crt`` (key ``ca.crt``) in every namespace.

Pods that mount their ServiceAccount token (the projected ``kube-api-access-*`` volume the
ServiceAccount admission plugin adds) read the cluster CA from it, to verify the apiserver. The
CA is the one this controller-manager trusts the apiserver with (its kubeconfig's). ``sync(ns)``
creates the ConfigMap in an active namespace, and puts its content back when it was changed or
deleted.
"""

from __future__ import annotations

import logging

import msgspec

from master.api import core, meta
from master.client import errors
from master.controllers.context import ControllerContext

__all__ = ["CONFIG_MAP", "RootCACertPublisher", "new"]

log = logging.getLogger(__name__)

NAME = "root-ca-cert-publisher"
CONFIG_MAP = "kube-root-ca.crt"
DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
               "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
               "guaranteed across distributions of Kubernetes clusters.")


def new(ctx: ControllerContext) -> RootCACertPublisher:
    return RootCACertPublisher(ctx)


class RootCACertPublisher:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        self.api = ctx.api
        ca = ctx.api.config.ca_data
        self.ca = ca.decode() if ca else ""
        self.namespaces = ctx.informers.informer(core.Namespace)
        self.config_maps = ctx.informers.informer(core.ConfigMap, field_selector=f"metadata.name={CONFIG_MAP}")
        self.loop = ctx.loop(NAME, self.sync)
        self.namespaces.add_event_handler(on_add=self.loop.enqueue, on_update=lambda _o, n: self.loop.enqueue(n))
        self.config_maps.add_event_handler(
            on_update=lambda _o, n: self.loop.enqueue_key(n.metadata.namespace),
            on_delete=lambda cm: self.loop.enqueue_key(cm.metadata.namespace))

    async def run(self) -> None:
        if not self.ca:
            log.info("%s: the controller-manager's kubeconfig names no CA: nothing to publish", NAME)
        await self.loop.run()

    async def sync(self, namespace: str) -> None:
        if not self.ca:
            return
        ns = self.namespaces.cache.get(namespace)
        if ns is None or ns.metadata.deletion_timestamp or ns.status.phase == "Terminating":
            return
        want = {"ca.crt": self.ca}
        current = self.config_maps.cache.get(f"{namespace}/{CONFIG_MAP}")
        try:
            if current is None:
                await self.api.create(core.ConfigMap(
                    metadata=meta.ObjectMeta(name=CONFIG_MAP, namespace=namespace,
                                             annotations={"kubernetes.io/description": DESCRIPTION}),
                    data=want))
            elif current.data != want or current.binary_data:
                await self.api.update(msgspec.structs.replace(current, data=want, binary_data={}))
        except (errors.AlreadyExists, errors.Conflict, errors.NotFound):
            self.loop.enqueue_after(namespace, 1.0)
        except errors.Forbidden as exc:
            if "being terminated" not in str(exc):
                raise
