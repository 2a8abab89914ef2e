"""Errors of the store boundary.

The tree::

    StoreError                      anything the store refuses or cannot do
    ├── InvalidRequestError         the request is malformed (gRPC INVALID_ARGUMENT)
    │   ├── EmptyKeyError           "etcdserver: key is not provided"
    │   ├── RequestTooLargeError    "etcdserver: request is too large" (> 1.5 MiB)
    │   ├── TooManyOpsError         "etcdserver: too many operations in txn request" (> 128)
    │   ├── DuplicateKeyError       "etcdserver: duplicate key given in txn request"
    │   ├── KeyNotFoundError        "etcdserver: key not found" (put ignore_value/ignore_lease of a missing key)
    │   ├── ValueProvidedError      "etcdserver: value is provided" (put ignore_value with a value)
    │   └── LeaseProvidedError      "etcdserver: lease is provided" (put ignore_lease with a lease)
    ├── CompactedError              "mvcc: required revision has been compacted" (.compact_revision)
    ├── FutureRevisionError         "mvcc: required revision is a future revision"
    ├── LeaseNotFoundError          "etcdserver: requested lease not found"
    ├── LeaseExistsError            "etcdserver: lease already exists"
    ├── LeaseTTLTooLargeError       "etcdserver: too large lease TTL" (> 9,000,000,000 s)
    ├── WatcherCanceledError        a watch was cancelled by the server (slow consumer, shutdown)
    └── UnavailableError            the store cannot be reached or is shutting down

``message`` is the exact text etcd uses, so etcdctl prints the same thing against our store as
against etcd. The gRPC service maps each class to etcd's status code; the gRPC client maps
etcd's status back to these classes (``raise ... from`` the ``grpc.aio.AioRpcError``).
"""

from __future__ import annotations

__all__ = [
    "CompactedError",
    "DuplicateKeyError",
    "EmptyKeyError",
    "FutureRevisionError",
    "InvalidRequestError",
    "KeyNotFoundError",
    "LeaseExistsError",
    "LeaseNotFoundError",
    "LeaseProvidedError",
    "LeaseTTLTooLargeError",
    "RequestTooLargeError",
    "StoreError",
    "TooManyOpsError",
    "UnavailableError",
    "ValueProvidedError",
    "WatcherCanceledError",
]


class StoreError(Exception):
    message = "etcdserver: unknown error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message


class InvalidRequestError(StoreError):
    message = "etcdserver: invalid request"


class EmptyKeyError(InvalidRequestError):
    message = "etcdserver: key is not provided"


class RequestTooLargeError(InvalidRequestError):
    message = "etcdserver: request is too large"


class TooManyOpsError(InvalidRequestError):
    message = "etcdserver: too many operations in txn request"


class DuplicateKeyError(InvalidRequestError):
    message = "etcdserver: duplicate key given in txn request"


class KeyNotFoundError(InvalidRequestError):
    message = "etcdserver: key not found"


class ValueProvidedError(InvalidRequestError):
    message = "etcdserver: value is provided"


class LeaseProvidedError(InvalidRequestError):
    message = "etcdserver: lease is provided"


class CompactedError(StoreError):
    message = "etcdserver: mvcc: required revision has been compacted"

    def __init__(self, compact_revision: int, message: str | None = None) -> None:
        super().__init__(message)
        self.compact_revision = compact_revision


class FutureRevisionError(StoreError):
    message = "etcdserver: mvcc: required revision is a future revision"


class LeaseNotFoundError(StoreError):
    message = "etcdserver: requested lease not found"


class LeaseExistsError(StoreError):
    message = "etcdserver: lease already exists"


class LeaseTTLTooLargeError(StoreError):
    message = "etcdserver: too large lease TTL"


class WatcherCanceledError(StoreError):
    message = "etcdserver: watch canceled"


class UnavailableError(StoreError):
    message = "etcdserver: unavailable"
