"""Image references, normalised the way containerd's CRI (and docker) normalise them.

    busybox                      -> docker.io/library/busybox:latest
    busybox:1.36                 -> docker.io/library/busybox:1.36
    team/app                     -> docker.io/team/app:latest
    localhost/pause              -> localhost/pause:latest
    10.77.0.1:5000/web:2         -> 10.77.0.1:5000/web:2
    web@sha256:<64 hex>          -> docker.io/library/web@sha256:<64 hex>
    sha256:<64 hex>              -> sha256:<64 hex>   (an image id, left alone)

The first path component is a registry host when it has a "." or a ":" or is "localhost".
A pod's ``image`` and the runtime's ``repo_tags`` compare equal only after this.
"""

from __future__ import annotations

import re

from agent.kubelet.cri.errors import InvalidArgumentError

__all__ = ["is_image_id", "normalize_image"]

_ID = re.compile(r"^(sha256:)?[0-9a-f]{64}$")
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_DOMAIN = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?$"
)
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")


def is_image_id(ref: str) -> bool:
    return bool(_ID.match(ref))


def normalize_image(ref: str) -> str:
    """The fully qualified form of ``ref``; InvalidArgumentError with the reason if it is malformed."""
    if is_image_id(ref):
        return ref if ref.startswith("sha256:") else f"sha256:{ref}"
    if not ref or ref != ref.strip() or any(c.isspace() for c in ref):
        raise InvalidArgumentError(f"invalid image reference {ref!r}: empty or contains whitespace")
    name, _, digest = ref.partition("@")
    tag: str | None = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        domain, path = first, rest
    else:
        domain, path = "docker.io", name
    if not _DOMAIN.match(domain):
        raise InvalidArgumentError(f"invalid image reference {ref!r}: bad registry host {domain!r}")
    if domain == "index.docker.io":
        domain = "docker.io"
    if domain == "docker.io" and "/" not in path:
        path = f"library/{path}"
    for component in path.split("/"):
        if not _PATH_COMPONENT.match(component):
            raise InvalidArgumentError(
                f"invalid image reference {ref!r}: repository name must be lowercase letters, digits and separators"
            )
    if tag is not None and not _TAG.match(tag):
        raise InvalidArgumentError(f"invalid image reference {ref!r}: bad tag {tag!r}")
    if digest:
        if not _DIGEST.match(digest):
            raise InvalidArgumentError(f"invalid image reference {ref!r}: bad digest {digest!r}")
        return f"{domain}/{path}{':' + tag if tag else ''}@{digest}"
    return f"{domain}/{path}:{tag or 'latest'}"
