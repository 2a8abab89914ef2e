"""Parse a request path into what is being asked for (Kubernetes' RequestInfo).

Examples::

    GET    /api/v1/namespaces/default/pods?watch=1      watch pods in default
    GET    /api/v1/pods                                 list pods in every namespace
    PUT    /api/v1/namespaces/default/pods/web/status   update the status subresource of pod web
    GET    /apis/apps/v1/namespaces/ns/deployments/d    get deployment d
    DELETE /api/v1/namespaces/default/pods              deletecollection
    GET    /api/v1/namespaces/kube-system               get namespace kube-system
    PUT    /api/v1/namespaces/x/finalize                the namespace finalize subresource
    GET    /healthz                                     a non-resource request
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["RequestInfo", "parse_request_info", "query_bool"]

_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "GET": "get", "HEAD": "get", "DELETE": "delete"}


@dataclass(frozen=True, slots=True)
class RequestInfo:
    is_resource: bool
    path: str
    verb: str
    group: str = ""
    version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    # Path segments after the subresource (pods/log has none; proxy-like ones would).
    rest: tuple[str, ...] = ()


def query_bool(value: str | None) -> bool:
    """A boolean query parameter as kube-apiserver decodes one (apimachinery's
    Convert_Slice_string_To_bool, not strconv.ParseBool): absent, "0" or "false" (any case) is
    false, any other value, "" and "maybe" included, is true. ``?watch=maybe`` is a watch there."""
    return value is not None and value != "0" and value.lower() != "false"


def parse_request_info(method: str, path: str, query: Mapping[str, str] | None = None) -> RequestInfo:
    query = query or {}
    verb = _VERBS.get(method.upper(), method.lower())
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] not in ("api", "apis"):
        return RequestInfo(False, path, verb)
    if parts[0] == "api":
        if len(parts) < 3:
            return RequestInfo(False, path, verb)
        group, version, rest = "", parts[1], parts[2:]
    else:
        if len(parts) < 4:
            return RequestInfo(False, path, verb)
        group, version, rest = parts[1], parts[2], parts[3:]

    watch_prefix = False
    if rest and rest[0] == "watch":
        watch_prefix = True
        rest = rest[1:]
        if not rest:
            return RequestInfo(False, path, verb)

    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3 and not (len(rest) == 3 and rest[2] in ("status", "finalize")):
        namespace = rest[1]
        rest = rest[2:]
    elif rest[0] == "namespaces" and len(rest) >= 2:
        # /namespaces/NAME and /namespaces/NAME/{status,finalize}: the namespace object itself.
        namespace = rest[1]

    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    extra = tuple(rest[3:])

    if verb == "get" and not name:
        verb = "list"
    if verb == "delete" and not name:
        verb = "deletecollection"
    if (watch_prefix or query_bool(query.get("watch"))) and verb in ("get", "list"):
        verb = "watch"
    return RequestInfo(True, path, verb, group, version, resource, subresource, namespace, name, extra)
