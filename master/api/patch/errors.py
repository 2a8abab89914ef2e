"""The one error of patch application.

``PatchError.code`` is the HTTP code Kubernetes answers with: 400 for a patch body that is not
a patch (bad JSON, unknown operation, bad directive), 422 for a well-formed patch that does not
apply to the object (a missing path, a failed ``test``).
"""

from __future__ import annotations

__all__ = ["PatchError"]


class PatchError(ValueError):
    def __init__(self, message: str, *, code: int = 400) -> None:
        super().__init__(message)
        self.code = code
