"""``pictl label``: add, change or remove labels (see ``master.cli.kube.labeling``)."""

from __future__ import annotations

import typer

from master.cli.kube import labeling, options, selection, session
from master.cli.main import CLIError

__all__ = ["prepare_argv", "register", "register_changes", "run_changes"]

_BOOL_FLAGS = {"--overwrite": "", "--all": "", "--all-namespaces": "", "--list": ""}


def prepare_argv(argv: list[str]) -> list[str]:
    return options.bool_flags(argv, _BOOL_FLAGS)


def run_changes(
    g: options.Globals, args: list[str], *, labels: bool, filename: list[str], selector: str, all_: bool,
    all_namespaces: bool, overwrite: bool, list_: bool, resource_version: str,
) -> None:
    """What label and annotate share: select the objects, then apply or list the changes."""
    targets, changes = labeling.split_args(args)
    try:
        parsed = labeling.parse_changes(changes, labels=labels)
    except labeling.ChangeError as exc:
        raise CLIError(str(exc)) from None
    if not list_ and not changes:
        raise CLIError(f"at least one {'label' if labels else 'annotation'} update is required")
    sel = selection.Selection(args=targets, filenames=filename, selector=selector, all=all_,
                              all_namespaces=all_namespaces)

    async def body(s: session.Session) -> int:
        try:
            refs = await selection.select(s, sel)
        except selection.SelectionError as exc:
            raise CLIError(str(exc)) from None
        if list_:
            field = "labels" if labels else "annotations"
            for ref in refs:
                obj = ref.obj or await s.rest.get(ref.resource, ref.name, ref.namespace)
                if len(refs) > 1:
                    print(f"Listing {field} for {ref.ref}:")
                for k, v in sorted(((obj.get("metadata") or {}).get(field) or {}).items()):
                    print(f"{k}={v}")
            return 0
        return await labeling.apply_changes(s, refs, parsed, labels=labels, overwrite=overwrite,
                                            resource_version=resource_version)

    session.run(g, body)


def register(app: typer.Typer) -> None:
    register_changes(app, labels=True)


def register_changes(app: typer.Typer, *, labels: bool) -> None:
    """``pictl label`` (``labels``) or ``pictl annotate``: one command, worded for its map."""
    verb, noun = ("Label", "label") if labels else ("Annotate", "annotation")

    @app.command(verb.lower(), help=f"Update the {noun}s on resources.")
    @options.kube_command
    def changes(
        args: list[str] = typer.Argument(None, metavar="TYPE NAME... KEY=VALUE... KEY-...",
                                         help=f"Objects, then {noun} changes (key=value sets, key- removes)."),
        filename: list[str] = typer.Option([], "--filename", "-f", help=f"{verb} the objects these manifests name."),
        selector: str = typer.Option("", "--selector", "-l", help=f"{verb} the objects matching this selector."),
        all_: bool = typer.Option(False, "--all", help="Every object of the type in the namespace."),
        all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="With -l or --all: everywhere."),
        overwrite: bool = typer.Option(False, "--overwrite", help=f"Allow changing {noun}s that have a value."),
        list_: bool = typer.Option(False, "--list", help=f"Print the {noun}s instead of changing them."),
        resource_version: str = typer.Option("", "--resource-version", help="Only if unchanged since this version."),
        *,
        g: options.Globals,
    ) -> None:
        run_changes(g, args or [], labels=labels, filename=filename, selector=selector, all_=all_,
                    all_namespaces=all_namespaces, overwrite=overwrite, list_=list_,
                    resource_version=resource_version)
