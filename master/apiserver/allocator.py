"""Service ClusterIP and NodePort allocation, atomic with the Service write.

Each allocated address or port is a key of its own, written in the same transaction as the
Service, guarded by ``create_revision == 0``::

    /registry/ranges/serviceips/10.96.0.1        -> "default/kubernetes"
    /registry/ranges/servicenodeports/30080      -> "default/web"

So two concurrent creates can never both take 10.96.0.7 (one txn fails its compare and retries
with another pick), a delete releases in the same transaction that removes the Service, and a
restart needs no repair: the keys are the allocation state. The first address of the range is
kept for the ``kubernetes`` Service in ``default``.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field

from master.apiserver.settings import ApiServerSettings
from master.apiserver.storage import store_call
from master.store.client import Client
from master.store.types import Compare, CompareResult, CompareTarget, OpDelete, OpPut, RequestOp, prefix_end

__all__ = ["AllocationError", "Allocators", "Plan"]

IP_PREFIX = b"/registry/ranges/serviceips/"
PORT_PREFIX = b"/registry/ranges/servicenodeports/"
_PICK_TRIES = 64


class AllocationError(Exception):
    """An explicit request that cannot be honoured, or a full range (``field`` says where)."""

    def __init__(self, field: str, value: object, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


@dataclass
class Plan:
    """Compares and ops to join a write's transaction."""

    compare: list[Compare] = field(default_factory=list)
    ops: list[RequestOp] = field(default_factory=list)
    # True when every pick was automatic, so a failed compare is worth a retry with new picks.
    retryable: bool = True

    def extend(self, other: Plan) -> None:
        self.compare += other.compare
        self.ops += other.ops
        self.retryable = self.retryable and other.retryable


class Allocators:
    def __init__(self, settings: ApiServerSettings, client: Client) -> None:
        self.client = client
        self.cidr = settings.service_cidr
        self.ports = settings.node_port_range
        self.first_ip = str(self.cidr.network_address + 1)

    # -- ClusterIPs --------------------------------------------------------------------------

    def _ip_key(self, ip: str) -> bytes:
        return IP_PREFIX + ip.encode()

    async def _taken(self, key: bytes) -> bool:
        resp = await store_call(self.client.range(key, count_only=True))
        return resp.count > 0

    async def allocate_ip(self, owner: str, requested: str = "", *, reserved_ok: bool = False) -> tuple[str, Plan]:
        if requested:
            try:
                ip = ipaddress.ip_address(requested)
            except ValueError as exc:
                raise AllocationError("spec.clusterIPs[0]", requested, "must be a valid IP address") from exc
            if ip not in self.cidr or ip in (self.cidr.network_address, self.cidr.broadcast_address):
                raise AllocationError(
                    "spec.clusterIPs[0]", requested,
                    f"failed to allocate IP {requested}: the provided IP ({requested}) is not in the valid "
                    f"range. The range of valid IPs is {self.cidr}")
            key = self._ip_key(str(ip))
            if await self._taken(key):
                raise AllocationError("spec.clusterIPs[0]", requested,
                                      f"failed to allocate IP {requested}: provided IP is already allocated")
            return str(ip), self._claim(key, owner, retryable=False)
        if reserved_ok:
            key = self._ip_key(self.first_ip)
            if not await self._taken(key):
                return self.first_ip, self._claim(key, owner, retryable=True)
        size = self.cidr.num_addresses
        base = int(self.cidr.network_address)
        for _ in range(_PICK_TRIES):
            # Offsets 0 (network), 1 (kubernetes Service) and the broadcast address are never picked.
            pick = str(ipaddress.IPv4Address(base + random.randrange(2, size - 1)))
            key = self._ip_key(pick)
            if not await self._taken(key):
                return pick, self._claim(key, owner, retryable=True)
        pick = await self._scan_ip()
        return pick, self._claim(self._ip_key(pick), owner, retryable=True)

    async def _scan_ip(self) -> str:
        resp = await store_call(self.client.range(IP_PREFIX, prefix_end(IP_PREFIX), keys_only=True))
        used = {kv.key[len(IP_PREFIX):].decode() for kv in resp.kvs}
        base = int(self.cidr.network_address)
        for off in range(2, self.cidr.num_addresses - 1):
            ip = str(ipaddress.IPv4Address(base + off))
            if ip not in used:
                return ip
        raise AllocationError("spec.clusterIPs", "", f"range is full: no free addresses in {self.cidr}")

    def release_ip(self, ip: str) -> list[RequestOp]:
        return [OpDelete(self._ip_key(ip))] if ip and ip != "None" else []

    # -- NodePorts ---------------------------------------------------------------------------

    def _port_key(self, port: int) -> bytes:
        return PORT_PREFIX + str(port).encode()

    async def allocate_port(self, owner: str, requested: int = 0, *, field_path: str) -> tuple[int, Plan]:
        lo, hi = self.ports
        if requested:
            if not lo <= requested <= hi:
                raise AllocationError(field_path, requested,
                                      f"provided port is not in the valid range. The range of valid ports is {lo}-{hi}")
            if await self._taken(self._port_key(requested)):
                raise AllocationError(field_path, requested, "provided port is already allocated")
            return requested, self._claim(self._port_key(requested), owner, retryable=False)
        for _ in range(_PICK_TRIES):
            port = random.randint(lo, hi)
            if not await self._taken(self._port_key(port)):
                return port, self._claim(self._port_key(port), owner, retryable=True)
        resp = await store_call(self.client.range(PORT_PREFIX, prefix_end(PORT_PREFIX), keys_only=True))
        used = {int(kv.key[len(PORT_PREFIX):]) for kv in resp.kvs}
        for port in range(lo, hi + 1):
            if port not in used:
                return port, self._claim(self._port_key(port), owner, retryable=True)
        raise AllocationError(field_path, 0, f"range is full: no free node ports in {lo}-{hi}")

    def release_port(self, port: int) -> list[RequestOp]:
        return [OpDelete(self._port_key(port))] if port else []

    @staticmethod
    def _claim(key: bytes, owner: str, *, retryable: bool) -> Plan:
        return Plan([Compare(key, CompareTarget.CREATE, CompareResult.EQUAL, 0)],
                    [OpPut(key, owner.encode())], retryable)
