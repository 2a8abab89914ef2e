"""``pictl api-resources``: the resource types the cluster serves, with their short names."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("api-resources")
    def api_resources(
        namespaced: str = typer.Option("", "--namespaced", help="true or false: only (non-)namespaced types."),
        output_format: str = typer.Option("", "--output", "-o", help="name: only the names; wide: also the verbs."),
        no_headers: bool = typer.Option(False, "--no-headers", help="Do not print the header row."),
    ) -> None:
        """Print the supported API resources (those of this pictl's registry, which the apiserver serves)."""
        from master.api import registry
        from master.cli.kube.printing import Out
        from master.cli.main import CLIError

        if namespaced not in ("", "true", "false"):
            raise CLIError(f'invalid --namespaced "{namespaced}": want true or false')
        if output_format not in ("", "name", "wide"):
            raise CLIError(f'invalid --output "{output_format}": want name or wide')
        found = [r for r in sorted(registry.DEFAULT.all(), key=lambda r: (r.group, r.plural))
                 if not namespaced or r.namespaced == (namespaced == "true")]
        if output_format == "name":
            for r in found:
                typer.echo(r.group_resource)
            return
        head = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
        if output_format == "wide":
            head.append("VERBS")
        rows = [] if no_headers else [head]
        for r in found:
            row = [r.plural, ",".join(r.short_names), r.api_version, "true" if r.namespaced else "false", r.kind]
            if output_format == "wide":
                row.append(",".join(r.verbs))
            rows.append(row)
        Out().table(rows, header=not no_headers)
