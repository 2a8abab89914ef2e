"""RBAC writes: no escalation, and read-your-writes for authorization.

No escalation, as Kubernetes' RBAC does: a user may create or update a Role or ClusterRole only
with rules it holds itself (in that namespace; cluster-wide for a ClusterRole), and a binding
only to a role whose rules it holds (in the binding's namespace), unless it has the
``escalate`` (roles) or ``bind`` (bindings) verb on that role, or is in system:masters. An
aggregated ClusterRole's rules cannot be known in advance: writing one needs ``escalate``.
Updates that change only metadata (the garbage collector's owner references) are not checked.
A refusal is 403.

Read-your-writes: a write (or delete) of any of them answers only once the watch cache the RBAC
authorizer reads has it, so the very next request of the user it concerns is decided with it
(waiting at most a few seconds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from master.apiserver import authz, errors
from master.apiserver.allocator import Plan
from master.apiserver.authn import UserInfo
from master.apiserver.authz_rbac import RBACAuthorizer, Rule, covers
from master.apiserver.hooks import Hooks
from master.apiserver.requestinfo import RequestInfo
from master.apiserver.storage import store_call

if TYPE_CHECKING:
    from master.apiserver.verbs.common import Call

__all__ = ["RBACHooks"]

CACHE_WAIT = 5.0
GROUP = "rbac.authorization.k8s.io"


def _owned(call: Call, namespace: str) -> list[Rule]:
    out: list[Rule] = []
    for a in call.server.authorizers:
        if isinstance(a, RBACAuthorizer):
            out.extend(rule for _, rule in a.source().rules_for(call.user, namespace))
    return out


def _rules(obj: dict[str, Any]) -> list[Rule]:
    return [r for r in (Rule.of(x) for x in obj.get("rules") or []) if r is not None]


def _groups(user: UserInfo) -> str:
    return "[" + " ".join(f'"{g}"' for g in user.groups) + "]"


class RBACHooks(Hooks):
    async def before_create(self, call: Call, obj: dict[str, Any]) -> Plan:
        self._no_escalation(call, obj)
        return Plan()

    async def before_update(self, call: Call, new: dict[str, Any], old: dict[str, Any]) -> Plan:
        # Metadata-only writes (labels, owner references, finalizers: the garbage collector's)
        # grant nothing new.
        if any(new.get(k) != old.get(k) for k in ("rules", "aggregationRule", "subjects", "roleRef")):
            self._no_escalation(call, new)
        return Plan()

    def _no_escalation(self, call: Call, obj: dict[str, Any]) -> None:
        user = call.user
        if authz.SUPERUSER_GROUP in user.groups:
            return
        plural, ns = call.served.plural, call.namespace
        name = str((obj.get("metadata") or {}).get("name", ""))
        if plural in ("roles", "clusterroles"):
            if call.server.allowed(user, RequestInfo(True, "", "escalate", GROUP, "", plural, "", ns, name)):
                return
            if obj.get("aggregationRule"):
                raise self._refused(call, name, "an aggregated ClusterRole needs the escalate verb")
            wanted = _rules(obj)
        else:
            ref = obj.get("roleRef") or {}
            role_kind, role_name = str(ref.get("kind", "")), str(ref.get("name", ""))
            role_plural = "clusterroles" if role_kind == "ClusterRole" else "roles"
            if call.server.allowed(user, RequestInfo(True, "", "bind", GROUP, "", role_plural, "",
                                                     ns if role_plural == "roles" else "", role_name)):
                return
            wanted = self._role_rules(call, role_plural, ns, role_name)
        owned = _owned(call, ns)
        missing = [r for r in wanted if not covers(owned, r)]
        if missing:
            shown = "; ".join(str(r.to_dict()) for r in missing[:3])
            raise self._refused(call, name, f"attempting to grant RBAC permissions not currently held: {shown}")

    @staticmethod
    def _role_rules(call: Call, plural: str, ns: str, name: str) -> list[Rule]:
        for a in call.server.authorizers:
            if isinstance(a, RBACAuthorizer):
                index = a.source()
                if plural == "clusterroles":
                    return index.cluster_roles.get(name, [])
                return index.roles.get((ns, name), [])
        return []

    @staticmethod
    def _refused(call: Call, name: str, why: str) -> errors.ApiError:
        user = call.user
        return errors.forbidden(f'{call.served.plural}.{GROUP} "{name}" is forbidden: user "{user.name}" '
                                f"(groups={_groups(user)}) is {why}" if why.startswith("attempting") else
                                f'{call.served.plural}.{GROUP} "{name}" is forbidden: {why}')

    async def _seen(self, call: Call, obj: dict[str, Any]) -> None:
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if rv:
            await call.cache.wait_for(int(rv), CACHE_WAIT)

    async def after_create(self, call: Call, obj: dict[str, Any]) -> None:
        await self._seen(call, obj)

    async def after_update(self, call: Call, new: dict[str, Any], old: dict[str, Any]) -> None:
        await self._seen(call, new)

    async def after_delete(self, call: Call, obj: dict[str, Any]) -> None:
        # The delete's own revision is not returned: the store's current one is at least it.
        resp = await store_call(call.storage.client.range(call.storage.prefix, count_only=True))
        await call.cache.wait_for(resp.header.revision, CACHE_WAIT)
