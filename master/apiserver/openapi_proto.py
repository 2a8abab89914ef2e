"""A Swagger 2.0 document in gnostic's protobuf encoding (package ``openapi.v2``).

client-go fetches /openapi/v2 with ``Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf``
and unmarshals the answer as an ``openapi_v2.Document``, whatever its content type; JSON would not
parse. ``encode_document`` writes the JSON-shaped document (``openapi.v2_document``) in that
encoding, by hand: only the messages and fields our documents use, with the field numbers of
gnostic's OpenAPIv2.proto. For example a property ``{"type": "string"}`` is
``Schema { type = 22: TypeItem { value = 1: "string" } }`` and a vendor extension
``"x-kubernetes-action": "get"`` is ``NamedAny { name = 1: "x-kubernetes-action", value = 2:
Any { yaml = 2: "\\"get\\"" } }`` (JSON is YAML, which is how kube-openapi reads extensions).

Keys the tables below do not name are dropped.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import msgspec

__all__ = ["encode_document"]

Encoder = Callable[[Any], bytes]

_json = msgspec.json.Encoder()


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _delimited(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _str(number: int) -> Encoder:
    return lambda v: _delimited(number, str(v).encode()) if v != "" else b""


def _strs(number: int) -> Encoder:
    return lambda vs: b"".join(_delimited(number, str(v).encode()) for v in vs)


def _bool(number: int) -> Encoder:
    return lambda v: _varint(number << 3) + b"\x01" if v else b""


def _int(number: int) -> Encoder:
    return lambda v: _varint(number << 3) + _varint(int(v)) if v else b""


def _double(number: int) -> Encoder:
    return lambda v: _varint(number << 3 | 1) + struct.pack("<d", float(v))


def _yaml_any(value: Any) -> bytes:
    """gnostic's ``Any { yaml = 2 }`` holding ``value`` as JSON text."""
    return _delimited(2, _json.encode(value))


def _any(number: int) -> Encoder:
    return lambda v: _delimited(number, _yaml_any(v))


def _anys(number: int) -> Encoder:
    return lambda vs: b"".join(_delimited(number, _yaml_any(v)) for v in vs)


def _msg(number: int, message: str) -> Encoder:
    return lambda v: _delimited(number, encode(message, v))


def _msgs(number: int, message: str) -> Encoder:
    return lambda vs: b"".join(_delimited(number, encode(message, v)) for v in vs)


def _named(number: int, value: Encoder) -> Encoder:
    """A JSON object as gnostic's repeated ``Named* { name = 1; value = 2 }`` pairs."""
    return lambda obj: b"".join(_delimited(number, _str(1)(k) + value(v)) for k, v in obj.items())


def _wrapped(number: int, inner: Encoder) -> Encoder:
    """A message with a single field, e.g. ``Definitions { repeated NamedSchema additional_properties = 1 }``."""
    return lambda v: _delimited(number, inner(v))


# -- the oneofs, picked by the JSON's shape ---------------------------------------------------------


def _parameters_item(p: dict[str, Any]) -> bytes:
    if "$ref" in p:
        return _delimited(2, _str(1)(p["$ref"]) + _str(2)(p.get("description", "")))
    where = p.get("in")
    if where == "body":
        param = _delimited(1, encode("BodyParameter", p))
    else:
        sub = {"query": (3, "QueryParameter"), "path": (4, "PathParameter"), "header": (1, "HeaderParameter")}
        number, message = sub.get(str(where), (3, "QueryParameter"))
        param = _delimited(2, _delimited(number, encode(message, p)))
    return _delimited(1, param)


def _response_value(r: dict[str, Any]) -> bytes:
    if "$ref" in r:
        return _delimited(2, _delimited(2, _str(1)(r["$ref"])))
    return _delimited(2, _delimited(1, encode("Response", r)))


def _schema_type(v: Any) -> bytes:
    values = v if isinstance(v, list) else [v]
    return _delimited(22, _strs(1)(values))


def _schema_items(v: Any) -> bytes:
    values = v if isinstance(v, list) else [v]
    return _delimited(23, b"".join(_delimited(1, encode("Schema", s)) for s in values))


def _additional_properties(v: Any) -> bytes:
    if isinstance(v, bool):
        return _delimited(21, _varint(2 << 3) + (b"\x01" if v else b"\x00"))
    return _delimited(21, _delimited(1, encode("Schema", v)))


def _security_definition(v: dict[str, Any]) -> bytes:
    """A ``SecurityDefinitionsItem``: only API keys (the bearer token) are described."""
    return _delimited(2, encode("ApiKeySecurity", v))


# message name -> JSON key -> encoder; "x-" is the field number of the message's vendor extensions.
_PARAM_COMMON: dict[str, Any] = {"required": _bool(1), "in": _str(2), "description": _str(3), "name": _str(4)}
MESSAGES: dict[str, dict[str, Any]] = {
    "Document": {
        "swagger": _str(1), "info": _msg(2, "Info"), "host": _str(3), "basePath": _str(4), "schemes": _strs(5),
        "consumes": _strs(6), "produces": _strs(7), "paths": _msg(8, "Paths"),
        "definitions": _wrapped(9, _named(1, _msg(2, "Schema"))),
        "security": _msgs(12, "SecurityRequirement"),
        "securityDefinitions": _wrapped(13, _named(1, lambda v: _delimited(2, _security_definition(v)))),
        "x-": 16,
    },
    "Info": {"title": _str(1), "version": _str(2), "description": _str(3), "x-": 7},
    "Paths": {"x-": 1, "*": _named(2, _msg(2, "PathItem"))},
    "PathItem": {
        "$ref": _str(1), "get": _msg(2, "Operation"), "put": _msg(3, "Operation"), "post": _msg(4, "Operation"),
        "delete": _msg(5, "Operation"), "options": _msg(6, "Operation"), "head": _msg(7, "Operation"),
        "patch": _msg(8, "Operation"),
        "parameters": lambda ps: b"".join(_delimited(9, _parameters_item(p)) for p in ps), "x-": 10,
    },
    "Operation": {
        "tags": _strs(1), "summary": _str(2), "description": _str(3), "operationId": _str(5),
        "produces": _strs(6), "consumes": _strs(7),
        "parameters": lambda ps: b"".join(_delimited(8, _parameters_item(p)) for p in ps),
        "responses": _msg(9, "Responses"), "schemes": _strs(10), "deprecated": _bool(11), "x-": 13,
    },
    "BodyParameter": {"description": _str(1), "name": _str(2), "in": _str(3), "required": _bool(4),
                      "schema": _msg(5, "Schema"), "x-": 6},
    "QueryParameter": {**_PARAM_COMMON, "allowEmptyValue": _bool(5), "type": _str(6), "format": _str(7),
                       "collectionFormat": _str(9), "default": _any(10), "uniqueItems": _bool(20),
                       "enum": _anys(21), "x-": 23},
    "PathParameter": {**_PARAM_COMMON, "type": _str(5), "format": _str(6), "collectionFormat": _str(8),
                      "default": _any(9), "uniqueItems": _bool(19), "enum": _anys(20), "x-": 22},
    "HeaderParameter": {**_PARAM_COMMON, "type": _str(5), "format": _str(6), "collectionFormat": _str(8),
                        "default": _any(9), "uniqueItems": _bool(19), "enum": _anys(20), "x-": 22},
    "Responses": {"x-": 2, "*": lambda rs: b"".join(_delimited(1, _str(1)(code) + _response_value(r))
                                                    for code, r in rs.items())},
    "Response": {"description": _str(1), "schema": lambda s: _delimited(2, _delimited(1, encode("Schema", s))),
                 "x-": 5},
    "Schema": {
        "$ref": _str(1), "format": _str(2), "title": _str(3), "description": _str(4), "default": _any(5),
        "multipleOf": _double(6), "maximum": _double(7), "exclusiveMaximum": _bool(8), "minimum": _double(9),
        "exclusiveMinimum": _bool(10), "maxLength": _int(11), "minLength": _int(12), "pattern": _str(13),
        "maxItems": _int(14), "minItems": _int(15), "uniqueItems": _bool(16), "maxProperties": _int(17),
        "minProperties": _int(18), "required": _strs(19), "enum": _anys(20),
        "additionalProperties": _additional_properties, "type": _schema_type, "items": _schema_items,
        "allOf": _msgs(24, "Schema"), "properties": _wrapped(25, _named(1, _msg(2, "Schema"))),
        "discriminator": _str(26), "readOnly": _bool(27), "example": _any(30), "x-": 31,
    },
    "SecurityRequirement": {"*": _named(1, lambda names: _delimited(2, _strs(1)(names)))},
    "ApiKeySecurity": {"type": _str(1), "name": _str(2), "in": _str(3), "description": _str(4), "x-": 5},
}


def encode(message: str, obj: dict[str, Any]) -> bytes:
    """``obj`` (a JSON object) as the protobuf message ``message``."""
    fields = MESSAGES[message]
    if "*" in fields:
        rest = {k: v for k, v in obj.items() if not k.startswith("x-")}
        out = [fields["*"](rest)]
    else:
        # Ascending field numbers are not required; gnostic's readers take any order.
        out = [fields[k](v) for k, v in obj.items() if k in fields and not k.startswith("x-")]
    number = fields.get("x-")
    if number is not None:
        out.extend(_delimited(number, _str(1)(k) + _delimited(2, _yaml_any(v)))
                   for k, v in obj.items() if k.startswith("x-"))
    return b"".join(out)


def encode_document(doc: dict[str, Any]) -> bytes:
    return encode("Document", doc)
