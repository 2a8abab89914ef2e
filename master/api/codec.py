"""JSON in and out of the API types.

``decode(data, Pod)`` and ``convert(dict, Pod)`` take the fast msgspec path first. Only when
that fails do they take a lenient second pass that does what Go's decoder does for
Kubernetes objects: ``null`` means "unset" (the field's zero value), a missing required field
is its zero value (validation reports it, not the decoder), and a JSON number where a
quantity belongs is that quantity ("cpu: 1"). Unknown fields are dropped either way, which is
how the real apiserver prunes fields it does not serve. Anything still wrong raises
``DecodeError`` with the JSON path of the first bad value::

    >>> decode(b'{"spec": {"containers": [{"name": 1}]}}', Pod)
    Traceback (most recent call last):
    master.api.codec.DecodeError: spec.containers[0].name: Expected `str`, got `int`

``encode(obj)`` always writes apiVersion and kind (``TypeMeta`` fills them in);
``encode_list`` writes a ``<Kind>List`` around items that may be Structs or ``msgspec.Raw``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any, TypeVar

import msgspec
from msgspec import inspect as mi

from master.api.meta import ListMeta, ObjectList, TypeMeta
from master.api.schema import QUANTITY_FORMAT
from master.api.timefmt import format_time

__all__ = [
    "DecodeError",
    "clone",
    "convert",
    "decode",
    "decode_list",
    "encode",
    "encode_list",
    "peek_type_meta",
    "to_builtins",
]

T = TypeVar("T")

_encoder = msgspec.json.Encoder()
_any_decoder = msgspec.json.Decoder()
_type_meta_decoder = msgspec.json.Decoder(TypeMeta)


class DecodeError(ValueError):
    """Bytes or a dict that do not make an object of the wanted type. ``path`` is the JSON path
    of the offending value ("spec.containers[0].name"), "" for the document itself."""

    def __init__(self, detail: str, path: str = "") -> None:
        super().__init__(f"{path}: {detail}" if path else detail)
        self.detail = detail
        self.path = path


_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def _decoder(cls: Any) -> msgspec.json.Decoder[Any]:
    dec = _decoders.get(cls)
    if dec is None:
        dec = _decoders[cls] = msgspec.json.Decoder(cls)
    return dec


def encode(obj: Any) -> bytes:
    return _encoder.encode(obj)


def to_builtins(obj: Any) -> Any:
    """The object as JSON-ready dicts and lists (what patches operate on)."""
    return msgspec.to_builtins(obj)


def decode(data: bytes | str | memoryview, cls: type[T]) -> T:
    try:
        return _decoder(cls).decode(data)
    except msgspec.ValidationError:
        pass
    except msgspec.DecodeError as exc:
        raise DecodeError(f"invalid JSON: {exc}") from None
    return convert(_any_decoder.decode(data), cls)


def convert(obj: Any, cls: type[T]) -> T:
    """Builtins (a patched dict, a YAML document) to an object of ``cls``."""
    try:
        return msgspec.convert(obj, cls)
    except msgspec.ValidationError:
        pass
    try:
        return msgspec.convert(_coerce(obj, _type_info(cls)), cls)
    except msgspec.ValidationError as exc:
        raise _decode_error(exc) from None


_msgpack_encoder = msgspec.msgpack.Encoder()
_msgpack_decoders: dict[Any, msgspec.msgpack.Decoder[Any]] = {}


def clone(obj: T) -> T:
    """A deep copy (through msgpack, which is much faster than ``copy.deepcopy`` for Structs)."""
    cls = type(obj)
    dec = _msgpack_decoders.get(cls)
    if dec is None:
        dec = _msgpack_decoders[cls] = msgspec.msgpack.Decoder(cls)
    return dec.decode(_msgpack_encoder.encode(obj))


def peek_type_meta(data: bytes | str) -> tuple[str, str]:
    """(apiVersion, kind) of a JSON object, without decoding the rest."""
    try:
        tm = _type_meta_decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise _decode_error(exc) from None
    except msgspec.DecodeError as exc:
        raise DecodeError(f"invalid JSON: {exc}") from None
    return tm.api_version, tm.kind


def encode_list(
    items: Iterable[Any],
    *,
    kind: str,
    api_version: str,
    resource_version: str = "",
    continue_: str = "",
    remaining_item_count: int | None = None,
) -> bytes:
    """A ``<kind>`` list (e.g. kind="PodList") of Structs or ``msgspec.Raw`` JSON items."""
    lst: ObjectList[Any] = ObjectList(
        api_version=api_version,
        kind=kind,
        metadata=ListMeta(
            resource_version=resource_version, continue_=continue_, remaining_item_count=remaining_item_count
        ),
        items=list(items),
    )
    return _encoder.encode(lst)


def decode_list(data: bytes | str, item_cls: type[T]) -> ObjectList[T]:
    return decode(data, ObjectList[item_cls])  # type: ignore[valid-type]


def _decode_error(exc: msgspec.ValidationError) -> DecodeError:
    text = str(exc)
    detail, sep, where = text.rpartition(" - at `")
    if not sep:
        return DecodeError(text)
    path = where.rstrip("`")
    path = path[2:] if path.startswith("$.") else path.lstrip("$")
    return DecodeError(detail, path)


# The lenient pass, driven by msgspec's view of the type.


_type_infos: dict[Any, mi.Type] = {}


def _type_info(cls: Any) -> mi.Type:
    info = _type_infos.get(cls)
    if info is None:
        info = _type_infos[cls] = mi.type_info(cls)
    return info


def _accepts_none(t: mi.Type) -> bool:
    if isinstance(t, mi.Metadata):
        return _accepts_none(t.type)
    if isinstance(t, mi.UnionType):
        return any(isinstance(u, mi.NoneType) for u in t.types)
    return isinstance(t, mi.NoneType | mi.AnyType)


def _zero(t: mi.Type) -> Any:
    if isinstance(t, mi.Metadata):
        return _zero(t.type)
    if isinstance(t, mi.StrType):
        return ""
    if isinstance(t, mi.BoolType):
        return False
    if isinstance(t, mi.IntType):
        return 0
    if isinstance(t, mi.FloatType):
        return 0.0
    if isinstance(t, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        return []
    if isinstance(t, mi.DictType):
        return {}
    if isinstance(t, mi.StructType):
        return _coerce({}, t)
    if isinstance(t, mi.UnionType):
        if _accepts_none(t):
            return None
        return _zero(t.types[0])
    return None


def _is_quantity(t: mi.Type) -> bool:
    return isinstance(t, mi.Metadata) and t.extra is not None and t.extra.get("format") == QUANTITY_FORMAT


def _coerce(value: Any, t: mi.Type) -> Any:
    if isinstance(value, _dt.datetime):
        return format_time(value)  # YAML's unquoted timestamps; no API field holds a datetime
    if isinstance(t, mi.Metadata):
        if _is_quantity(t) and isinstance(value, int | float) and not isinstance(value, bool):
            return str(int(value)) if float(value).is_integer() else repr(value)
        return _coerce(value, t.type)
    if isinstance(t, mi.StructType):
        if not isinstance(value, dict):
            return value
        out = dict(value)
        for f in t.fields:
            key = f.encode_name
            if key in out:
                v = out[key]
                if v is None and not _accepts_none(f.type):
                    if f.required:
                        out[key] = _zero(f.type)
                    else:
                        del out[key]
                else:
                    out[key] = _coerce(v, f.type)
            elif f.required:
                out[key] = _zero(f.type)
        return out
    if isinstance(t, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        if isinstance(value, list):
            return [_zero(t.item_type) if v is None else _coerce(v, t.item_type) for v in value]
        return value
    if isinstance(t, mi.DictType):
        if isinstance(value, dict):
            return {k: _zero(t.value_type) if v is None else _coerce(v, t.value_type) for k, v in value.items()}
        return value
    if isinstance(t, mi.UnionType):
        if value is None:
            return value
        for u in t.types:
            if isinstance(u, mi.StructType) and isinstance(value, dict):
                return _coerce(value, u)
            if isinstance(u, mi.Metadata):
                return _coerce(value, u)
        return value
    return value
