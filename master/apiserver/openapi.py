"""/openapi/v2 and /openapi/v3: the API described from our own types.

- ``GET /openapi/v2``: one Swagger 2.0 document, every path and every definition. JSON, or
  gnostic's protobuf (``openapi_proto``) for clients that ask for
  ``application/com.github.proto-openapi.spec.v2@v1.0+protobuf`` (client-go asks for nothing else).
- ``GET /openapi/v3``: the index, ``{"paths": {"api/v1": {"serverRelativeURL":
  "/openapi/v3/api/v1?hash=..."}, "apis/apps/v1": ...}}``.
- ``GET /openapi/v3/api/v1``, ``/openapi/v3/apis/GROUP/VERSION``: one OpenAPI 3.0 document per
  group-version, its paths and the schemas they reach (``components.schemas``).

kubectl uses them for ``kubectl explain`` (v3, or v2 with ``--output plaintext-openapiv2``), to
see that the server validates fields itself (the ``fieldValidation`` parameter of each kind's
PATCH; then ``kubectl apply|create`` send ``fieldValidation=Strict`` rather than checking
locally) and to build client-side apply patches (the patch strategies and merge keys).

The documents depend only on the registry, so each is built on first request and kept as gzipped
bytes only (about 90 kB in all; clients that take gzip get them as they are), with a content hash
as its ETag: ``If-None-Match`` answers 304.
As in Kubernetes, a v3 URL whose ``hash`` is current is cacheable for good (``Cache-Control:
public, immutable``) and one with an old hash redirects (301) to the current one.
"""

from __future__ import annotations

import gzip
import hashlib
import weakref
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web

from master.api.meta import DeleteOptions, Status, WatchEvent
from master.apiserver import openapi_paths, openapi_proto, openapi_schema
from master.apiserver.openapi_schema import Catalog, Schemas
from master.apiserver.registry import Served, ServedRegistry

__all__ = ["PROTOBUF_V2", "PROTOBUF_V2_TYPE", "respond", "v2_document", "v3_document", "v3_index"]

PROTOBUF_V2 = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
# What the protobuf answer says it is: Go's mime parser refuses the "@" of the name clients ask for.
PROTOBUF_V2_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
INFO = {"title": "picluster", "version": "v1.32"}
_encoder = msgspec.json.Encoder()
_NOT_CACHED = {"Cache-Control": "no-cache, private"}
_IMMUTABLE = {"Cache-Control": "public, immutable", "Expires": "Thu, 31 Dec 2099 23:59:59 GMT"}
_BEARER = {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header",
                           "description": "Bearer token authentication"}}


# -- the documents ------------------------------------------------------------------------------


def _add_common(schemas: Schemas) -> None:
    for cls in (Status, DeleteOptions, WatchEvent):
        schemas.add(cls)


def v2_document(registry: ServedRegistry, catalog: Catalog | None = None) -> dict[str, Any]:
    schemas = Schemas(openapi_schema.V2, catalog)
    _add_common(schemas)
    paths: dict[str, dict[str, Any]] = {}
    for r in registry.resources:
        for op in openapi_paths.operations(r, schemas):
            item = paths.setdefault(op.path, {})
            item[op.method] = openapi_paths.render_v2(op, schemas)
    for path, item in paths.items():
        params = openapi_paths.path_parameters_v2(path)
        if params:
            item["parameters"] = params
    return {"swagger": "2.0", "info": INFO, "paths": paths,
            "definitions": dict(sorted(schemas.definitions.items())),
            "securityDefinitions": _BEARER, "security": [{"BearerToken": []}]}


def v3_document(resources: list[Served], catalog: Catalog | None = None) -> dict[str, Any]:
    """The document of one group-version (``resources`` are its resources)."""
    schemas = Schemas(openapi_schema.V3, catalog)
    _add_common(schemas)
    paths: dict[str, dict[str, Any]] = {}
    for r in resources:
        for op in openapi_paths.operations(r, schemas):
            item = paths.setdefault(op.path, {})
            item[op.method] = openapi_paths.render_v3(op, schemas)
    for path, item in paths.items():
        params = openapi_paths.path_parameters_v3(path)
        if params:
            item["parameters"] = params
    return {"openapi": "3.0.0", "info": INFO, "paths": paths,
            "components": {"schemas": dict(sorted(schemas.definitions.items())), "securitySchemes": _BEARER},
            "security": [{"BearerToken": []}]}


def _gv_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def v3_index(hashes: dict[str, str]) -> dict[str, Any]:
    return {"paths": {rel: {"serverRelativeURL": f"/openapi/v3/{rel}?hash={h}"} for rel, h in hashes.items()}}


# -- the cache ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Encoded:
    """A document, kept gzipped (a tenth of its size; kubectl and most clients take it so), and the
    hash of its bytes."""

    gzipped: bytes
    hash: str

    @classmethod
    def of(cls, data: bytes) -> Encoded:
        return cls(gzip.compress(data, compresslevel=6, mtime=0), hashlib.sha256(data).hexdigest()[:32].upper())

    def data(self) -> bytes:
        return gzip.decompress(self.gzipped)


@dataclass(slots=True)
class _Documents:
    v2_json: Encoded | None = None
    v2_proto: Encoded | None = None
    v3: dict[str, Encoded] = field(default_factory=dict)
    v3_index: Encoded | None = None

    def v2(self, registry: ServedRegistry, *, protobuf: bool) -> Encoded:
        # Each encoding is built when first asked for: most clients only ever ask for one.
        if protobuf:
            if self.v2_proto is None:
                self.v2_proto = Encoded.of(openapi_proto.encode_document(v2_document(registry, _catalog())))
            return self.v2_proto
        if self.v2_json is None:
            self.v2_json = Encoded.of(_encoder.encode(v2_document(registry, _catalog())))
        return self.v2_json

    def index(self, registry: ServedRegistry) -> Encoded:
        if self.v3_index is None:
            catalog = _catalog()
            for group, version in registry.group_versions():
                self.v3[_gv_path(group, version)] = Encoded.of(
                    _encoder.encode(v3_document(registry.in_group_version(group, version), catalog)))
            self.v3_index = Encoded.of(_encoder.encode(v3_index({rel: e.hash for rel, e in self.v3.items()})))
        return self.v3_index


def _catalog() -> Catalog:
    return Catalog(openapi_schema.kind_types())


# One set of documents per registry, gone with it.
_cache: weakref.WeakKeyDictionary[ServedRegistry, _Documents] = weakref.WeakKeyDictionary()


def _documents(registry: ServedRegistry) -> _Documents:
    docs = _cache.get(registry)
    if docs is None:
        docs = _cache[registry] = _Documents()
    return docs


# -- serving ------------------------------------------------------------------------------------


def _wants_protobuf(accept: str) -> bool:
    """Whether the first of the Accept header's types that we can serve is the v2 protobuf."""
    for part in accept.split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media in (PROTOBUF_V2.lower(), PROTOBUF_V2_TYPE):
            return True
        if media in ("application/json", "*/*", "application/*", ""):
            return False
    return False


def _answer(request: web.Request, doc: Encoded, content_type: str, headers: dict[str, str]) -> web.Response:
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "").lower()
    # The gzipped bytes are another representation: a weak validator, as for any compressed answer.
    etag = f'W/"{doc.hash}"' if gzipped else f'"{doc.hash}"'
    base = {"ETag": etag, "Vary": "Accept, Accept-Encoding", **headers}
    if f'"{doc.hash}"' in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=base)
    if gzipped:
        return web.Response(body=doc.gzipped, headers={"Content-Type": content_type, "Content-Encoding": "gzip",
                                                       **base})
    return web.Response(body=doc.data(), headers={"Content-Type": content_type, **base})


def respond(registry: ServedRegistry, request: web.Request) -> web.Response | None:
    """The answer to a GET under /openapi, or None when the path is not one of ours (404)."""
    parts = [p for p in request.path.split("/") if p]
    if parts[:1] != ["openapi"] or len(parts) < 2:
        return None
    docs = _documents(registry)
    if parts[1] == "v2" and len(parts) == 2:
        if _wants_protobuf(request.headers.get("Accept", "")):
            return _answer(request, docs.v2(registry, protobuf=True), PROTOBUF_V2_TYPE, _NOT_CACHED)
        return _answer(request, docs.v2(registry, protobuf=False), "application/json", _NOT_CACHED)
    if parts[1] != "v3":
        return None
    index = docs.index(registry)
    if len(parts) == 2:
        return _answer(request, index, "application/json", _NOT_CACHED)
    doc = docs.v3.get("/".join(parts[2:]))
    if doc is None:
        return None
    wanted = request.query.get("hash")
    if wanted is None:
        return _answer(request, doc, "application/json", _NOT_CACHED)
    if wanted != doc.hash:
        location = f"{request.path}?hash={doc.hash}"
        return web.Response(status=301, headers={"Location": location, **_NOT_CACHED})
    return _answer(request, doc, "application/json", _IMMUTABLE)
