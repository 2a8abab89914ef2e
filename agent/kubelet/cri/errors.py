"""Errors of the container runtime boundary.

The tree::

    CRIError                        anything the runtime refuses or cannot do (.code: gRPC code name)
    ├── NotFoundError               no sandbox, container or image with that id (NOT_FOUND)
    ├── AlreadyExistsError          a sandbox or container name (metadata + attempt) is taken
    ├── FailedPreconditionError     the object is in the wrong state (start a running container,
    │                               exec in an exited one)
    ├── InvalidArgumentError        the request is malformed (empty image, bad config)
    ├── DeadlineExceededError       the call (or an exec's own timeout) ran out of time
    ├── UnavailableError            the runtime cannot be reached (socket missing, containerd down)
    └── ImagePullError              a pull failed: the kubelet's ErrImagePull (registry unreachable,
                                    no such image, unpack failure); ``.image`` is the reference

``message`` is the runtime's own text, so events and pod statuses show what containerd said.
The containerd client maps ``grpc.aio.AioRpcError`` to these classes with ``raise ... from``;
the fake raises the same classes for the same situations (the contract suite checks both).
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "CRIError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "ImagePullError",
    "InvalidArgumentError",
    "NotFoundError",
    "UnavailableError",
]


class CRIError(Exception):
    code = "UNKNOWN"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFoundError(CRIError):
    code = "NOT_FOUND"


class AlreadyExistsError(CRIError):
    code = "ALREADY_EXISTS"


class FailedPreconditionError(CRIError):
    code = "FAILED_PRECONDITION"


class InvalidArgumentError(CRIError):
    code = "INVALID_ARGUMENT"


class DeadlineExceededError(CRIError):
    code = "DEADLINE_EXCEEDED"


class UnavailableError(CRIError):
    code = "UNAVAILABLE"


class ImagePullError(CRIError):
    """ErrImagePull: the kubelet turns repeated ones into ImagePullBackOff."""

    def __init__(self, image: str, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.image = image
