"""``pictl scale``: set the replicas of Deployments and ReplicaSets through their ``scale`` subresource.

::

    pictl scale deploy/web --replicas=3               deployment.apps/web scaled
    pictl scale deployment web db --replicas=0
    pictl scale rs/web-5d8f --replicas=1 --current-replicas=2    only if it has 2 now
"""

from __future__ import annotations

import sys
from typing import Any

import msgspec
import typer

from master.cli.kube import options, session
from master.cli.main import CLIError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("scale")
    @options.kube_command
    def scale(
        args: list[str] = typer.Argument(..., metavar="TYPE NAME... | TYPE/NAME...", help="What to scale."),
        replicas: int = typer.Option(..., "--replicas", help="The new number of replicas."),
        current_replicas: int = typer.Option(-1, "--current-replicas",
                                             help="Only scale when the current number is this."),
        *,
        g: options.Globals,
    ) -> None:
        """Set a new size for a Deployment or ReplicaSet."""
        from master.cli.kube import resources

        if replicas < 0:
            raise CLIError("The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0")
        try:
            targets = resources.parse(args)
        except resources.ResourceError as exc:
            raise CLIError(str(exc)) from None
        for t in targets:
            if t.resource.subresource("scale") is None:
                raise CLIError(f"{t.resource.plural} cannot be scaled: they have no scale subresource")
            if not t.names:
                raise CLIError("resource(s) were provided, but no name was specified")
        session.run(g, lambda s: _scale(s, targets, replicas, current_replicas))


async def _scale(s: session.Session, targets: list[Any], replicas: int, current: int) -> int:
    from master.cli.kube import errors as kube_errors
    from master.cli.kube import resources
    from master.cli.kube.rest import decode
    from master.client import errors
    from master.client.rest import resource_path

    code = 0
    for t in targets:
        ns = s.namespace if t.resource.namespaced else ""
        for name in t.names:
            path = resource_path(t.resource, ns, name, "scale")
            try:
                found = decode(await s.api.request("GET", path))
                have = (found.get("spec") or {}).get("replicas", 0)
                if current >= 0 and have != current:
                    print(f"error: Expected replicas to be {current}, was {have}", file=sys.stderr)
                    code = 1
                    continue
                meta = dict(found.get("metadata") or {})
                if current < 0:
                    meta.pop("resourceVersion", None)  # no precondition asked: never a Conflict
                body = {**found, "metadata": meta, "spec": {**(found.get("spec") or {}), "replicas": replicas}}
                await s.api.request("PUT", path, body=msgspec.json.encode(body))
            except errors.ApiError as exc:
                print(kube_errors.api_line(exc), file=sys.stderr)
                code = 1
                continue
            print(f"{resources.kind_name(t.resource)}/{name} scaled")
    return code
