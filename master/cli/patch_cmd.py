"""``pictl patch``: change fields of objects with a strategic merge, JSON merge or JSON patch.

::

    pictl patch deploy web -p '{"spec":{"replicas":3}}'
    pictl patch node pi-1 --type=merge -p '{"spec":{"unschedulable":true}}'
    pictl patch pod web --type=json -p '[{"op":"replace","path":"/spec/containers/0/image","value":"busybox:2"}]'
    pictl patch cm web -p '{"data":{"k":"v"}}' -o yaml     # the patched object (json; name: configmap/web)
"""

from __future__ import annotations

import json
import sys

import typer

from master.cli.kube import options, session
from master.cli.main import CLIError

__all__ = ["register"]

_TYPES = {"strategic": "strategic", "merge": "merge", "json": "json"}
_OUTPUTS = ("", "yaml", "json", "name")


def register(app: typer.Typer) -> None:
    @app.command("patch")
    @options.kube_command
    def patch(
        args: list[str] = typer.Argument(None, metavar="TYPE NAME | TYPE/NAME", help="The object to patch."),
        patch_text: str = typer.Option("", "--patch", "-p", help="The patch (JSON or YAML)."),
        patch_file: str = typer.Option("", "--patch-file", help="A file holding the patch."),
        patch_type: str = typer.Option("strategic", "--type", help="strategic, merge or json."),
        subresource: str = typer.Option("", "--subresource", help="status or scale."),
        dry_run: str = typer.Option("none", "--dry-run", help="none or server."),
        output_format: str = typer.Option("", "--output", "-o", help="yaml, json or name: print the results."),
        *,
        g: options.Globals,
    ) -> None:
        """Update fields of a resource using a strategic merge patch, a JSON merge patch, or a JSON patch."""
        from master.cli.kube import resources

        if output_format not in _OUTPUTS:
            raise CLIError(f'unable to match a printer suitable for the output format "{output_format}", '
                           "allowed formats are: json,name,yaml")
        kind = _TYPES.get(patch_type)
        if kind is None:
            raise CLIError(f'--type must be one of strategic, merge or json, not "{patch_type}"')
        if bool(patch_text) == bool(patch_file):
            raise CLIError("exactly one of --patch (-p) and --patch-file is required")
        text = patch_text
        if patch_file:
            try:
                with open(patch_file, encoding="utf-8") as f:
                    text = f.read()
            except OSError as exc:
                raise CLIError(f"error reading {patch_file}: {exc.strerror or exc}") from None
        body = _parse(text)
        if kind == "json" and not isinstance(body, list):
            raise CLIError("a JSON patch (--type=json) is a list of operations")
        if kind != "json" and not isinstance(body, dict):
            raise CLIError(f"a {kind} patch is an object")
        try:
            targets = resources.parse(args or [])
        except resources.ResourceError as exc:
            raise CLIError(str(exc)) from None
        refs = [(t.resource, n) for t in targets for n in t.names]
        if not refs:
            raise CLIError("resource(s) were provided, but no name was specified")
        if subresource not in ("", "status", "scale"):
            raise CLIError(f'--subresource must be status or scale, not "{subresource}"')

        async def run(s: session.Session) -> int:
            from master.cli.kube import errors as kube_errors
            from master.cli.kube import output
            from master.client import errors

            code, printed = 0, 0
            for res, name in refs:
                ns = s.namespace if res.namespaced else ""
                try:
                    before = await s.rest.get(res, name, ns)
                    after = await s.rest.patch(res, name, ns, body, kind,  # type: ignore[arg-type]
                                               subresource=subresource, dry_run=dry_run == "server")
                except errors.ApiError as exc:
                    print(kube_errors.api_line(exc), file=sys.stderr)
                    code = 1
                    continue
                if output_format in ("yaml", "json"):
                    # kubectl's printers: YAML documents after the first open with "---".
                    doc = output.with_type(res, after)
                    text = output.to_json(doc) if output_format == "json" else output.to_yaml(doc)
                    sys.stdout.write(("---\n" if printed and output_format == "yaml" else "") + text)
                    printed += 1
                    continue
                if output_format == "name":
                    print(f"{resources.kind_name(res)}/{name}")
                    continue
                changed = _spec_of(before) != _spec_of(after)
                suffix = " (server dry run)" if dry_run == "server" else ""
                print(f"{resources.kind_name(res)}/{name} {'patched' if changed else 'patched (no change)'}{suffix}")
            return code

        session.run(g, run)


def _spec_of(obj: dict[str, object]) -> dict[str, object]:
    meta = dict(obj.get("metadata") or {})  # type: ignore[call-overload]
    for volatile in ("resourceVersion", "managedFields", "generation"):
        meta.pop(volatile, None)
    return {**obj, "metadata": meta}


def _parse(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        pass
    import yaml

    from master.api import yamlfmt

    try:
        return yamlfmt.load(text)
    except yaml.YAMLError as exc:
        raise CLIError(f"the patch is neither JSON nor YAML: {' '.join(str(exc).split())}") from None
