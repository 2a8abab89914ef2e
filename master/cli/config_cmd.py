"""``pictl config``: read and change kubeconfig files, as ``kubectl config`` (no server needed).

::

    pictl config view [--minify] [--raw] [-o json]   the merged config, secrets redacted
    pictl config get-contexts                        CURRENT  NAME  CLUSTER  AUTHINFO  NAMESPACE
    pictl config current-context
    pictl config use-context admin@picluster         Switched to context "admin@picluster".
    pictl config set-context --current --namespace=dev
"""

from __future__ import annotations

from typing import Any

import typer

from master.cli.main import CLIError

__all__ = ["register"]

KUBECONFIG_OPTION = typer.Option(None, "--kubeconfig", help="Path to the kubeconfig file to use.")


def _files(path: str | None) -> list[Any]:
    from master.cli.kube import kubeconfig_edit

    try:
        return kubeconfig_edit.load(path)
    except kubeconfig_edit.EditError as exc:
        raise CLIError(str(exc)) from None


def _write(f: Any) -> None:
    from master.cli.kube import kubeconfig_edit

    try:
        kubeconfig_edit.write(f)
    except kubeconfig_edit.EditError as exc:
        raise CLIError(str(exc)) from None


def register(app: typer.Typer) -> None:
    config = typer.Typer(help="Modify kubeconfig files.", no_args_is_help=True)
    app.add_typer(config, name="config")

    @config.command("view")
    def view(
        minify: bool = typer.Option(False, "--minify", help="Only the current context and what it uses."),
        raw: bool = typer.Option(False, "--raw", help="Show secrets (certificates, keys, tokens)."),
        output_format: str = typer.Option("yaml", "--output", "-o", help="yaml or json."),
        context: str = typer.Option("", "--context", help="With --minify: this context instead of the current."),
        kubeconfig: str | None = KUBECONFIG_OPTION,
    ) -> None:
        """Display the merged kubeconfig settings."""
        from master.cli.kube import kubeconfig_edit, output

        if output_format not in ("yaml", "json"):
            raise CLIError(f'unable to match a printer suitable for the output format "{output_format}", '
                           "allowed formats are: json,yaml")
        doc = kubeconfig_edit.merged(_files(kubeconfig))
        if minify:
            try:
                doc = kubeconfig_edit.minify(doc, context or None)
            except kubeconfig_edit.EditError as exc:
                raise CLIError(str(exc)) from None
        if not raw:
            doc = kubeconfig_edit.redact(doc)
        typer.echo(output.to_yaml(doc) if output_format == "yaml" else output.to_json(doc), nl=False)

    @config.command("get-contexts")
    def get_contexts(
        names: list[str] = typer.Argument(None, metavar="[NAME...]", help="Only these contexts."),
        no_headers: bool = typer.Option(False, "--no-headers", help="Do not print the header row."),
        output_format: str = typer.Option("", "--output", "-o", help="name: only the names."),
        kubeconfig: str | None = KUBECONFIG_OPTION,
    ) -> None:
        """Describe one or many contexts."""
        from master.cli.kube import kubeconfig_edit
        from master.cli.kube.printing import Out

        doc = kubeconfig_edit.merged(_files(kubeconfig))
        contexts = doc.get("contexts") or []
        known = {c.get("name") for c in contexts}
        missing = [n for n in names or [] if n not in known]
        if missing:
            raise CLIError(f'context {missing[0]} not found')
        chosen = [c for c in contexts if not names or c.get("name") in names]
        if output_format == "name":
            for c in chosen:
                typer.echo(c.get("name", ""))
            return
        if output_format:
            raise CLIError(f"output must be one of '' or 'name', not {output_format!r}")
        rows = [] if no_headers else [["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]]
        for c in chosen:
            inner = c.get("context") or {}
            rows.append(["*" if c.get("name") == doc.get("current-context") else "", str(c.get("name", "")),
                         str(inner.get("cluster", "")), str(inner.get("user", "")),
                         str(inner.get("namespace", "") or "")])
        Out().table(rows, header=not no_headers)

    @config.command("current-context")
    def current_context(kubeconfig: str | None = KUBECONFIG_OPTION) -> None:
        """Display the current-context."""
        from master.cli.kube import kubeconfig_edit

        name = kubeconfig_edit.merged(_files(kubeconfig)).get("current-context")
        if not name:
            raise CLIError("current-context is not set")
        typer.echo(name)

    @config.command("use-context")
    def use_context(
        name: str = typer.Argument(..., metavar="CONTEXT", help="The context to make current."),
        kubeconfig: str | None = KUBECONFIG_OPTION,
    ) -> None:
        """Set the current-context in a kubeconfig file."""
        from master.cli.kube import kubeconfig_edit

        files = _files(kubeconfig)
        if kubeconfig_edit.file_defining(files, "contexts", name) is None:
            raise CLIError(f'no context exists with the name: "{name}"')
        target = kubeconfig_edit.current_context_file(files)
        target.doc["current-context"] = name
        _write(target)
        typer.echo(f'Switched to context "{name}".')

    @config.command("set-context")
    def set_context(
        name: str = typer.Argument("", metavar="[NAME]", help="The context to create or change."),
        current: bool = typer.Option(False, "--current", help="Change the current context."),
        namespace: str | None = typer.Option(None, "--namespace", "-n", help="The context's default namespace."),
        cluster: str | None = typer.Option(None, "--cluster", help="The context's cluster."),
        user: str | None = typer.Option(None, "--user", help="The context's user."),
        kubeconfig: str | None = KUBECONFIG_OPTION,
    ) -> None:
        """Set a context entry in kubeconfig (create it if it does not exist)."""
        from master.cli.kube import kubeconfig_edit

        files = _files(kubeconfig)
        if current:
            if name:
                raise CLIError("you cannot specify both a context name and --current")
            name = str(kubeconfig_edit.merged(files).get("current-context") or "")
            if not name:
                raise CLIError("no current context is set")
        if not name:
            raise CLIError("you must specify a non-empty context name or --current")
        target = kubeconfig_edit.file_defining(files, "contexts", name)
        created = target is None
        if target is None:
            target = files[0]
            target.doc.setdefault("contexts", [])
            if target.doc["contexts"] is None:
                target.doc["contexts"] = []
            target.doc["contexts"].append({"name": name, "context": {}})
        entry = next(c for c in target.doc["contexts"] if isinstance(c, dict) and c.get("name") == name)
        inner = dict(entry.get("context") or {})
        for key, value in (("namespace", namespace), ("cluster", cluster), ("user", user)):
            if value is not None:
                if value:
                    inner[key] = value
                else:
                    inner.pop(key, None)
        entry["context"] = inner
        _write(target)
        typer.echo(f'Context "{name}" {"created" if created else "modified"}.')
