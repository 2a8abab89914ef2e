"""``pictl version``: the client's version and, when a cluster is configured, the server's.

::

    $ pictl version
    picluster 0.1.0 (python 3.11.7)
    Server Version: v1.32.0+picluster-0.1.0

Without a kubeconfig (or with ``--client``) only the first line is printed. A configured
server that cannot be reached is an error after the client line, as in kubectl.
"""

from __future__ import annotations

import platform

import typer

import master
from master.cli.kube import options

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("version")
    @options.kube_command
    def version(
        client: bool = typer.Option(False, "--client", help="Only the client version (no server needed)."),
        *,
        g: options.Globals,
    ) -> None:
        """Print the picluster version (and the server's, when a cluster is configured)."""
        typer.echo(f"picluster {master.__version__} (python {platform.python_version()})")
        if client or not _configured(g):
            return

        from master.cli.kube import session

        async def server(s: session.Session) -> int:
            from master.cli.kube.rest import decode

            info = decode(await s.rest.raw("/version"))
            typer.echo(f"Server Version: {info.get('gitVersion', '<unknown>')}")
            return 0

        session.run(g, server)


def _configured(g: options.Globals) -> bool:
    """A kubeconfig or server is given, or one of the default kubeconfig files exists."""
    import os

    from master.client import kubeconfig

    if g.kubeconfig or g.server:
        return True
    return any(os.path.exists(p) for p in kubeconfig.default_paths())
