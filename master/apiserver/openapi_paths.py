"""The operations of the OpenAPI documents: one per path and method the apiserver answers.

``operations(served, schemas)`` lists, for one resource, what its verbs and subresources mean
over HTTP, as Kubernetes publishes them (``x-kubernetes-action``: get, list, post, put, patch,
delete, deletecollection, watch, watchlist, connect), adding the kinds it speaks to ``schemas``.
``render_v2`` and ``render_v3`` write an operation in Swagger 2.0 or OpenAPI 3.0. For pods::

    GET    /api/v1/namespaces/{namespace}/pods               list    (PodList)
    POST   /api/v1/namespaces/{namespace}/pods               post    (Pod)
    DELETE /api/v1/namespaces/{namespace}/pods               deletecollection
    GET    /api/v1/namespaces/{namespace}/pods/{name}        get
    PUT    /api/v1/namespaces/{namespace}/pods/{name}        put
    PATCH  /api/v1/namespaces/{namespace}/pods/{name}        patch   (fieldValidation, ...)
    DELETE /api/v1/namespaces/{namespace}/pods/{name}        delete
    GET    /api/v1/pods                                      list    (every namespace)
    GET    /api/v1/watch/namespaces/{namespace}/pods[/{name}], /api/v1/watch/pods   watchlist, watch
    GET|PUT|PATCH /api/v1/namespaces/{namespace}/pods/{name}/status, GET .../log, POST .../binding ...

kubectl reads two things from them: the ``fieldValidation`` parameter of a kind's PATCH (then it
leaves validation to the server) and the content types a PATCH consumes (strategic merge patch:
then it builds its apply patches from the documents' schemas).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from master.api import registry as api_registry
from master.api.meta import DeleteOptions, Status, WatchEvent
from master.apiserver import openapi_schema
from master.apiserver.openapi_schema import Schemas
from master.apiserver.registry import Served

__all__ = ["Operation", "operations", "render_v2", "render_v3"]

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
WATCH_STREAM = "application/json;stream=watch"
TEXT = "text/plain"
WRITE_TYPES = (JSON, YAML, PROTOBUF)
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json", "application/apply-patch+yaml")

# Query parameters the apiserver reads (or, like fieldManager and force, accepts), with their type.
QUERY: dict[str, tuple[str, str]] = {
    "dryRun": ("string", 'When "All", the request is validated and admitted but nothing is stored.'),
    "fieldManager": ("string", "The name of the actor making the change (accepted, not recorded)."),
    "fieldValidation": ("string", "What to do with unknown or duplicate fields in the body: Ignore, Warn "
                                  "(the default: a Warning header per field) or Strict (the request fails)."),
    "force": ("boolean", "Apply requests only: take over conflicting fields (accepted; there are no "
                         "field managers to conflict with)."),
    "labelSelector": ("string", "Only objects whose labels match, e.g. app=web,tier!=db."),
    "fieldSelector": ("string", "Only objects whose fields match, e.g. metadata.name=web,status.phase=Running."),
    "limit": ("integer", "At most this many objects; the list's metadata.continue fetches the rest."),
    "continue": ("string", "The continue token of the previous page of a limited list."),
    "resourceVersion": ("string", "List or watch from this resourceVersion (see resourceVersionMatch); "
                                  '"0" means any recent state.'),
    "resourceVersionMatch": ("string", "How resourceVersion applies to a list: NotOlderThan or Exact."),
    "timeoutSeconds": ("integer", "End the list or watch after this many seconds."),
    "watch": ("boolean", "Watch for changes instead of listing: a stream of ADDED, MODIFIED and DELETED events."),
    "allowWatchBookmarks": ("boolean", "Let the watch send BOOKMARK events carrying the latest resourceVersion."),
    "gracePeriodSeconds": ("integer", "Seconds before the object is deleted; 0 deletes immediately."),
    "propagationPolicy": ("string", "What happens to dependents: Orphan, Background or Foreground."),
    "orphanDependents": ("boolean", "Deprecated: use propagationPolicy. Whether dependents are orphaned."),
    "container": ("string", "The container whose log to read; may be omitted when the pod has only one."),
    "follow": ("boolean", "Stream the log as it grows."),
    "previous": ("boolean", "The log of the previous, terminated instance of the container."),
    "timestamps": ("boolean", "Prefix every line with its RFC 3339 timestamp."),
    "tailLines": ("integer", "Only the last this many lines."),
    "limitBytes": ("integer", "Stop after this many bytes."),
}
_WRITE = ("dryRun", "fieldManager", "fieldValidation")
_LIST = ("labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "resourceVersionMatch",
         "timeoutSeconds", "watch", "allowWatchBookmarks")
_WATCH = ("labelSelector", "fieldSelector", "resourceVersion", "timeoutSeconds", "allowWatchBookmarks")
_DELETE = ("dryRun", "gracePeriodSeconds", "propagationPolicy", "orphanDependents")
_LOG = ("container", "follow", "previous", "timestamps", "tailLines", "limitBytes")

_PATH_PARAMS = {
    "namespace": "The namespace of the object.",
    "name": "The name of the object.",
    "path": "The path to pass on to the node's agent.",
}


@dataclass(frozen=True, slots=True)
class Operation:
    path: str
    method: str  # get, put, post, patch, delete
    action: str  # x-kubernetes-action
    operation_id: str
    tag: str
    description: str
    gvk: dict[str, str] | None
    response: str  # a definition name; "" for a text response
    body: str = ""  # the request body's definition name; "" when there is none
    body_required: bool = True
    query: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()
    produces: tuple[str, ...] = (JSON,)
    created: bool = False  # answers 201 Created too


def _camel_group(group: str) -> str:
    """``RbacAuthorization`` for ``rbac.authorization.k8s.io``, ``Core`` for the core group."""
    if not group:
        return "Core"
    return "".join(p[:1].upper() + p[1:] for p in group.removesuffix(".k8s.io").split("."))


def _type_of(group: str, version: str, kind: str, plural: str = "") -> type | None:
    resource = api_registry.DEFAULT.get(group, version, plural) if plural else None
    if resource is not None and resource.kind == kind:
        return resource.type
    api_version = f"{group}/{version}" if group else version
    for cls in openapi_schema.kind_types():
        if getattr(cls, "KIND", "") == kind and getattr(cls, "API_VERSION", "") == api_version:
            return cls
    return None


def kind_definition(schemas: Schemas, group: str, version: str, kind: str, plural: str = "") -> str:
    """The definition of a kind, added to ``schemas``: its Struct's, or the envelope alone."""
    gvk = {"group": group, "kind": kind, "version": version}
    cls = _type_of(group, version, kind, plural)
    if cls is not None:
        return schemas.add(cls)
    package = openapi_schema.PACKAGES.get(f"master.api.{(group or 'core').split('.')[0]}") or _PACKAGES.get(group)
    name = f"{package}.{kind}" if package else f"io.picluster.{group}.{version}.{kind}"
    alias = _ALIASES.get(kind)
    if alias is not None:
        return schemas.add_alias(alias(), name=name, gvk=gvk)
    return schemas.add_generic(name=name, gvk=gvk)


def _subject_access_review() -> type:
    from master.api.authorization import SubjectAccessReview

    return SubjectAccessReview


# Kubernetes' definition names of the groups with no Struct of ours (the empty CRD list).
_PACKAGES = {"apiextensions.k8s.io": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1"}

# Kinds served with another kind's Struct.
_ALIASES = {"LocalSubjectAccessReview": _subject_access_review}


def operations(r: Served, schemas: Schemas) -> list[Operation]:
    """Every operation of resource ``r``; the kinds they speak are added to ``schemas``."""
    group_id = _camel_group(r.group) + r.version[:1].upper() + r.version[1:]
    tag = f"{group_id[:1].lower()}{_camel_group(r.group)[1:]}_{r.version}"
    base = f"/api/{r.version}" if not r.group else f"/apis/{r.group}/{r.version}"
    scope = "/namespaces/{namespace}" if r.namespaced else ""
    ns_word = "Namespaced" if r.namespaced else ""
    collection = f"{base}{scope}/{r.plural}"
    item = f"{collection}/{{name}}"
    gvk = {"group": r.group, "kind": r.kind, "version": r.version}
    kind = kind_definition(schemas, r.group, r.version, r.kind, r.plural)
    status = schemas.add(Status)
    verbs = set(r.verbs)
    ops: list[Operation] = []

    def op(path: str, method: str, action: str, verb_id: str, description: str, response: str,
           **kw: Any) -> None:
        ops.append(Operation(path, method, action, verb_id, tag, description, kw.pop("gvk", gvk), response, **kw))

    if "list" in verbs:
        op(collection, "get", "list", f"list{group_id}{ns_word}{r.kind}", f"List or watch objects of kind {r.kind}.",
           schemas.add_list(kind, {**gvk, "kind": r.list_kind}), query=_LIST,
           produces=(JSON, WATCH_STREAM))
        if r.namespaced:
            op(f"{base}/{r.plural}", "get", "list", f"list{group_id}{r.kind}ForAllNamespaces",
               f"List or watch objects of kind {r.kind} in every namespace.",
               schemas.add_list(kind, {**gvk, "kind": r.list_kind}), query=_LIST, produces=(JSON, WATCH_STREAM))
    if "watch" in verbs:
        event = schemas.add(WatchEvent)
        op(f"{base}/watch{scope}/{r.plural}", "get", "watchlist", f"watch{group_id}{ns_word}{r.kind}List",
           f"Watch changes to objects of kind {r.kind}. Deprecated: use the list path with ?watch=true.",
           event, query=_WATCH, produces=(JSON, WATCH_STREAM))
        op(f"{base}/watch{scope}/{r.plural}/{{name}}", "get", "watch", f"watch{group_id}{ns_word}{r.kind}",
           f"Watch changes to one object of kind {r.kind}. Deprecated: use the list path with ?watch=true "
           "and a fieldSelector on metadata.name.", event, query=_WATCH, produces=(JSON, WATCH_STREAM))
        if r.namespaced:
            op(f"{base}/watch/{r.plural}", "get", "watchlist", f"watch{group_id}{r.kind}ListForAllNamespaces",
               f"Watch changes to objects of kind {r.kind} in every namespace. Deprecated: use the list path "
               "with ?watch=true.", event, query=_WATCH, produces=(JSON, WATCH_STREAM))
    if "create" in verbs:
        op(collection, "post", "post", f"create{group_id}{ns_word}{r.kind}", f"Create a {r.kind}.", kind,
           body=kind, query=_WRITE, consumes=WRITE_TYPES, created=True)
    if "deletecollection" in verbs:
        op(collection, "delete", "deletecollection", f"delete{group_id}Collection{ns_word}{r.kind}",
           f"Delete every {r.kind} that matches the selectors.", status, body=schemas.add(DeleteOptions),
           body_required=False, query=(*_DELETE, "labelSelector", "fieldSelector"), consumes=(JSON, YAML))
    if "get" in verbs:
        op(item, "get", "get", f"read{group_id}{ns_word}{r.kind}", f"Read the named {r.kind}.", kind)
    if "update" in verbs:
        op(item, "put", "put", f"replace{group_id}{ns_word}{r.kind}", f"Replace the named {r.kind}.", kind,
           body=kind, query=_WRITE, consumes=WRITE_TYPES, created=True)
    if "patch" in verbs:
        op(item, "patch", "patch", f"patch{group_id}{ns_word}{r.kind}", f"Partially update the named {r.kind}.",
           kind, body=schemas.add_special(openapi_schema.PATCH), query=(*_WRITE, "force"), consumes=PATCH_TYPES,
           created=True)
    if "delete" in verbs:
        op(item, "delete", "delete", f"delete{group_id}{ns_word}{r.kind}", f"Delete the named {r.kind}.", status,
           body=schemas.add(DeleteOptions), body_required=False, query=_DELETE, consumes=(JSON, YAML))
    _subresources(r, schemas, op, item, group_id + ns_word)
    return ops


def _subresources(r: Served, schemas: Schemas, op: Callable[..., None], item: str, id_infix: str) -> None:
    resource = api_registry.DEFAULT.get(r.group, r.version, r.plural)
    subs = {s.name: s for s in resource.subresources} if resource is not None else {}
    for name, (sub_kind, verbs) in r.subresources.items():
        sub = subs.get(name)
        group, version = (sub.group, sub.version) if sub is not None else (r.group, r.version)
        gvk = {"group": group, "kind": sub_kind, "version": version}
        suffix = name[:1].upper() + name[1:]
        path = f"{item}/{name}"
        if name == "log":
            op(path, "get", "get", f"read{id_infix}{r.kind}Log", f"Read the log of a container of the "
               f"named {r.kind}.", "", query=_LOG, produces=(TEXT,), gvk=None)
            continue
        if name == "proxy":
            for p in (path, f"{path}/{{path}}"):
                op(p, "get", "connect", f"connect{id_infix}Get{r.kind}Proxy" + ("WithPath" if p != path else ""),
                   f"GET requests passed to the agent of the named {r.kind}.", "", produces=(TEXT,), gvk=None)
            continue
        body = kind_definition(schemas, group, version, sub_kind)
        what = f"the {name} of the named {r.kind}"
        if "get" in verbs:
            op(path, "get", "get", f"read{id_infix}{r.kind}{suffix}", f"Read {what}.", body, gvk=gvk)
        if "update" in verbs:
            op(path, "put", "put", f"replace{id_infix}{r.kind}{suffix}", f"Replace {what}.", body,
               body=body, query=_WRITE, consumes=WRITE_TYPES, created=True, gvk=gvk)
        if "patch" in verbs:
            op(path, "patch", "patch", f"patch{id_infix}{r.kind}{suffix}", f"Partially update {what}.",
               body, body=schemas.add_special(openapi_schema.PATCH), query=(*_WRITE, "force"),
               consumes=PATCH_TYPES, created=True, gvk=gvk)
        if "create" in verbs:
            op(path, "post", "post", f"create{id_infix}{r.kind}{suffix}", f"Create {what}.", body,
               body=body, query=_WRITE, consumes=WRITE_TYPES, created=True, gvk=gvk)


# -- rendering ----------------------------------------------------------------------------------


def _responses_v2(o: Operation, schemas: Schemas) -> dict[str, Any]:
    schema = schemas.ref(o.response) if o.response else {"type": "string"}
    out: dict[str, Any] = {"200": {"description": "OK", "schema": schema}}
    if o.created:
        out["201"] = {"description": "Created", "schema": schema}
    out["401"] = {"description": "Unauthorized"}
    return out


def render_v2(o: Operation, schemas: Schemas) -> dict[str, Any]:
    params: list[dict[str, Any]] = []
    if o.body:
        params.append({"name": "body", "in": "body", "required": o.body_required, "schema": schemas.ref(o.body)})
    for name in o.query:
        type_, description = QUERY[name]
        params.append({"name": name, "in": "query", "description": description, "type": type_,
                       "uniqueItems": True})
    out: dict[str, Any] = {"description": o.description, "operationId": o.operation_id, "tags": [o.tag],
                           "schemes": ["https"]}
    if o.consumes:
        out["consumes"] = list(o.consumes)
    out["produces"] = list(o.produces)
    if params:
        out["parameters"] = params
    out["responses"] = _responses_v2(o, schemas)
    out["x-kubernetes-action"] = o.action
    if o.gvk is not None:
        out["x-kubernetes-group-version-kind"] = o.gvk
    return out


def path_parameters_v2(path: str) -> list[dict[str, Any]]:
    return [{"name": p, "in": "path", "description": _PATH_PARAMS.get(p, p), "required": True, "type": "string",
             "uniqueItems": True} for p in re.findall(r"{(\w+)}", path)]


def render_v3(o: Operation, schemas: Schemas) -> dict[str, Any]:
    out: dict[str, Any] = {"description": o.description, "operationId": o.operation_id, "tags": [o.tag]}
    params = []
    for name in o.query:
        type_, description = QUERY[name]
        params.append({"name": name, "in": "query", "description": description, "schema": {"type": type_,
                                                                                          "uniqueItems": True}})
    if params:
        out["parameters"] = params
    if o.body:
        out["requestBody"] = {"content": {ct: {"schema": schemas.ref(o.body)} for ct in o.consumes},
                              "required": o.body_required}
    schema = schemas.ref(o.response) if o.response else {"type": "string"}
    content = {ct: {"schema": schema} for ct in o.produces}
    responses: dict[str, Any] = {"200": {"description": "OK", "content": content}}
    if o.created:
        responses["201"] = {"description": "Created", "content": content}
    responses["401"] = {"description": "Unauthorized"}
    out["responses"] = responses
    out["x-kubernetes-action"] = o.action
    if o.gvk is not None:
        out["x-kubernetes-group-version-kind"] = o.gvk
    return out


def path_parameters_v3(path: str) -> list[dict[str, Any]]:
    return [{"name": p, "in": "path", "description": _PATH_PARAMS.get(p, p), "required": True,
             "schema": {"type": "string", "uniqueItems": True}} for p in re.findall(r"{(\w+)}", path)]
