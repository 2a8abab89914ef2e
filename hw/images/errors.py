"""Errors of the image builder.

The tree::

    ImageError              a spec the builder refuses (bad name, tag or path; missing busybox)
    └── ImageImportError    containerd refused an archive, or could not be reached
"""

from __future__ import annotations

__all__ = ["ImageError", "ImageImportError"]


class ImageError(Exception):
    pass


class ImageImportError(ImageError):
    pass
