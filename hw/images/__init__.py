"""Container images for the simulated Pis, built in pure Python from Debian's busybox-static.

No registry is reachable from a testbed, so images are OCI archives written here
(``oci-layout``, ``index.json``, ``blobs/sha256/...``: one config and one tar.gz layer per image)
and imported into each node's containerd. Builds are deterministic and cached by content::

    from hw import images
    path = images.build_image("localhost/hello", "1", files={"/hello.txt": "hi\\n"},
                              cmd=["cat", "/hello.txt"])
    images.import_archive("/path/to/containerd.sock", path)

The standard images every testbed imports are in ``hw.images.standard``.
"""

from hw.images.builder import DEFAULT_CACHE_DIR, build_archive, build_image
from hw.images.ctr import import_archive
from hw.images.errors import ImageError, ImageImportError
from hw.images.oci import File, ImageSpec, normalize_name
from hw.images.standard import STANDARD_REFS, standard_archive, standard_specs

__all__ = [
    "DEFAULT_CACHE_DIR",
    "STANDARD_REFS",
    "File",
    "ImageError",
    "ImageImportError",
    "ImageSpec",
    "build_archive",
    "build_image",
    "import_archive",
    "normalize_name",
    "standard_archive",
    "standard_specs",
]
