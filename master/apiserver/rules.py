"""The object rules the verbs apply, per resource: prune, default, prepare, validate.

The rules themselves (types, defaults, validation, strategies) belong to ``master.api``; this
module is the seam between the apiserver's dict-shaped request pipeline and them. Objects enter
and leave as JSON dicts; ``Cause`` is (reason, field, message) as in a 422's details.causes.

What the server guarantees whatever the strategy says:

- create: status is dropped for resources with a status subresource; generation is 1.
- update of the main resource: status is the stored one; generation +1 when spec changed.
- update of the status subresource: everything but status (and metadata) is the stored one.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from msgspec import inspect as mi

from master.apiserver import body, errors
from master.apiserver.registry import Served

__all__ = ["Cause", "Rules", "rules_for"]

Cause = tuple[str, str, str]

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME_RESOURCES = frozenset({"namespaces", "services"})

# Metadata fields only the server sets; a client's values are ignored on update.
_SERVER_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation")


def _name_causes(served: Served, name: str) -> list[Cause]:
    if not name:
        return [("FieldValueRequired", "metadata.name", "Required value: name or generateName is required")]
    if served.plural in _LABEL_NAME_RESOURCES:
        if len(name) > 63 or not _DNS1123_LABEL.match(name):
            return [("FieldValueInvalid", "metadata.name",
                     f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of lower case '
                     "alphanumeric characters or '-', and must start and end with an alphanumeric character "
                     "(e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")]
        return []
    if len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        return [("FieldValueInvalid", "metadata.name",
                 f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case '
                 "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character "
                 "(e.g. 'example.com', regex used for validation is "
                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")]
    return []


class Rules:
    """The generic rules; a resource's ``master.api`` strategy refines them."""

    # A PUT to a missing object creates it (Kubernetes: Endpoints, Events, Leases).
    allow_create_on_update = False
    # A PUT without metadata.resourceVersion overwrites whatever is stored.
    allow_unconditional_update = True

    def __init__(self, served: Served) -> None:
        self.served = served
        self.has_status = "status" in served.subresources

    def prune(self, obj: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The object with unknown fields dropped, and the dropped fields' paths."""
        return obj, []

    def prepare_create(self, obj: dict[str, Any]) -> dict[str, Any]:
        if self.has_status:
            obj.pop("status", None)
        obj["metadata"]["generation"] = 1
        return obj

    def validate_create(self, obj: dict[str, Any]) -> list[Cause]:
        return _name_causes(self.served, obj["metadata"].get("name", ""))

    def prepare_update(self, new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
        _keep_server_meta(new, old)
        if self.has_status:
            if "status" in old:
                new["status"] = body.clone(old["status"])
            else:
                new.pop("status", None)
        generation = int(old["metadata"].get("generation") or 1)
        if _spec_of(new) != _spec_of(old):
            generation += 1
        new["metadata"]["generation"] = generation
        return new

    def validate_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
        return []

    def prepare_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
        out = {k: body.clone(v) for k, v in old.items() if k != "status"}
        meta = out["metadata"]
        meta["resourceVersion"] = new["metadata"].get("resourceVersion", "")
        if "status" in new:
            out["status"] = new["status"]
        return out

    def validate_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
        return []


def _spec_of(obj: dict[str, Any]) -> Any:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "kind", "apiVersion")}


def _keep_server_meta(new: dict[str, Any], old: dict[str, Any]) -> None:
    new_meta, old_meta = new["metadata"], old["metadata"]
    for f in _SERVER_META:
        if f in old_meta:
            new_meta[f] = old_meta[f]
        else:
            new_meta.pop(f, None)
    for f in ("name", "namespace"):
        if f in old_meta:
            new_meta[f] = old_meta[f]


class ApiRules(Rules):
    """Rules from a ``master.api`` resource: its Struct type (pruning, type checks) and strategy."""

    def __init__(self, served: Served, resource: Any) -> None:
        super().__init__(served)
        self.resource = resource
        self.type = resource.type
        self.strategy = resource.strategy
        self.has_status = bool(getattr(self.strategy, "has_status", self.has_status))
        self.allow_create_on_update = bool(getattr(self.strategy, "allow_create_on_update", False))
        self.allow_unconditional_update = bool(getattr(self.strategy, "allow_unconditional_update", True))

    def _typed(self, obj: dict[str, Any]) -> Any:
        from master.api import codec

        try:
            return codec.convert(obj, self.type)
        except codec.DecodeError as exc:
            where = f" at {exc.path}" if exc.path else ""
            raise errors.bad_request(
                f'{self.served.kind} in version "{self.served.version}" cannot be handled as a '
                f"{self.served.kind}: {exc.detail}{where}") from exc

    @staticmethod
    def _plain(typed: Any) -> dict[str, Any]:
        from master.api import codec

        out = codec.to_builtins(typed)
        assert isinstance(out, dict)
        return out

    def prune(self, obj: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        unknown: list[str] = []
        _unknown_fields(obj, _type_info(self.type), "", unknown)
        return self._plain(self._typed(obj)), unknown

    def prepare_create(self, obj: dict[str, Any]) -> dict[str, Any]:
        typed = self.strategy.prepare_for_create(self.strategy.default(self._typed(obj)))
        return self._plain(typed)

    def validate_create(self, obj: dict[str, Any]) -> list[Cause]:
        return _causes(self.strategy.validate(self._typed(obj)))

    def prepare_update(self, new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
        typed = self.strategy.prepare_for_update(self.strategy.default(self._typed(new)), self._typed(old))
        return self._plain(typed)

    def validate_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
        return _causes(self.strategy.validate_update(self._typed(new), self._typed(old)))

    def prepare_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
        return self._plain(self.strategy.prepare_for_status_update(self._typed(new), self._typed(old)))

    def validate_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
        return _causes(self.strategy.validate_status_update(self._typed(new), self._typed(old)))


def _causes(field_errors: Any) -> list[Cause]:
    return [(e.type.reason, e.field, e.body()) for e in field_errors]


@functools.cache
def _type_info(cls: Any) -> mi.Type:
    return mi.type_info(cls)


class _Shape:
    """What of a JSON value its type lets us check for unknown fields, compiled once per type:
    a struct's known field names (each with the shape of its value, None for one with nothing
    to check, such as a string or a free-form map), or the shape of a list's or map's items."""

    __slots__ = ("fields", "item", "kind")

    def __init__(self, kind: str) -> None:
        self.kind = kind  # "struct", "list" or "map"
        self.fields: dict[str, _Shape | None] = {}
        self.item: _Shape | None = None


_SHAPES: dict[Any, _Shape] = {}
_SEQUENCES = (mi.ListType, mi.VarTupleType, mi.SetType, mi.FrozenSetType)


def _shape(t: mi.Type) -> _Shape | None:
    if isinstance(t, mi.Metadata):
        t = t.type
    if isinstance(t, mi.UnionType):
        # Only a union's struct member is checked (optional structs: ``Foo | None``).
        structs = [u for u in t.types if isinstance(u, mi.StructType)]
        if not structs:
            return None
        t = structs[0]
    if isinstance(t, mi.StructType):
        shape = _SHAPES.get(t.cls)
        if shape is None:
            # Filed before its fields are compiled: recursive types refer to it.
            shape = _SHAPES[t.cls] = _Shape("struct")
            shape.fields = {f.encode_name: _shape(f.type) for f in t.fields}
        return shape
    if isinstance(t, (*_SEQUENCES, mi.DictType)):
        item = _shape(t.item_type if isinstance(t, _SEQUENCES) else t.value_type)
        if item is None:
            return None
        shape = _Shape("list" if isinstance(t, _SEQUENCES) else "map")
        shape.item = item
        return shape
    return None


def _has_unknown(value: Any, shape: _Shape) -> bool:
    """Whether ``value`` has a field its type does not (the common answer, no, without any paths)."""
    if shape.kind == "struct":
        if type(value) is not dict:
            return False
        fields = shape.fields
        for k, v in value.items():
            if k not in fields:
                return True
            child = fields[k]
            if child is not None and _has_unknown(v, child):
                return True
        return False
    item = shape.item
    assert item is not None
    if shape.kind == "list":
        return type(value) is list and any(_has_unknown(v, item) for v in value)
    return type(value) is dict and any(_has_unknown(v, item) for v in value.values())


def _unknown_paths(value: Any, shape: _Shape, path: str, out: list[str]) -> None:
    if shape.kind == "struct":
        if type(value) is not dict:
            return
        for k, v in value.items():
            child = f"{path}.{k}" if path else str(k)
            if k not in shape.fields:
                out.append(child)
            elif (sub := shape.fields[k]) is not None:
                _unknown_paths(v, sub, child, out)
        return
    item = shape.item
    assert item is not None
    if shape.kind == "list" and type(value) is list:
        for i, v in enumerate(value):
            _unknown_paths(v, item, f"{path}[{i}]", out)
    elif shape.kind == "map" and type(value) is dict:
        for k, v in value.items():
            _unknown_paths(v, item, f"{path}.{k}", out)


def _unknown_fields(value: Any, t: mi.Type, path: str, out: list[str]) -> None:
    """Append the JSON paths of ``value`` that the type ``t`` has no field for."""
    shape = _shape(t)
    if shape is not None and _has_unknown(value, shape):
        _unknown_paths(value, shape, path, out)


_RULES: dict[str, Rules] = {}


def _api_resource(served: Served) -> Any:
    try:
        from master.api.registry import DEFAULT
    except ImportError:
        return None
    return DEFAULT.get(served.group, served.version, served.plural)


def rules_for(served: Served) -> Rules:
    rules = _RULES.get(served.plural)
    if rules is None:
        resource = _api_resource(served)
        rules = ApiRules(served, resource) if resource is not None else Rules(served)
        _RULES[served.plural] = rules
    return rules
