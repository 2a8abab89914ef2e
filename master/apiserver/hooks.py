"""Per-resource store hooks: what a write of one resource must also do in the same transaction.

Only Services have any today: ClusterIP and NodePort allocation on create and update, release on
delete (see ``allocator``). A hook returns a ``Plan`` of compares and ops that join the write's
transaction; it never writes on its own.
"""

from __future__ import annotations

import functools
import time
import uuid
from typing import TYPE_CHECKING, Any

from master.apiserver import errors
from master.apiserver.allocator import AllocationError, Plan
from master.apiserver.registry import Served
from master.apiserver.storage import ResourceStorage

if TYPE_CHECKING:
    from master.apiserver.verbs.common import Call

__all__ = ["Hooks", "ensure_default_service_account", "hooks_for"]


class Hooks:
    # True when before_create fills in fields (a create retry must start from a copy).
    changes_objects = False

    async def before_create(self, call: Call, obj: dict[str, Any]) -> Plan:
        return Plan()

    async def after_create(self, call: Call, obj: dict[str, Any]) -> None:
        return None

    def prepare_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        """Adjust ``new`` before validation (fields that depend on others)."""
        return None

    async def before_update(self, call: Call, new: dict[str, Any], old: dict[str, Any]) -> Plan:
        return Plan()

    async def after_update(self, call: Call, new: dict[str, Any], old: dict[str, Any]) -> None:
        return None

    def on_delete(self, call: Call, obj: dict[str, Any]) -> Plan:
        return Plan()

    async def after_delete(self, call: Call, obj: dict[str, Any]) -> None:
        return None


def _invalid(call: Call, obj: dict[str, Any], exc: AllocationError) -> errors.ApiError:
    value = exc.value if not isinstance(exc.value, str) else f'"{exc.value}"'
    name = obj["metadata"].get("name", "")
    return errors.invalid(call.served.kind, name, [("FieldValueInvalid", exc.field, f"Invalid value: {value}: {exc}")])


def _wants_node_ports(spec: dict[str, Any]) -> bool:
    return spec.get("type") in ("NodePort", "LoadBalancer")


class ServiceHooks(Hooks):
    changes_objects = True

    async def before_create(self, call: Call, obj: dict[str, Any]) -> Plan:
        alloc = call.server.allocators
        spec = obj.setdefault("spec", {})
        owner = f"{call.namespace}/{obj['metadata']['name']}"
        plan = Plan()
        try:
            if spec.get("type") != "ExternalName" and spec.get("clusterIP") != "None":
                requested = spec.get("clusterIP") or ""
                if not requested and spec.get("clusterIPs"):
                    requested = spec["clusterIPs"][0]
                kubernetes = call.namespace == "default" and obj["metadata"]["name"] == "kubernetes"
                ip, p = await alloc.allocate_ip(owner, requested, reserved_ok=kubernetes)
                plan.extend(p)
                spec["clusterIP"] = ip
                spec["clusterIPs"] = [ip]
            elif spec.get("clusterIP") == "None":
                spec["clusterIPs"] = ["None"]
            if _wants_node_ports(spec):
                plan.extend(await self._node_ports(call, spec, owner, keep=set()))
        except AllocationError as exc:
            raise _invalid(call, obj, exc) from exc
        return plan

    async def _node_ports(self, call: Call, spec: dict[str, Any], owner: str, keep: set[int]) -> Plan:
        alloc = call.server.allocators
        plan = Plan()
        seen: set[int] = set()
        for i, port in enumerate(spec.get("ports") or []):
            want = int(port.get("nodePort") or 0)
            path = f"spec.ports[{i}].nodePort"
            if want and want in seen:
                raise AllocationError(path, want, "provided port is already allocated")
            if want and want in keep:
                seen.add(want)
                continue
            got, p = await alloc.allocate_port(owner, want, field_path=path)
            plan.extend(p)
            port["nodePort"] = got
            seen.add(got)
        return plan

    def prepare_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        # Leaving NodePort/LoadBalancer drops the node ports the old type had (Kubernetes'
        # dropTypeDependentFields), so the update validates as the new type.
        spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
        if _wants_node_ports(old_spec) and not _wants_node_ports(spec):
            if spec.get("externalTrafficPolicy") == old_spec.get("externalTrafficPolicy"):
                spec.pop("externalTrafficPolicy", None)
            spec.pop("healthCheckNodePort", None)
            for p in spec.get("ports") or []:
                if isinstance(p, dict):
                    p.pop("nodePort", None)

    async def before_update(self, call: Call, new: dict[str, Any], old: dict[str, Any]) -> Plan:
        alloc = call.server.allocators
        spec, old_spec = new.setdefault("spec", {}), old.get("spec") or {}
        owner = f"{call.namespace}/{call.name}"
        old_ip = old_spec.get("clusterIP") or ""
        plan = Plan()
        try:
            if not spec.get("clusterIP") and old_ip:
                spec["clusterIP"] = old_ip
                spec["clusterIPs"] = list(old_spec.get("clusterIPs") or [old_ip])
            elif spec.get("clusterIP") != old_ip:
                raise errors.invalid(call.served.kind, call.name, [(
                    "FieldValueInvalid", "spec.clusterIPs[0]",
                    f'Invalid value: []string{{"{spec.get("clusterIP")}"}}: may not change once set')])
            old_ports = {int(p.get("nodePort") or 0) for p in old_spec.get("ports") or []} - {0}
            if _wants_node_ports(spec):
                plan.extend(await self._node_ports(call, spec, owner, keep=old_ports))
            else:
                for p in spec.get("ports") or []:
                    p.pop("nodePort", None)
            new_ports = {int(p.get("nodePort") or 0) for p in spec.get("ports") or []} - {0}
            for gone in old_ports - new_ports:
                plan.ops += alloc.release_port(gone)
        except AllocationError as exc:
            raise _invalid(call, new, exc) from exc
        return plan

    def on_delete(self, call: Call, obj: dict[str, Any]) -> Plan:
        alloc = call.server.allocators
        spec = obj.get("spec") or {}
        plan = Plan()
        for ip in spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else []):
            plan.ops += alloc.release_ip(ip)
        for p in spec.get("ports") or []:
            plan.ops += alloc.release_port(int(p.get("nodePort") or 0))
        return plan


async def ensure_default_service_account(storages: dict[str, ResourceStorage], namespace: str) -> None:
    """The ``default`` ServiceAccount of a namespace (what the ServiceAccount controller makes in
    Kubernetes; made here so pods are admitted before any controller runs)."""
    sa = {"apiVersion": "v1", "kind": "ServiceAccount",
          "metadata": {"name": "default", "namespace": namespace, "uid": str(uuid.uuid4()),
                       "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}
    try:
        await storages["serviceaccounts"].create(namespace, "default", sa)
    except errors.ApiError as exc:
        if exc.reason != "AlreadyExists":
            raise


class NamespaceHooks(Hooks):
    async def after_create(self, call: Call, obj: dict[str, Any]) -> None:
        await ensure_default_service_account(call.server.storages, obj["metadata"]["name"])


_NONE = Hooks()
_HOOKS: dict[str, Hooks] = {"services": ServiceHooks(), "namespaces": NamespaceHooks()}


def hooks_for(served: Served) -> Hooks:
    return _HOOKS.get(served.plural) or _security_hooks().get(served.plural, _NONE)


@functools.cache
def _security_hooks() -> dict[str, Hooks]:
    # Imported late: these modules build on ``Hooks``.
    from master.apiserver.authz_hooks import RBACHooks
    from master.apiserver.csr import CSRHooks

    rbac = RBACHooks()
    return {"roles": rbac, "clusterroles": rbac, "rolebindings": rbac, "clusterrolebindings": rbac,
            "certificatesigningrequests": CSRHooks()}
