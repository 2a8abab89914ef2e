"""``pictl secrets reencrypt``: rewrite every Secret (and optionally ConfigMap) through the apiserver.

After a key rotation in ``--encryption-provider-config`` (new key first, old key still listed,
apiserver restarted), every stored object is still under the old key; reading and writing it
back stores it under the new one, as ``kubectl get secrets -A -o json | kubectl replace -f -``
does. Each object is read and written back at its resourceVersion (a Conflict re-reads it)::

    pictl secrets reencrypt                      secrets: 42 rewritten
    pictl secrets reencrypt --resources secrets,configmaps
"""

from __future__ import annotations

import sys

import msgspec
import typer

from master.cli.kube import options, session
from master.cli.main import CLIError

__all__ = ["register"]

PATHS = {"secrets": "/api/v1/secrets", "configmaps": "/api/v1/configmaps"}
RETRIES = 5


def register(app: typer.Typer) -> None:
    secrets_app = typer.Typer(help="Secrets at rest.", no_args_is_help=True)
    app.add_typer(secrets_app, name="secrets")

    @secrets_app.command("reencrypt")
    @options.kube_command
    def reencrypt(
        resources: str = typer.Option("secrets", "--resources", help="Comma-separated: secrets, configmaps."),
        *,
        g: options.Globals,
    ) -> None:
        """Rewrite every Secret so it is stored with the first key of the encryption config."""
        names = [r.strip() for r in resources.split(",") if r.strip()]
        unknown = [r for r in names if r not in PATHS]
        if unknown or not names:
            raise CLIError(f"invalid --resources {resources!r}: want secrets and/or configmaps")
        session.run(g, lambda s: _reencrypt(s, names))


async def _rewrite(s: session.Session, list_path: str, item: dict[str, object]) -> bool:
    """True when written; False when it disappeared meanwhile."""
    from master.cli.kube.rest import decode
    from master.client import errors

    meta = item.get("metadata")
    assert isinstance(meta, dict)
    path = f"/api/v1/namespaces/{meta['namespace']}/{list_path.rsplit('/', 1)[1]}/{meta['name']}"
    obj = item
    for _ in range(RETRIES):
        try:
            await s.api.request("PUT", path, body=msgspec.json.encode(obj))
            return True
        except errors.Conflict:
            try:
                obj = decode(await s.api.request("GET", path))
            except errors.NotFound:
                return False
        except errors.NotFound:
            return False
    raise CLIError(f"{path}: too many concurrent changes; run pictl secrets reencrypt again")


async def _reencrypt(s: session.Session, names: list[str]) -> int:
    from master.cli.kube.rest import decode

    for name in names:
        found = decode(await s.api.request("GET", PATHS[name]))
        items = found.get("items") or []
        done = 0
        for item in items:
            kind = name[:-1].capitalize() if name == "secrets" else "ConfigMap"
            item.setdefault("apiVersion", "v1")
            item.setdefault("kind", kind)
            if await _rewrite(s, PATHS[name], item):
                done += 1
        print(f"{name}: {done} rewritten")
        sys.stdout.flush()
    return 0
