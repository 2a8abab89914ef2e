"""Errors of the apiserver boundary: every one becomes a ``metav1.Status`` on the wire.

The tree::

    ApiError(status)            a request that ends in a Status with code >= 400
                                (400 BadRequest, 401 Unauthorized, 403 Forbidden, 404 NotFound,
                                405 MethodNotAllowed, 406 NotAcceptable, 409 AlreadyExists/Conflict,
                                410 Expired/Gone, 413 RequestEntityTooLarge, 415 UnsupportedMediaType,
                                422 Invalid, 429 TooManyRequests, 500 InternalError, 503, 504 Timeout)

Handlers raise ``ApiError`` to end a request early; the error middleware renders its Status.
Anything else that escapes a handler is a bug: it is logged with its traceback and answered with
a generic 500 InternalError Status, never a traceback on the wire.
"""

from __future__ import annotations

from typing import Any

import msgspec

from master.api import status as api_status
from master.api.meta import Status

__all__ = [
    "ApiError",
    "already_exists",
    "bad_request",
    "conflict",
    "forbidden",
    "gone",
    "internal_error",
    "invalid",
    "method_not_allowed",
    "not_acceptable",
    "not_found",
    "service_unavailable",
    "status",
    "timeout",
    "too_large",
    "too_large_resource_version",
    "unauthorized",
    "unsupported_media_type",
]


def status(
    code: int, reason: str, message: str, *, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure" if code >= 400 else "Success",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        out["details"] = details
    return out


class ApiError(Exception):
    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body.get("message", ""))
        self.body = body

    @property
    def code(self) -> int:
        return int(self.body.get("code", 500))

    @property
    def reason(self) -> str:
        return str(self.body.get("reason", ""))


def _of(st: Status) -> ApiError:
    out = msgspec.to_builtins(st)
    out.setdefault("metadata", {})
    return ApiError(out)


def not_found(resource: str, name: str, group: str = "") -> ApiError:
    return _of(api_status.not_found(resource, name, group=group))


def already_exists(resource: str, name: str, group: str = "") -> ApiError:
    return _of(api_status.already_exists(resource, name, group=group))


def conflict(resource: str, name: str, group: str = "", why: str = "") -> ApiError:
    return _of(api_status.conflict(resource, name, group=group, why=why or api_status.CONFLICT_MODIFIED))


def invalid(kind: str, name: str, causes: list[tuple[str, str, str]], group: str = "") -> ApiError:
    """``causes`` are (reason, field, message) — reason as Kubernetes' FieldValue* types."""
    qualified_kind = f"{kind}.{group}" if group else kind
    rendered = [f"{f}: {m}" if f else m for (_, f, m) in causes]
    summary = rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"
    details: dict[str, Any] = {"name": name, "kind": kind,
                               "causes": [{"reason": r, "message": m, "field": f} for (r, f, m) in causes]}
    if group:
        details["group"] = group
    return ApiError(status(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {summary}', details=details))


def bad_request(message: str) -> ApiError:
    return _of(api_status.bad_request(message))


def unauthorized(message: str = "Unauthorized") -> ApiError:
    return _of(api_status.unauthorized(message))


def forbidden(message: str) -> ApiError:
    return ApiError(status(403, "Forbidden", message))


def method_not_allowed(message: str = "the server does not allow this method on the requested resource") -> ApiError:
    return ApiError(status(405, "MethodNotAllowed", message))


def not_acceptable(message: str) -> ApiError:
    return _of(api_status.not_acceptable(message))


def gone(message: str) -> ApiError:
    """410 Expired: a resourceVersion or continue token older than what is kept."""
    return _of(api_status.expired(message))


def too_large(limit: int) -> ApiError:
    return _of(api_status.too_large(f"the request body is larger than {limit} bytes"))


def unsupported_media_type(content_type: str) -> ApiError:
    return _of(api_status.unsupported_media_type(content_type))


def internal_error(message: str = "an internal error occurred; see the apiserver log") -> ApiError:
    return _of(api_status.internal_error(message))


def service_unavailable(message: str) -> ApiError:
    return _of(api_status.service_unavailable(message))


def timeout(message: str) -> ApiError:
    return _of(api_status.timeout(message))


def too_large_resource_version(requested: int, current: int) -> ApiError:
    """A read at a revision the watch cache has not reached within its wait, as kube-apiserver
    answers it: 504 Timeout, ``retryAfterSeconds`` 1 and the cause ``ResourceVersionTooLarge``
    (client-go's reflector reads that cause and relists from the store)."""
    err = _of(api_status.timeout(f"Too large resource version: {requested}, current: {current}",
                                 retry_after_seconds=1))
    err.body["details"]["causes"] = [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}]
    return err
