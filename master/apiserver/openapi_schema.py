"""OpenAPI schemas of the API types, named as Kubernetes names them.

``Schemas`` walks msgspec Structs (``msgspec.inspect``) and collects one definition per Struct,
named after its Kubernetes package: ``master.api.core.pod.PodSpec`` is
``io.k8s.api.core.v1.PodSpec``, ``master.api.meta.ObjectMeta`` is
``io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta``. Fields keep their JSON names; a field with no
default is required; the ``merge_by``/``MERGE``/``RETAIN_KEYS`` markers of ``master.api.schema``
become ``x-kubernetes-patch-merge-key``/``x-kubernetes-patch-strategy``, which kubectl's
client-side apply reads; top-level kinds carry ``x-kubernetes-group-version-kind``. For example
(Swagger 2.0)::

    "io.k8s.api.core.v1.PodSpec": {
      "type": "object",
      "properties": {
        "containers": {"type": "array", "description": "The containers of the pod. At least one.",
                       "items": {"$ref": "#/definitions/io.k8s.api.core.v1.Container"},
                       "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge"},
        "securityContext": {"$ref": "#/definitions/io.k8s.api.core.v1.PodSecurityContext"},
        ...},
      "required": ["containers"]}

OpenAPI 3.0 ignores the siblings of a ``$ref``, so in ``V3`` a reference that has a description or
a patch strategy is wrapped: ``{"allOf": [{"$ref": ...}], "description": ...}``, as Kubernetes does.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from msgspec import inspect as mi

from master.api.meta import ListMeta, Object, TypeMeta
from master.api.schema import QUANTITY_FORMAT
from master.apiserver import openapi_descriptions as text

__all__ = ["INT_OR_STRING", "QUANTITY", "V2", "V3", "Catalog", "Dialect", "Schemas", "definition_name", "kind_types"]

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
PATCH = f"{META}.Patch"

# Module of our types -> the Kubernetes package its kinds belong to. Every group picluster
# serves is at v1.
PACKAGES = {
    "master.api.meta": META,
    "master.api.core": "io.k8s.api.core.v1",
    "master.api.apps": "io.k8s.api.apps.v1",
    "master.api.authentication": "io.k8s.api.authentication.v1",
    "master.api.authorization": "io.k8s.api.authorization.v1",
    "master.api.autoscaling": "io.k8s.api.autoscaling.v1",
    "master.api.certificates": "io.k8s.api.certificates.v1",
    "master.api.coordination": "io.k8s.api.coordination.v1",
    "master.api.discovery": "io.k8s.api.discovery.v1",
    "master.api.policy": "io.k8s.api.policy.v1",
    "master.api.rbac": "io.k8s.api.rbac.v1",
}

# The string types Kubernetes names, and the body of a PATCH. OpenAPI 3.0 can say "one of these
# types" (kubectl explain then shows the name: <IntOrString>, <map[string]Quantity>); Swagger 2.0
# cannot, so there they are strings.
_DESCRIPTIONS = {
    QUANTITY: ('A quantity of a resource: a number with an optional suffix, e.g. "100m" (0.1 CPU), "1.5", '
               '"128Mi", "1G". Numbers are accepted and kept as strings.'),
    INT_OR_STRING: 'An integer or a string: a port number or a port name, a count or a percentage ("25%").',
    PATCH: ("The body of a PATCH: a JSON patch, a JSON merge patch, a strategic merge patch or an apply "
            "configuration, as its Content-Type says."),
}
_V2_TYPES: dict[str, dict[str, Any]] = {
    QUANTITY: {"type": "string"},
    INT_OR_STRING: {"type": "string", "format": "int-or-string"},
    PATCH: {"type": "object"},
}
_V3_TYPES: dict[str, dict[str, Any]] = {
    QUANTITY: {"oneOf": [{"type": "string"}, {"type": "number"}]},
    INT_OR_STRING: {"format": "int-or-string", "oneOf": [{"type": "integer"}, {"type": "string"}]},
    PATCH: {"type": "object"},
}


@dataclass(frozen=True, slots=True)
class Dialect:
    ref_prefix: str
    # Wrap a $ref that has siblings in allOf (OpenAPI 3.0 ignores siblings of $ref).
    wrap_refs: bool
    special: dict[str, dict[str, Any]]


V2 = Dialect("#/definitions/", wrap_refs=False, special=_V2_TYPES)
V3 = Dialect("#/components/schemas/", wrap_refs=True, special=_V3_TYPES)


def definition_name(cls: type) -> str:
    """``io.k8s.api.core.v1.Pod`` for ``master.api.core.pod.Pod``."""
    module = cls.__module__
    while module:
        package = PACKAGES.get(module)
        if package is not None:
            return f"{package}.{cls.__name__}"
        module = module.rpartition(".")[0]
    return f"io.picluster.{cls.__module__}.{cls.__name__}"


def gvk_of(cls: type) -> dict[str, str] | None:
    """``{"group": "apps", "version": "v1", "kind": "Deployment"}`` for a top-level kind."""
    kind = getattr(cls, "KIND", "")
    if not (isinstance(cls, type) and issubclass(cls, TypeMeta) and kind):
        return None
    group, _, version = cls.API_VERSION.rpartition("/")
    return {"group": group, "kind": kind, "version": version}


def kind_types() -> list[type]:
    """Every top-level kind's Struct (the subclasses of TypeMeta with a KIND) of our type modules.

    The modules are imported first: some (authorization's reviews) are otherwise loaded only
    when first used, and the documents must not depend on what was used before."""
    for module in PACKAGES:
        importlib.import_module(module)
    out: list[type] = []
    stack: list[type] = [TypeMeta]
    while stack:
        cls = stack.pop()
        if getattr(cls, "KIND", ""):
            out.append(cls)
        stack.extend(cls.__subclasses__())
    return out


class Catalog:
    """What building documents needs once, however many it builds: the msgspec type info of
    every kind (one ``multi_type_info`` call shares the nested types) and the field comments."""

    def __init__(self, roots: Iterable[type] = ()) -> None:
        self.comments = text.CommentIndex()
        self._infos: dict[type, mi.StructType] = {}
        self._index(mi.multi_type_info(tuple(roots)))

    def info(self, cls: type) -> mi.StructType:
        found = self._infos.get(cls)
        if found is None:
            self._index(mi.multi_type_info((cls,)))
            found = self._infos[cls]
        return found

    def _index(self, types: Iterable[mi.Type]) -> None:
        stack = list(types)
        while stack:
            t = stack.pop()
            if isinstance(t, mi.StructType):
                if t.cls in self._infos:
                    continue
                self._infos[t.cls] = t
                stack.extend(f.type for f in t.fields)
            elif isinstance(t, mi.Metadata):
                stack.append(t.type)
            elif isinstance(t, mi.UnionType):
                stack.extend(t.types)
            elif isinstance(t, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
                stack.append(t.item_type)
            elif isinstance(t, mi.DictType):
                stack.append(t.value_type)


class Schemas:
    """The definitions reachable from the kinds added so far, in one dialect."""

    def __init__(self, dialect: Dialect, catalog: Catalog | None = None) -> None:
        self.dialect = dialect
        self.catalog = catalog if catalog is not None else Catalog()
        self.definitions: dict[str, dict[str, Any]] = {}
        self._owners: dict[str, type] = {}

    def ref(self, name: str) -> dict[str, Any]:
        return {"$ref": self.dialect.ref_prefix + name}

    def add(self, cls: type) -> str:
        """Add a Struct (and everything it refers to); returns its definition name."""
        name = definition_name(cls)
        if self._owners.get(name) is cls:
            return name
        return self._struct(self.catalog.info(cls))

    def add_special(self, name: str) -> str:
        if name not in self.definitions:
            self.definitions[name] = {"description": _DESCRIPTIONS[name], **self.dialect.special[name]}
        return name

    def add_alias(self, cls: type, *, name: str, gvk: dict[str, str]) -> str:
        """A kind served with another kind's shape (LocalSubjectAccessReview is a SubjectAccessReview)."""
        base = self.definitions[self.add(cls)]
        self.definitions[name] = {"description": text.kind_description(gvk["kind"]),
                                  **{k: v for k, v in base.items() if k != "description"},
                                  "x-kubernetes-group-version-kind": [gvk]}
        return name

    def add_generic(self, *, name: str, gvk: dict[str, str]) -> str:
        """A kind with no Struct of its own: the envelope fields, anything else allowed."""
        schema = self._envelope(self.add(Object))
        schema["description"] = text.kind_description(gvk["kind"])
        schema["x-kubernetes-group-version-kind"] = [gvk]
        self.definitions[name] = schema
        return name

    def add_list(self, item: str, gvk: dict[str, str]) -> str:
        """``PodList`` for ``Pod``: apiVersion, kind, metadata (ListMeta) and items."""
        name = item.rpartition(".")[0] + "." + gvk["kind"]
        if name in self.definitions:
            return name
        list_meta = self.add(ListMeta)
        self.definitions[name] = {
            "description": f"A list of {item.rpartition('.')[2]} objects.",
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string", "description": text.FIELDS[("*", "apiVersion")]},
                "kind": {"type": "string", "description": text.FIELDS[("*", "kind")]},
                "metadata": self._with(self.ref(list_meta), text.FIELDS[("List", "metadata")], {}),
                "items": {"type": "array", "description": text.FIELDS[("List", "items")], "items": self.ref(item)},
            },
            "required": ["items"],
            "x-kubernetes-group-version-kind": [gvk],
        }
        return name

    # -- the walk ------------------------------------------------------------------------------

    def _struct(self, t: mi.StructType) -> str:
        name = definition_name(t.cls)
        owner = self._owners.setdefault(name, t.cls)
        if owner is not t.cls:
            raise ValueError(f"openapi: {owner.__module__}.{owner.__name__} and {t.cls.__module__}."
                             f"{t.cls.__name__} would both be named {name}")
        if name in self.definitions:
            return name
        schema: dict[str, Any] = {}
        self.definitions[name] = schema  # before the fields: types may refer to themselves
        description = text.kind_description(t.cls.__name__ if gvk_of(t.cls) else "", t.cls)
        if description:
            schema["description"] = description
        schema["type"] = "object"
        schema["properties"] = {f.encode_name: self._field(t.cls, f) for f in t.fields}
        required = [f.encode_name for f in t.fields if f.required]
        if required:
            schema["required"] = required
        gvk = gvk_of(t.cls)
        if gvk is not None:
            schema["x-kubernetes-group-version-kind"] = [gvk]
        return name

    def _envelope(self, object_name: str) -> dict[str, Any]:
        base = self.definitions[object_name]
        return {"type": "object", "properties": dict(base["properties"]), "x-kubernetes-preserve-unknown-fields": True}

    def _field(self, owner: type, f: mi.Field) -> dict[str, Any]:
        extensions: dict[str, Any] = {}
        inner = f.type
        while isinstance(inner, mi.Metadata):
            extra = inner.extra or {}
            if "patchMergeKey" in extra:
                extensions["x-kubernetes-patch-merge-key"] = extra["patchMergeKey"]
            if "patchStrategy" in extra:
                extensions["x-kubernetes-patch-strategy"] = extra["patchStrategy"]
            if extra.get("format") == QUANTITY_FORMAT:
                break
            inner = inner.type
        schema = self._value(inner)
        return self._with(schema, self._description(owner, f, schema), extensions)

    def _description(self, owner: type, f: mi.Field, schema: dict[str, Any]) -> str:
        found = text.FIELDS.get((owner.__name__, f.encode_name))
        if found is None and issubclass(owner, Object):
            found = text.FIELDS.get(("*", f.encode_name))
        if found is None:
            found = self.catalog.comments.field(owner, f.name)
        if not found and "$ref" in schema:
            found = self.definitions.get(schema["$ref"].rpartition("/")[2], {}).get("description", "")
        return found or ""

    def _with(self, schema: dict[str, Any], description: str, extensions: dict[str, Any]) -> dict[str, Any]:
        if not description and not extensions:
            return schema
        schema = {"allOf": [schema]} if "$ref" in schema and self.dialect.wrap_refs else dict(schema)
        if description:
            schema["description"] = description
        schema.update(extensions)
        return schema

    def _value(self, t: mi.Type) -> dict[str, Any]:
        if isinstance(t, mi.Metadata):
            if (t.extra or {}).get("format") == QUANTITY_FORMAT:
                return self.ref(self.add_special(QUANTITY))
            return self._value(t.type)
        if isinstance(t, mi.UnionType):
            members = [m for m in t.types if not isinstance(m, mi.NoneType)]
            if len(members) == 1:
                return self._value(members[0])
            if {type(m) for m in members} == {mi.IntType, mi.StrType}:
                return self.ref(self.add_special(INT_OR_STRING))
            return {}
        if isinstance(t, mi.StructType):
            return self.ref(self._struct(t))
        if isinstance(t, mi.StrType):
            return {"type": "string"}
        if isinstance(t, mi.BoolType):
            return {"type": "boolean"}
        if isinstance(t, mi.IntType):
            return {"type": "integer", "format": "int32" if t.le == 2**31 - 1 else "int64"}
        if isinstance(t, mi.FloatType):
            return {"type": "number", "format": "double"}
        if isinstance(t, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
            return {"type": "array", "items": self._value(t.item_type)}
        if isinstance(t, mi.DictType):
            return {"type": "object", "additionalProperties": self._value(t.value_type)}
        if isinstance(t, mi.LiteralType):
            return {"type": "string", "enum": [str(v) for v in t.values]}
        # Any and raw JSON: anything goes.
        return {}
