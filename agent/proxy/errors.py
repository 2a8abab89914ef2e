"""Errors of the service proxy's kernel boundary.

::

    ProxyError
     └── NetfilterError          talking to nf_tables failed
          ├── ApplyError         the kernel rejected a batch (nothing of it was applied)
          └── DumpError          reading the table back failed

Expected outcomes (a Service without endpoints, a port we cannot program) are values in
the model, not exceptions.
"""

from __future__ import annotations

import errno as _errno
import os

__all__ = ["ApplyError", "DumpError", "NetfilterError", "ProxyError"]


class ProxyError(Exception):
    pass


class NetfilterError(ProxyError):
    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno


class ApplyError(NetfilterError):
    """``failures`` lists (what, errno) for every message the kernel refused."""

    def __init__(self, failures: list[tuple[str, int]]) -> None:
        first_what, first_errno = failures[0] if failures else ("batch", _errno.EIO)
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        super().__init__(
            f"nft: {first_what}: {os.strerror(first_errno)} "
            f"({_errno.errorcode.get(first_errno, first_errno)}){more}",
            first_errno,
        )
        self.failures = failures


class DumpError(NetfilterError):
    pass
