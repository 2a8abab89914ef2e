"""CertificateSigningRequests in the apiserver: who asked, and what an approval may change.

- On create, ``spec.username``, ``uid``, ``groups`` and ``extra`` become the requester's (a
  client's values are ignored): the approver decides on who asked, not on who the request says.
- The ``approval`` subresource changes only ``status.conditions`` (the certificate stays as it
  is); new conditions get their timestamps. Who may approve, and who may set a certificate
  through ``status``, is ``admission.certificates``' business.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from master.apiserver import body
from master.apiserver.allocator import Plan
from master.apiserver.hooks import Hooks
from master.apiserver.verbs.common import now_rfc3339

if TYPE_CHECKING:
    from master.apiserver.verbs.common import Call

__all__ = ["CSRHooks", "approval_only"]


class CSRHooks(Hooks):
    changes_objects = True

    async def before_create(self, call: Call, obj: dict[str, Any]) -> Plan:
        spec = obj.setdefault("spec", {})
        user = call.user
        spec["username"] = user.name
        spec["groups"] = list(user.groups)
        if user.uid:
            spec["uid"] = user.uid
        else:
            spec.pop("uid", None)
        if user.extra:
            spec["extra"] = {k: list(v) for k, v in user.extra.items()}
        else:
            spec.pop("extra", None)
        return Plan()


def approval_only(new: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """``new`` (already the stored object with the request's status) with only its conditions
    taken from the request."""
    out = body.clone(new)
    asked = (new.get("status") or {}).get("conditions") or []
    old_status = body.clone(current.get("status") or {})
    old_types = {c.get("type"): c for c in old_status.get("conditions") or [] if isinstance(c, dict)}
    now = now_rfc3339()
    conditions = []
    for c in asked if isinstance(asked, list) else []:
        if not isinstance(c, dict):
            conditions.append(c)
            continue
        c = dict(c)
        if c.get("type") not in old_types:
            c.setdefault("lastUpdateTime", now)
            c.setdefault("lastTransitionTime", now)
            c.setdefault("status", "True")
        conditions.append(c)
    old_status["conditions"] = conditions
    out["status"] = old_status
    return out
