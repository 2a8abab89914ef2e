"""The images every testbed node has: pause, busybox, and web:1 / web:2.

- ``localhost/pause:latest`` is the CRI sandbox image: it sleeps until told to stop, and
  stops at once on TERM (a shell is PID 1 of its PID namespace, so it needs the trap).
- ``localhost/busybox:latest`` runs ``sh`` unless the pod says otherwise.
- ``localhost/web:1`` and ``:2`` serve ``<version> <pod name>`` on port 8080 (``/``), and
  ``ok`` at ``/healthz``; the pod name is the sandbox hostname the CRI sets. Two versions make
  rolling updates visible from outside.
"""

from __future__ import annotations

from pathlib import Path

from hw.images.builder import build_archive
from hw.images.oci import File, ImageSpec

__all__ = ["PAUSE", "STANDARD_REFS", "WEB_PORT", "standard_archive", "standard_specs"]

PAUSE = "localhost/pause:latest"
WEB_PORT = 8080
STANDARD_REFS = (PAUSE, "localhost/busybox:latest", "localhost/web:1", "localhost/web:2")

_PAUSE_SCRIPT = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"

_WEB_SCRIPT = """#!/bin/sh
# Answer GET / with "<version> <pod name>"; exit promptly on TERM (this shell is PID 1).
name=${HOSTNAME:-$(hostname)}
mkdir -p /www
echo "$VERSION $name" > /www/index.html
echo ok > /www/healthz
httpd -f -p "${PORT:-8080}" -h /www &
child=$!
trap 'kill $child; exit 0' TERM INT
wait $child
"""


def standard_specs() -> list[ImageSpec]:
    specs = [
        ImageSpec.make("localhost/pause", "latest", entrypoint=["/bin/sh", "-c", _PAUSE_SCRIPT]),
        ImageSpec.make("localhost/busybox", "latest", cmd=["sh"]),
    ]
    for version in ("1", "2"):
        specs.append(ImageSpec.make(
            "localhost/web", version,
            files={"/web.sh": File(_WEB_SCRIPT.encode(), 0o755)},
            entrypoint=["/web.sh"],
            env={"VERSION": version, "PORT": str(WEB_PORT)},
            exposed_ports=[WEB_PORT],
        ))
    return specs


def standard_archive(cache_dir: Path | None = None) -> Path:
    """One archive with all standard images (one import per node)."""
    return build_archive(standard_specs(), cache_dir=cache_dir, label="picluster-standard")
