"""Errors raised by ``master.client``.

The tree::

    ClientError
    ├── ConfigError            a kubeconfig that cannot be read or resolved (one readable line)
    ├── ConnectionError        the server cannot be reached (refused, unreachable, TLS failure)
    │   └── Timeout            the server did not answer in time
    ├── DecodeError            the server answered with a body we cannot decode
    └── ApiError               the server answered with a Status (code >= 400); ``.status`` holds it
        ├── BadRequest         400 BadRequest
        ├── Unauthorized       401 Unauthorized
        ├── Forbidden          403 Forbidden
        ├── NotFound           404 NotFound
        ├── MethodNotAllowed   405 MethodNotAllowed
        ├── AlreadyExists      409 AlreadyExists
        ├── Conflict           409 Conflict (a stale resourceVersion: re-read and retry)
        ├── Gone               410 Expired / Gone (a too old resourceVersion or continue token: relist)
        ├── Invalid            422 Invalid, with ``.causes`` [(reason, field, message)]
        ├── TooManyRequests    429 TooManyRequests, with ``.retry_after`` seconds
        ├── InternalError      500 InternalError
        ├── ServiceUnavailable 503 ServiceUnavailable
        └── ServerTimeout      504 Timeout, or 500 ServerTimeout

``ApiError`` subclasses are chosen by the Status ``reason`` first and the HTTP code second,
so a 409 with reason AlreadyExists is ``AlreadyExists`` and not ``Conflict``. ``str(exc)`` is
the server's message; ``exc.display`` is kubectl's line: ``Error from server (NotFound): pods "x" not found``.
"""

from __future__ import annotations

import builtins
from typing import Any

__all__ = [
    "AlreadyExists",
    "ApiError",
    "BadRequest",
    "ClientError",
    "ConfigError",
    "Conflict",
    "ConnectionError",
    "DecodeError",
    "Forbidden",
    "Gone",
    "InternalError",
    "Invalid",
    "MethodNotAllowed",
    "NotFound",
    "ServerTimeout",
    "ServiceUnavailable",
    "Timeout",
    "TooManyRequests",
    "Unauthorized",
    "from_status",
]


class ClientError(Exception):
    """Base of every error ``master.client`` raises."""


class ConfigError(ClientError, ValueError):
    """A bad kubeconfig, e.g. ``kubeconfig /x: context "foo" not found``."""


class ConnectionError(ClientError, builtins.ConnectionError):
    """The server could not be reached; the message reads like kubectl's.

    ``The connection to the server 10.77.0.10:6443 was refused - did you specify the right host or port?``
    """

    def __init__(self, message: str, *, server: str = "") -> None:
        super().__init__(message)
        self.server = server

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class Timeout(ConnectionError):
    """No answer within the client's timeout."""


class DecodeError(ClientError):
    """A response body that is not what the API promises (not JSON, wrong shape)."""


class ApiError(ClientError):
    """A Kubernetes ``Status`` failure from the server.

    ``status`` is the decoded Status (a ``master.api`` Struct), or None when the server sent
    no Status (then ``reason`` is derived from ``code``).
    """

    default_reason = "Unknown"

    def __init__(
        self,
        message: str,
        *,
        code: int,
        reason: str = "",
        status: Any = None,
        causes: tuple[tuple[str, str, str], ...] = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason or self.default_reason
        self.status = status
        self.causes = causes
        self.retry_after = retry_after

    @property
    def display(self) -> str:
        return f"Error from server ({self.reason}): {self.message}"


class BadRequest(ApiError):
    default_reason = "BadRequest"


class Unauthorized(ApiError):
    default_reason = "Unauthorized"


class Forbidden(ApiError):
    default_reason = "Forbidden"


class NotFound(ApiError):
    default_reason = "NotFound"


class MethodNotAllowed(ApiError):
    default_reason = "MethodNotAllowed"


class AlreadyExists(ApiError):
    default_reason = "AlreadyExists"


class Conflict(ApiError):
    default_reason = "Conflict"


class Gone(ApiError):
    default_reason = "Expired"


class Invalid(ApiError):
    default_reason = "Invalid"


class TooManyRequests(ApiError):
    default_reason = "TooManyRequests"


class InternalError(ApiError):
    default_reason = "InternalError"


class ServiceUnavailable(ApiError):
    default_reason = "ServiceUnavailable"


class ServerTimeout(ApiError):
    default_reason = "Timeout"


_BY_REASON: dict[str, type[ApiError]] = {
    "BadRequest": BadRequest,
    "Unauthorized": Unauthorized,
    "Forbidden": Forbidden,
    "NotFound": NotFound,
    "MethodNotAllowed": MethodNotAllowed,
    "AlreadyExists": AlreadyExists,
    "Conflict": Conflict,
    "Gone": Gone,
    "Expired": Gone,
    "Invalid": Invalid,
    "TooManyRequests": TooManyRequests,
    "InternalError": InternalError,
    "ServiceUnavailable": ServiceUnavailable,
    "Timeout": ServerTimeout,
    "ServerTimeout": ServerTimeout,
}

_BY_CODE: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    410: Gone,
    422: Invalid,
    429: TooManyRequests,
    500: InternalError,
    503: ServiceUnavailable,
    504: ServerTimeout,
}

# What client-go says when a failure carries no Status of its own.
_CODE_MESSAGES: dict[int, str] = {
    400: "the server rejected our request for an unknown reason",
    401: "the server has asked for the client to provide credentials",
    403: "the server does not allow access to the requested resource",
    404: "the server could not find the requested resource",
    405: "the server does not allow this method on the requested resource",
    409: "the server reported a conflict",
    410: "the server has asked for the client to relist",
    422: "the server rejected our request due to an error in our request",
    429: "the server has received too many requests and has asked us to try again later",
    500: "an error on the server has prevented the request from succeeding",
    503: "the server is currently unable to handle the request",
    504: "the server was unable to return a response in the time allotted, but may still be processing the request",
}


def from_status(status: Any, *, code: int | None = None, retry_after: float | None = None) -> ApiError:
    """The ``ApiError`` for a decoded Status (attributes code, reason, message, details.causes)."""
    st_code = int(getattr(status, "code", 0) or code or 500)
    reason = str(getattr(status, "reason", "") or "")
    message = str(getattr(status, "message", "") or "") or _CODE_MESSAGES.get(
        st_code, f"status code {st_code}"
    )
    details = getattr(status, "details", None)
    causes = tuple(
        (
            str(getattr(c, "reason", "") or ""),
            str(getattr(c, "field", "") or ""),
            str(getattr(c, "message", "") or ""),
        )
        for c in (getattr(details, "causes", None) or ())
    )
    cls = _BY_REASON.get(reason) or _BY_CODE.get(st_code) or ApiError
    return cls(message, code=st_code, reason=reason, status=status, causes=causes, retry_after=retry_after)


def from_code(code: int, body: str = "", *, retry_after: float | None = None) -> ApiError:
    """An ``ApiError`` for a failure without a Status body (a proxy's HTML page, an empty 503)."""
    cls = _BY_CODE.get(code, ApiError)
    message = _CODE_MESSAGES.get(code, f"the server responded with status code {code}")
    body = body.strip()
    if body:
        message = f"{message} ({body.splitlines()[0][:200]})"
    return cls(message, code=code, retry_after=retry_after)
