"""metav1.Status builders, with the codes, reasons and messages Kubernetes uses.

Each returns a ``Status`` value; raise ``StatusError(status)`` where an exception is wanted.
``resource`` is the plural resource name ("pods"), ``group`` its API group ("" for core), so
messages read exactly as kubectl shows them::

    Error from server (NotFound): pods "x" not found
    Error from server (NotFound): deployments.apps "web" not found
    Error from server (Conflict): Operation cannot be fulfilled on pods "x": the object has been
        modified; please apply your changes to the latest version and try again
    Error from server (Invalid): Pod "x" is invalid: spec.containers[0].image: Required value
"""

from __future__ import annotations

from collections.abc import Sequence

from master.api.field import FieldError
from master.api.meta import Status, StatusCause, StatusDetails

__all__ = [
    "StatusError",
    "already_exists",
    "bad_request",
    "conflict",
    "expired",
    "forbidden",
    "gone",
    "internal_error",
    "invalid",
    "method_not_allowed",
    "not_acceptable",
    "not_found",
    "server_timeout",
    "service_unavailable",
    "success",
    "timeout",
    "too_large",
    "too_many_requests",
    "too_old_resource_version",
    "unauthorized",
    "unsupported_media_type",
]

CONFLICT_MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"


class StatusError(Exception):
    """An expected failure carried as its Status (``.status``)."""

    def __init__(self, status: Status) -> None:
        super().__init__(status.message)
        self.status = status

    @property
    def code(self) -> int:
        return self.status.code

    @property
    def reason(self) -> str:
        return self.status.reason


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def _failure(code: int, reason: str, message: str, details: StatusDetails | None = None) -> Status:
    return Status(status="Failure", code=code, reason=reason, message=message, details=details)


def success(*, name: str = "", resource: str = "", group: str = "", uid: str = "") -> Status:
    """What a DELETE returns when the object is gone at once."""
    return Status(status="Success", details=StatusDetails(name=name, group=group, kind=resource, uid=uid))


def not_found(resource: str, name: str, *, group: str = "") -> Status:
    return _failure(
        404,
        "NotFound",
        f'{_qualified(resource, group)} "{name}" not found',
        StatusDetails(name=name, group=group, kind=resource),
    )


def already_exists(resource: str, name: str, *, group: str = "") -> Status:
    return _failure(
        409,
        "AlreadyExists",
        f'{_qualified(resource, group)} "{name}" already exists',
        StatusDetails(name=name, group=group, kind=resource),
    )


def conflict(resource: str, name: str, *, group: str = "", why: str = CONFLICT_MODIFIED) -> Status:
    return _failure(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": {why}',
        StatusDetails(name=name, group=group, kind=resource),
    )


def invalid(kind: str, name: str, errors: Sequence[FieldError], *, group: str = "") -> Status:
    """422 Invalid: ``Pod "x" is invalid: [a: Required value, b: Invalid value: ...]``."""
    rendered: list[str] = []
    for e in errors:
        text = str(e)
        if text not in rendered:
            rendered.append(text)
    summary = rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"
    qualified_kind = f"{kind}.{group}" if group else kind
    causes = [StatusCause(reason=e.type.reason, message=e.body(), field=e.field) for e in errors]
    return _failure(
        422,
        "Invalid",
        f'{qualified_kind} "{name}" is invalid: {summary}',
        StatusDetails(name=name, group=group, kind=kind, causes=causes),
    )


def bad_request(message: str) -> Status:
    return _failure(400, "BadRequest", message)


def unauthorized(message: str = "Unauthorized") -> Status:
    return _failure(401, "Unauthorized", message)


def forbidden(resource: str, name: str, reason: str, *, group: str = "") -> Status:
    """``pods "x" is forbidden: <reason>`` (or ``pods is forbidden: ...`` without a name)."""
    subject = f'{_qualified(resource, group)} "{name}"' if name else _qualified(resource, group)
    return _failure(
        403, "Forbidden", f"{subject} is forbidden: {reason}", StatusDetails(name=name, group=group, kind=resource)
    )


def method_not_allowed(resource: str, action: str, *, group: str = "") -> Status:
    """``create is not supported on resources of kind "pods/log"``."""
    return _failure(
        405,
        "MethodNotAllowed",
        f'{action} is not supported on resources of kind "{_qualified(resource, group)}"',
        StatusDetails(group=group, kind=resource),
    )


def not_acceptable(message: str) -> Status:
    return _failure(406, "NotAcceptable", message)


def gone(message: str) -> Status:
    return _failure(410, "Gone", message)


def expired(message: str) -> Status:
    """410 Expired: a resourceVersion or continue token older than the store keeps."""
    return _failure(410, "Expired", message)


def too_old_resource_version(requested: int | str, oldest: int | str) -> Status:
    """What a watch from a compacted revision gets: ``too old resource version: 5 (10)``."""
    return expired(f"too old resource version: {requested} ({oldest})")


def too_large(message: str = "") -> Status:
    return _failure(
        413, "RequestEntityTooLarge", f"Request entity too large: {message}" if message else "Request entity too large"
    )


def unsupported_media_type(content_type: str) -> Status:
    return _failure(415, "UnsupportedMediaType", f'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got "{content_type}")')


def too_many_requests(message: str, *, retry_after_seconds: int = 0) -> Status:
    return _failure(429, "TooManyRequests", message, StatusDetails(retry_after_seconds=retry_after_seconds))


def internal_error(message: str) -> Status:
    return _failure(
        500,
        "InternalError",
        f"Internal error occurred: {message}",
        StatusDetails(causes=[StatusCause(message=message)]),
    )


def server_timeout(resource: str, operation: str, *, retry_after_seconds: int = 0, group: str = "") -> Status:
    return _failure(
        500,
        "ServerTimeout",
        f"The {operation} operation against {_qualified(resource, group)} could not be completed at this time, "
        "please try again.",
        StatusDetails(group=group, kind=resource, retry_after_seconds=retry_after_seconds),
    )


def service_unavailable(message: str) -> Status:
    return _failure(503, "ServiceUnavailable", message)


def timeout(message: str, *, retry_after_seconds: int = 0) -> Status:
    details = StatusDetails(retry_after_seconds=retry_after_seconds) if retry_after_seconds else None
    return _failure(504, "Timeout", f"Timeout: {message}", details)
