"""``pictl uncordon``: mark nodes schedulable again (see ``cordon_cmd``)."""

from __future__ import annotations

import typer

from master.cli.cordon_cmd import set_nodes
from master.cli.kube import options

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("uncordon")
    @options.kube_command
    def uncordon(
        names: list[str] = typer.Argument(None, metavar="NODE...", help="The nodes to uncordon."),
        selector: str = typer.Option("", "--selector", "-l", help="Uncordon the nodes matching this selector."),
        dry_run: str = typer.Option("none", "--dry-run", help="none or client: only show what would happen."),
        *,
        g: options.Globals,
    ) -> None:
        """Mark nodes as schedulable."""
        set_nodes(g, names or [], selector, cordon=False, dry_run=dry_run not in ("", "none"))
