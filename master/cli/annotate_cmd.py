"""``pictl annotate``: add, change or remove annotations (see ``master.cli.kube.labeling``)."""

from __future__ import annotations

import typer

from master.cli.kube import options
from master.cli.label_cmd import prepare_argv, run_changes

__all__ = ["prepare_argv", "register"]


def register(app: typer.Typer) -> None:
    @app.command("annotate")
    @options.kube_command
    def annotate(
        args: list[str] = typer.Argument(None, metavar="TYPE NAME... KEY=VALUE... KEY-...",
                                         help="Objects, then annotation changes (key=value sets, key- removes)."),
        filename: list[str] = typer.Option([], "--filename", "-f", help="Annotate the objects these manifests name."),
        selector: str = typer.Option("", "--selector", "-l", help="Annotate the objects matching this selector."),
        all_: bool = typer.Option(False, "--all", help="Every object of the type in the namespace."),
        all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="With -l or --all: everywhere."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Allow changing annotations that have a value."),
        list_: bool = typer.Option(False, "--list", help="Print the annotations instead of changing them."),
        resource_version: str = typer.Option("", "--resource-version", help="Only if unchanged since this version."),
        *,
        g: options.Globals,
    ) -> None:
        """Update the annotations on resources."""
        run_changes(g, args or [], labels=False, filename=filename, selector=selector, all_=all_,
                    all_namespaces=all_namespaces, overwrite=overwrite, list_=list_,
                    resource_version=resource_version)
