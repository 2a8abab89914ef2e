"""authentication.k8s.io/v1: TokenReview, SelfSubjectReview, and TokenRequest.

- ``TokenReview``: which user is this bearer token (every token kind the apiserver accepts)?
- ``SelfSubjectReview``: who am I (``kubectl auth whoami``)?
- ``POST serviceaccounts/<name>/token`` (TokenRequest, ``kubectl create token NAME``): a signed
  token for the ServiceAccount, valid ``spec.expirationSeconds`` (default 3600, at least 600, at
  most 48 h), for ``spec.audiences`` (default the issuer), optionally bound to a Pod or Secret
  of the account's namespace (the token dies with it). An agent may only ask for tokens bound to
  pods on its own node.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from master.api import authentication
from master.apiserver import body, errors
from master.apiserver.authn import UserInfo
from master.apiserver.authn_serviceaccount import Bound
from master.apiserver.authz_node import node_name
from master.apiserver.verbs.common import Call

__all__ = ["review", "token_request", "user_info"]

DEFAULT_EXPIRATION = 3600
MIN_EXPIRATION = 600
MAX_EXPIRATION = 48 * 3600


def user_info(user: UserInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"username": user.name, "groups": list(user.groups)}
    if user.uid:
        out["uid"] = user.uid
    if user.extra:
        out["extra"] = {k: list(v) for k, v in user.extra.items()}
    return out


async def review(call: Call) -> web.StreamResponse:
    obj = await call.read_object()
    call.check_type_meta(obj)
    if call.served.plural == "selfsubjectreviews":
        obj["status"] = {"userInfo": user_info(call.user)}
        return body.json_response(obj, 201)
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    token = spec.get("token")
    if not isinstance(token, str) or not token:
        raise errors.invalid("TokenReview", "", [("FieldValueRequired", "spec.token", "Required value")],
                             "authentication.k8s.io")
    bearer = call.server.bearer
    outcome = await bearer.authenticate_token(token) if bearer is not None else None
    if isinstance(outcome, UserInfo):
        obj["status"] = {"authenticated": True, "user": user_info(outcome)}
    else:
        obj["status"] = {"authenticated": False, "error": "invalid bearer token"}
    obj["spec"] = {k: v for k, v in spec.items() if k != "token"}
    return body.json_response(obj, 201)


def _int(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise errors.bad_request(f"{field} must be an integer")
    return value


async def token_request(call: Call) -> web.StreamResponse:
    issuer = call.server.token_issuer
    if issuer is None:
        raise errors.service_unavailable("this server issues no service account tokens")
    obj = await call.read_object()
    call.check_type_meta(obj, kind="TokenRequest", api_version="authentication.k8s.io/v1")
    call.check_shape(obj, authentication.TokenRequest)
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    expiration = spec.get("expirationSeconds")
    seconds = DEFAULT_EXPIRATION if expiration is None else _int(expiration, "spec.expirationSeconds")
    if seconds < MIN_EXPIRATION:
        raise errors.invalid("TokenRequest", call.name, [(
            "FieldValueInvalid", "spec.expirationSeconds",
            f"Invalid value: {seconds}: may not specify a duration less than 10 minutes")], "authentication.k8s.io")
    seconds = min(seconds, MAX_EXPIRATION)
    audiences = spec.get("audiences") or []
    if not isinstance(audiences, list) or not all(isinstance(a, str) and a for a in audiences):
        raise errors.bad_request("spec.audiences must be a list of non-empty strings")
    sa = await call.storage.get(call.namespace, call.name)
    bound = await _bound(call, spec.get("boundObjectRef"))
    node = node_name(call.user)
    if node is not None and (bound is None or bound.kind != "Pod" or bound.node != node):
        raise errors.forbidden(f'node "{node}" may only request tokens bound to pods on it')
    token, exp = issuer.issue(namespace=call.namespace, name=call.name, uid=sa["metadata"].get("uid", ""),
                              audiences=audiences or [issuer.issuer], expiration_seconds=seconds,
                              bound=bound.ref if bound is not None else None)
    spec["expirationSeconds"] = seconds
    spec["audiences"] = audiences or [issuer.issuer]
    out = {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
           "metadata": {"name": call.name, "namespace": call.namespace,
                        "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
           "spec": spec,
           "status": {"token": token, "expirationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp))}}
    return body.json_response(out, 201)


class _BoundObject:
    def __init__(self, kind: str, name: str, uid: str, node: str) -> None:
        self.kind, self.node = kind, node
        self.ref = Bound(kind, name, uid)


async def _bound(call: Call, ref: Any) -> _BoundObject | None:
    if ref is None:
        return None
    if not isinstance(ref, dict):
        raise errors.bad_request("spec.boundObjectRef must be an object")
    kind, name, uid = ref.get("kind") or "", ref.get("name") or "", ref.get("uid") or ""
    plural = {"Pod": "pods", "Secret": "secrets"}.get(kind)
    if plural is None:
        raise errors.invalid("TokenRequest", call.name, [(
            "FieldValueNotSupported", "spec.boundObjectRef.kind", f'Unsupported value: "{kind}": supported values: '
            '"Pod", "Secret"')], "authentication.k8s.io")
    if not isinstance(name, str) or not name:
        raise errors.invalid("TokenRequest", call.name, [("FieldValueRequired", "spec.boundObjectRef.name",
                                                          "Required value")], "authentication.k8s.io")
    try:
        obj = await call.server.storages[plural].get(call.namespace, name)
    except errors.ApiError as exc:
        if exc.code == 404:
            raise errors.not_found(plural, name) from None
        raise
    meta = obj.get("metadata") or {}
    if uid and uid != meta.get("uid"):
        raise errors.conflict(plural, name, why=f"the UID in the bound object reference ({uid}) does not match "
                                                f"the UID in record. The object might have been deleted and then "
                                                f"recreated")
    if meta.get("deletionTimestamp"):
        raise errors.bad_request(f"{plural} {name} is being deleted")
    node = ((obj.get("spec") or {}).get("nodeName") or "") if plural == "pods" else ""
    return _BoundObject(kind, name, str(meta.get("uid", "")), node)
