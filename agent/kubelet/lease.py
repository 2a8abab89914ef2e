"""The node's heartbeat: a Lease named after the node in ``kube-node-lease``.

Renewed every ``node_lease_renew_interval`` (10 s) with ``leaseDurationSeconds`` 40: the
controller-manager's node lifecycle controller marks a node unreachable when its Lease is not
renewed within the grace period. The Lease is owned by the Node (ownerReference), so deleting
the Node deletes it. Each renewal updates the last Lease we wrote (its resourceVersion); a 409
reads it again, a 404 creates it. A failed renewal is retried sooner (0.2 s doubling up to the
interval), as the kubelet does, so a short apiserver hiccup does not lose the node.
"""

from __future__ import annotations

import logging

import msgspec

from agent.kubelet.metrics import KubeletMetrics
from master.api import timefmt
from master.api.coordination import Lease, LeaseSpec
from master.api.core import Node
from master.api.meta import ObjectMeta, OwnerReference
from master.client import errors
from master.client.rest import ApiClient
from master.util.clock import Clock

__all__ = ["NODE_LEASE_NAMESPACE", "LeaseController"]

log = logging.getLogger("picluster.agent.kubelet")

NODE_LEASE_NAMESPACE = "kube-node-lease"


class LeaseController:
    def __init__(
        self,
        api: ApiClient,
        *,
        node_name: str,
        duration_seconds: int,
        renew_interval: float,
        clock: Clock,
        node_uid: str = "",
        metrics: KubeletMetrics | None = None,
    ) -> None:
        self._api = api
        self.node_name = node_name
        self.duration = duration_seconds
        self.renew_interval = renew_interval
        self._clock = clock
        self.node_uid = node_uid
        self._metrics = metrics
        self.lease: Lease | None = None
        self.renewals = 0

    def _spec(self, old: LeaseSpec | None) -> LeaseSpec:
        now = timefmt.format_micro_time(self._clock.time())
        held = old is not None and old.holder_identity == self.node_name
        return LeaseSpec(
            holder_identity=self.node_name,
            lease_duration_seconds=self.duration,
            acquire_time=old.acquire_time if held and old is not None and old.acquire_time else now,
            renew_time=now,
            lease_transitions=(old.lease_transitions if old is not None else None),
        )

    def _owners(self) -> list[OwnerReference]:
        if not self.node_uid:
            return []
        return [OwnerReference(api_version="v1", kind="Node", name=self.node_name, uid=self.node_uid)]

    async def renew(self) -> Lease:
        """Renew (or create) the Lease once; raises ``errors.ClientError`` when it cannot."""
        for _ in range(3):
            lease = self.lease
            if lease is None:
                try:
                    lease = await self._api.get(Lease, self.node_name, namespace=NODE_LEASE_NAMESPACE)
                except errors.NotFound:
                    fresh = Lease(
                        metadata=ObjectMeta(name=self.node_name, namespace=NODE_LEASE_NAMESPACE,
                                            owner_references=self._owners()),
                        spec=self._spec(None),
                    )
                    try:
                        self.lease = await self._api.create(fresh)
                    except errors.AlreadyExists:
                        continue
                    self.renewals += 1
                    return self.lease
            meta = lease.metadata
            if self.node_uid and not meta.owner_references:
                meta = msgspec.structs.replace(meta, owner_references=self._owners())
            try:
                self.lease = await self._api.update(msgspec.structs.replace(lease, metadata=meta, spec=self._spec(lease.spec)))
            except (errors.Conflict, errors.NotFound):
                self.lease = None
                continue
            self.renewals += 1
            return self.lease
        raise errors.Conflict(f"lease {NODE_LEASE_NAMESPACE}/{self.node_name}: repeated conflicts", code=409)

    def observe_node(self, node: Node) -> None:
        self.node_uid = node.metadata.uid

    async def run(self) -> None:
        retry = 0.2
        while True:
            try:
                await self.renew()
                retry = 0.2
                wait = self.renew_interval
                if self._metrics is not None:
                    self._metrics.lease_renewals.labels("ok").inc()
            except errors.ClientError as exc:
                if self._metrics is not None:
                    self._metrics.lease_renewals.labels("error").inc()
                log.warning("renewing lease %s/%s failed (retrying in %.1fs): %s",
                            NODE_LEASE_NAMESPACE, self.node_name, retry, exc)
                wait = retry
                retry = min(retry * 2, self.renew_interval)
            await self._clock.sleep(wait)
