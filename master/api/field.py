"""Field errors, as Kubernetes' ``validation/field`` package reports them.

A validator returns a list of ``FieldError``; an empty list means valid. Each renders the way
the real apiserver prints it, and becomes one ``details.causes`` entry of a 422 Status::

    spec.containers[0].image: Required value
    metadata.name: Invalid value: "Foo": a lowercase RFC 1123 subdomain must consist of ...
    spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"
    spec.containers[1].name: Duplicate value: "web"

Paths are plain strings built with ``child``/``index``/``key``:
``index(child("spec", "containers"), 0)`` is ``spec.containers[0]``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

__all__ = [
    "ErrorType",
    "FieldError",
    "child",
    "duplicate",
    "forbidden",
    "index",
    "internal",
    "invalid",
    "key",
    "not_found",
    "not_supported",
    "required",
    "too_long",
    "too_many",
]


class ErrorType(enum.Enum):
    """The cause ``reason`` on the wire, and the words Kubernetes prints for it."""

    NOT_FOUND = ("FieldValueNotFound", "Not found")
    REQUIRED = ("FieldValueRequired", "Required value")
    DUPLICATE = ("FieldValueDuplicate", "Duplicate value")
    INVALID = ("FieldValueInvalid", "Invalid value")
    NOT_SUPPORTED = ("FieldValueNotSupported", "Unsupported value")
    FORBIDDEN = ("FieldValueForbidden", "Forbidden")
    TOO_LONG = ("FieldValueTooLong", "Too long")
    TOO_MANY = ("FieldValueTooMany", "Too many")
    INTERNAL = ("InternalError", "Internal error")

    @property
    def reason(self) -> str:
        return self.value[0]

    @property
    def words(self) -> str:
        return self.value[1]


# These print without the bad value, as Kubernetes does.
_VALUELESS = {ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.TOO_LONG, ErrorType.INTERNAL}
_OMIT = object()


def _render_value(value: Any) -> str:
    if isinstance(value, str):
        return msgspec.json.encode(value).decode()
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, msgspec.Struct | dict | list):
        try:
            return msgspec.json.encode(value).decode()
        except TypeError:
            return repr(value)
    return repr(value)


@dataclass(frozen=True, slots=True)
class FieldError:
    type: ErrorType
    field: str
    detail: str = ""
    bad_value: Any = _OMIT

    def body(self) -> str:
        """The text after "field: " (Kubernetes' ErrorBody; the cause ``message``)."""
        if self.type in _VALUELESS or self.bad_value is _OMIT:
            text = self.type.words
        else:
            text = f"{self.type.words}: {_render_value(self.bad_value)}"
        return f"{text}: {self.detail}" if self.detail else text

    @property
    def message(self) -> str:
        return self.body()

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}" if self.field else self.body()


def child(path: str, *names: str) -> str:
    for name in names:
        path = f"{path}.{name}" if path else name
    return path


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def key(path: str, k: str) -> str:
    return f"{path}[{k}]"


def required(field: str, detail: str = "") -> FieldError:
    return FieldError(ErrorType.REQUIRED, field, detail)


def invalid(field: str, value: Any, detail: str = "") -> FieldError:
    return FieldError(ErrorType.INVALID, field, detail, value)


def not_supported(field: str, value: Any, supported: Iterable[str]) -> FieldError:
    quoted = ", ".join(_render_value(s) for s in sorted(supported))
    return FieldError(ErrorType.NOT_SUPPORTED, field, f"supported values: {quoted}" if quoted else "", value)


def duplicate(field: str, value: Any) -> FieldError:
    return FieldError(ErrorType.DUPLICATE, field, "", value)


def forbidden(field: str, detail: str) -> FieldError:
    return FieldError(ErrorType.FORBIDDEN, field, detail)


def not_found(field: str, value: Any) -> FieldError:
    return FieldError(ErrorType.NOT_FOUND, field, "", value)


def too_long(field: str, max_length: int) -> FieldError:
    return FieldError(ErrorType.TOO_LONG, field, f"may not be more than {max_length} bytes")


def too_many(field: str, actual: int, limit: int) -> FieldError:
    return FieldError(ErrorType.TOO_MANY, field, f"must have at most {limit} items", actual)


def internal(field: str, detail: str) -> FieldError:
    return FieldError(ErrorType.INTERNAL, field, detail)
