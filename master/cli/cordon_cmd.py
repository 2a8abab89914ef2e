"""``pictl cordon``: mark nodes unschedulable (``spec.unschedulable``); ``uncordon`` undoes it."""

from __future__ import annotations

import sys

import typer

from master.cli.kube import options, session
from master.cli.main import CLIError

__all__ = ["register", "register_command", "set_nodes"]


def set_nodes(g: options.Globals, names: list[str], selector: str, *, cordon: bool, dry_run: bool) -> None:
    """Cordon or uncordon the named (or selected) nodes: "node/pi-1 cordoned"."""
    if not names and not selector:
        raise CLIError("resource(s) were provided, but no name was specified")
    if names and selector:
        raise CLIError("name cannot be provided when a selector is specified")
    word = "cordoned" if cordon else "uncordoned"
    suffix = " (dry run)" if dry_run else ""

    async def body(s: session.Session) -> int:
        from master.cli.kube import drain, resources
        from master.cli.kube import errors as kube_errors
        from master.client import errors

        targets = list(names)
        if selector:
            nodes = await s.rest.items(resources.lookup("nodes"), None, label_selector=selector)
            targets = [str((n.get("metadata") or {}).get("name", "")) for n in nodes]
            if not targets:
                print("No resources found", file=sys.stderr)
        code = 0
        for name in targets:
            try:
                changed = await drain.set_unschedulable(s, name, cordon, dry_run=dry_run)
            except errors.ApiError as exc:
                print(kube_errors.api_line(exc), file=sys.stderr)
                code = 1
                continue
            print(f"node/{name} {word}{suffix}" if changed else f"node/{name} already {word}")
        return code

    session.run(g, body)


def register(app: typer.Typer) -> None:
    register_command(app, cordon=True)


def register_command(app: typer.Typer, *, cordon: bool) -> None:
    """``pictl cordon`` (``cordon``) or ``pictl uncordon``: one command, worded for its way."""
    verb = "cordon" if cordon else "uncordon"

    @app.command(verb, help=f"Mark nodes as {'unschedulable' if cordon else 'schedulable'}.")
    @options.kube_command
    def command(
        names: list[str] = typer.Argument(None, metavar="NODE...", help=f"The nodes to {verb}."),
        selector: str = typer.Option("", "--selector", "-l", help=f"{verb.capitalize()} the nodes matching this selector."),
        dry_run: str = typer.Option("none", "--dry-run", help="none or client: only show what would happen."),
        *,
        g: options.Globals,
    ) -> None:
        set_nodes(g, names or [], selector, cordon=cordon, dry_run=dry_run not in ("", "none"))
