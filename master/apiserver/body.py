"""Request bodies in, response bodies out: content types, size limit, JSON and YAML.

Accepted request bodies: ``application/json``, ``application/yaml`` (kubectl may send YAML),
``application/vnd.kubernetes.protobuf`` for the kinds kubectl's typed clients send (see
``protobuf``), and for PATCH the four patch types. Anything else is 415; a body over the limit is 413;
a body that does not parse, or nests more than ``MAX_DEPTH`` levels deep, is 400 with the
parser's message. Responses are always JSON: a client that asks for protobuf (kubectl does,
with JSON as its fallback) gets JSON.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import yaml
from aiohttp import web

from master.api import yamlfmt
from master.apiserver import errors, protobuf

__all__ = [
    "PATCH_TYPES",
    "RAW_BODY",
    "check_accept",
    "clone",
    "json_response",
    "parse_object",
    "read_body",
]

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()

JSON = "application/json"
# How long a request body may take to arrive (kube-apiserver's request timeout is a minute).
BODY_TIMEOUT = 60.0
# How deep a request document may nest (as pictl takes them).
MAX_DEPTH = yamlfmt.MAX_DEPTH
# The bytes of a request body once read (the audit log's Request level shows them).
RAW_BODY = web.RequestKey("raw_body", bytes)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")
PROTOBUF = "application/vnd.kubernetes.protobuf"
PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}



# What a resource response may be asked as: we answer JSON, which is also YAML, and which
# clients asking for protobuf take as their fallback.
_SERVABLE = frozenset({"*/*", "application/*", JSON, *YAML_TYPES, PROTOBUF})


def check_accept(request: web.Request) -> None:
    """406 NotAcceptable when the Accept header names media types and none we can answer with."""
    accept = request.headers.get("Accept")
    if not accept:
        return
    named = [m for m in (part.split(";", 1)[0].strip().lower() for part in accept.split(",")) if m]
    if named and not any(m in _SERVABLE for m in named):
        raise errors.not_acceptable("only the following media types are accepted: application/json, "
                                    "application/yaml, application/vnd.kubernetes.protobuf")


def media_type(request: web.Request) -> str:
    return (request.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()


async def read_body(request: web.Request, limit: int, within: float = BODY_TIMEOUT) -> bytes:
    """The whole body: 413 past ``limit`` bytes, 408 when it has not all arrived ``within``
    seconds (a client trickling a body, or sending less than its Content-Length,
    held the request open for good: the idle timeout only covers connections between requests)."""
    try:
        async with asyncio.timeout(within):
            data = await _read(request, limit)
    except TimeoutError:
        raise errors.ApiError(errors.status(408, "Timeout", f"the request body did not arrive within {within:g}s")) \
            from None
    request[RAW_BODY] = data
    return data


async def _read(request: web.Request, limit: int) -> bytes:
    length = request.content_length
    if length is not None and length > limit:
        raise errors.too_large(limit)
    if length is not None:
        # The common case, in one read.
        try:
            return await request.content.readexactly(length)
        except asyncio.IncompleteReadError as exc:
            raise errors.bad_request(f"the request body ended after {len(exc.partial)} of {length} bytes") from exc
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise errors.too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_deep(what: str) -> errors.ApiError:
    return errors.bad_request(f"{what} is nested more than {MAX_DEPTH} levels deep")


def _check_depth(doc: Any, what: str) -> None:
    """400 for a document nested deeper than ``MAX_DEPTH``: the pipeline after the decoder
    (patches, copies, pruning) walks documents recursively, and a few hundred levels would
    exhaust Python's stack there (a 500). No object we serve comes close."""
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep(what)
        if type(value) is dict:
            stack.extend((v, depth + 1) for v in value.values() if type(v) in (dict, list))
        elif type(value) is list:
            stack.extend((v, depth + 1) for v in value if type(v) in (dict, list))


def decode_json(data: bytes, what: str = "the request body") -> Any:
    try:
        doc = _decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise errors.bad_request(f"{what} is not valid JSON: {exc}") from exc
    except RecursionError as exc:  # the decoder recurses per level ("[[[[...]]]]" 10k deep)
        raise _too_deep(what) from exc
    # A document with fewer brackets than the limit cannot be deeper: the walk is for the rare rest.
    if data.count(b"{") + data.count(b"[") > MAX_DEPTH:
        _check_depth(doc, what)
    return doc


def decode_yaml(data: bytes) -> Any:
    try:
        doc = yamlfmt.load(data)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "parse error"
        raise errors.bad_request(f"the request body is not valid YAML: {first}") from exc
    except RecursionError as exc:
        raise _too_deep("the request body") from exc
    _check_yaml_shape(doc)
    return doc


def _check_yaml_shape(doc: Any) -> None:
    """What ``_check_depth`` checks, for a YAML document, whose aliases share nodes (a bomb of
    nested aliases, or an alias inside its own anchor): see ``yamlfmt.check_shape``."""
    try:
        yamlfmt.check_shape(doc)
    except yamlfmt.ShapeError as exc:
        if exc.kind == "depth":
            raise _too_deep("the request body") from None
        if exc.kind == "size":
            raise errors.bad_request(f"the request body expands to more than {yamlfmt.MAX_VALUES} values "
                                     "(YAML aliases)") from None
        raise errors.bad_request("the request body refers to itself (a YAML alias inside its own anchor)") from None


def parse_object(data: bytes, content_type: str) -> dict[str, Any]:
    """Decode a create/update body into a JSON object (dict)."""
    if not data.strip():
        raise errors.bad_request("the request body is empty; expected an object")
    if content_type in ("", JSON) or (content_type.endswith("+json") and content_type not in PATCH_TYPES):
        obj = decode_json(data)
    elif content_type in YAML_TYPES:
        obj = decode_yaml(data)
    elif content_type == PROTOBUF:
        obj = protobuf.decode(data)
    else:
        raise errors.unsupported_media_type(content_type)
    if not isinstance(obj, dict):
        raise errors.bad_request(f"the request body must be a JSON object, not {type(obj).__name__}")
    return obj


def encode(obj: Any) -> bytes:
    return _encoder.encode(obj)


_mp_encoder = msgspec.msgpack.Encoder()
_mp_decoder = msgspec.msgpack.Decoder()


def clone(obj: Any) -> Any:
    """A deep copy of JSON-shaped data (several times faster than ``copy.deepcopy``)."""
    return _mp_decoder.decode(_mp_encoder.encode(obj))


def json_response(obj: Any, status: int = 200, *, raw: bytes | None = None,
                  headers: dict[str, str] | None = None) -> web.Response:
    body = raw if raw is not None else _encoder.encode(obj)
    return web.Response(body=body, status=status, content_type=JSON, headers=headers)
