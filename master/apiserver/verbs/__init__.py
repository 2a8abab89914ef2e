"""The resource verbs, one module each; ``dispatch`` routes a parsed request to its handler."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from master.apiserver import body, errors
from master.apiserver.authn import UserInfo
from master.apiserver.registry import Served
from master.apiserver.requestinfo import RequestInfo
from master.apiserver.verbs import delete, logs, proxy, read, subresources, watch, write
from master.apiserver.verbs.common import BODY, Call

if TYPE_CHECKING:
    from master.apiserver.server import ApiServer

__all__ = ["dispatch"]


def _not_supported(served: Served, action: str, sub: str = "") -> errors.ApiError:
    kind = f"{served.plural}/{sub}" if sub else served.plural
    q = f"{kind}.{served.group}" if served.group else kind
    return errors.ApiError(errors.status(405, "MethodNotAllowed",
                                         f'{action} is not supported on resources of kind "{q}"'))


async def dispatch(
    server: ApiServer, request: web.Request, served: Served, info: RequestInfo, user: UserInfo
) -> web.StreamResponse:
    call = Call(server, request, served, info, user)
    verb, sub = info.verb, info.subresource
    if sub not in ("log", "proxy"):  # those two answer with text, not objects
        body.check_accept(request)
    if info.rest and info.subresource != "proxy":
        raise errors.ApiError(errors.status(404, "NotFound", "the server could not find the requested resource"))
    if served.namespaced is False and info.namespace and served.plural != "namespaces":
        raise errors.ApiError(errors.status(404, "NotFound", "the server could not find the requested resource"))
    if served.plural == "bindings":
        if verb != "create":
            raise _not_supported(served, verb)
        obj_name = await _binding_name(call)
        return await subresources.binding(call, obj_name)
    if not served.stored and "list" in served.verbs:
        return _empty(call)
    if not served.stored:
        if verb != "create" or info.name or sub:
            raise _not_supported(served, verb)
        from master.apiserver.authn_reviews import review as authn_review
        from master.apiserver.authz_reviews import review as authz_review

        if served.group == "authentication.k8s.io":
            return await authn_review(call)
        return await authz_review(call)
    if sub:
        return await _subresource(call, sub)
    if verb not in served.verbs:
        raise _not_supported(served, verb)
    if verb == "get":
        return await read.get(call)
    if verb == "list":
        return await read.list_(call)
    if verb == "watch":
        return await watch.watch(call)
    if verb == "create":
        if info.name:
            raise errors.method_not_allowed()
        return await write.create(call)
    if verb in ("update", "patch") and not info.name:
        raise errors.method_not_allowed()  # a collection has no PUT or PATCH (not a 404 for name "")
    if verb == "update":
        return await write.update(call)
    if verb == "patch":
        return await write.patch(call)
    if verb == "delete":
        return await delete.delete(call)
    if verb == "deletecollection":
        return await delete.delete_collection(call)
    raise errors.method_not_allowed()


def _empty(call: Call) -> web.StreamResponse:
    """A read-only resource with no objects (customresourcedefinitions)."""
    served, info = call.served, call.info
    if info.subresource or info.verb not in ("get", "list"):
        raise _not_supported(served, info.verb, info.subresource)
    if info.verb == "get":
        raise call.not_found()
    return body.json_response({"kind": served.list_kind, "apiVersion": served.api_version,
                               "metadata": {"resourceVersion": ""}, "items": []})


async def _binding_name(call: Call) -> str:
    # POST /api/v1/namespaces/NS/bindings carries the pod's name in the Binding's metadata.
    data = await call.read_body()
    obj = body.parse_object(data, body.media_type(call.request))
    name = call.metadata(obj).get("name")
    if not name or not isinstance(name, str):
        raise errors.invalid("Binding", "", [("FieldValueRequired", "metadata.name", "Required value")])
    call.request[BODY] = data
    return name


async def _subresource(call: Call, sub: str) -> web.StreamResponse:
    served, verb = call.served, call.info.verb
    if sub not in served.subresources:
        raise errors.ApiError(errors.status(404, "NotFound", "the server could not find the requested resource"))
    _, verbs = served.subresources[sub]
    if verb not in verbs:
        raise _not_supported(served, verb, sub)
    if sub in ("status", "approval"):
        if verb == "get":
            return await read.get(call)
        if verb == "update":
            return await write.update(call, subresource=sub)
        return await write.patch(call, subresource=sub)
    if sub == "token":
        from master.apiserver.authn_reviews import token_request

        return await token_request(call)
    if sub == "scale":
        if verb == "get":
            return await subresources.scale_get(call)
        kind = None if verb == "update" else body.PATCH_TYPES.get(body.media_type(call.request))
        if verb == "patch" and kind is None:
            raise errors.unsupported_media_type(body.media_type(call.request))
        return await subresources.scale_write(call, patch_kind=kind)
    if sub == "binding":
        return await subresources.binding(call, call.name)
    if sub == "eviction":
        return await subresources.eviction(call)
    if sub == "log":
        return await logs.pod_log(call)
    if sub == "finalize":
        return await subresources.finalize(call)
    if sub == "proxy":
        return await proxy.node_proxy(call)
    raise _not_supported(served, verb, sub)
