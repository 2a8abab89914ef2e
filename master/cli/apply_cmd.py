"""``pictl apply -f``: create or update objects from manifests, as ``kubectl apply`` (client-side).

::

    pictl apply -f web.yaml                  pod/web created | configured | unchanged
    pictl apply -f manifests/ -R             every .yaml/.yml/.json below the directory
    cat web.yaml | pictl apply -f -
    pictl apply -f web.yaml --dry-run=server what would happen, nothing written

Each object carries the ``kubectl.kubernetes.io/last-applied-configuration`` annotation; an
update is the three-way strategic merge patch of ``master.cli.kube.threeway``, so kubectl and
pictl can take turns applying the same objects.

What "nothing partial" means here: every file is read and parsed, every kind, namespace and
name checked, and every object's create or patch sent as a server-side dry run *before* the
first real write. Any failure there reports every problem and writes nothing. Objects whose
namespace the same apply creates are validated locally (the server cannot dry-run into a
namespace that does not exist yet). Namespaces are applied first. A failure in the real pass
(another client changed something in between) is reported and the rest are still applied,
as kubectl does.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import typer

from master.cli.kube import options, session
from master.cli.main import CLIError

__all__ = ["register"]

DRY_RUN_MODES = ("none", "client", "server")


@dataclass(slots=True)
class _Plan:
    action: str  # "create", "patch" or "unchanged"
    body: Any  # the object to create or the patch to send
    live: dict[str, Any] | None


def register(app: typer.Typer) -> None:
    @app.command("apply")
    @options.kube_command
    def apply(
        filename: list[str] = typer.Option(
            [], "--filename", "-f", help="Files, directories or - (stdin) with the objects to apply."
        ),
        recursive: bool = typer.Option(False, "--recursive", "-R", help="Process directories recursively."),
        dry_run: str = typer.Option("none", "--dry-run", help="none, client or server: only show what would happen."),
        output_format: str = typer.Option("", "--output", "-o", help="name, yaml or json: print the results."),
        *,
        g: options.Globals,
    ) -> None:
        """Apply a configuration to resources from files or stdin (create or update)."""
        from master.cli.kube import manifests

        mode = dry_run_mode(dry_run)
        if output_format not in ("", "name", "yaml", "json"):
            raise CLIError(f'unable to match a printer suitable for the output format "{output_format}", '
                           "allowed formats are: json,name,yaml")
        if not filename:
            raise CLIError("must specify one of -f and -k")
        try:
            found = manifests.load(filename, recursive=recursive)
        except manifests.ManifestError as exc:
            raise CLIError(str(exc)) from None
        if not found:
            raise CLIError("no objects passed to apply")
        session.run(g, lambda s: _apply(s, found, mode, output_format))


def dry_run_mode(value: str) -> str:
    mode = value.strip().lower() or "none"
    if mode not in DRY_RUN_MODES:
        raise CLIError(f'Invalid dry-run value ({value}). Must be "none", "server", or "client".')
    return mode


async def _plan(s: session.Session, item: Any) -> _Plan:
    """Create (with the annotation) when missing, else the three-way patch against the live object."""
    from master.api.patch.schema import schema_of
    from master.cli.kube import threeway
    from master.client import errors

    modified = threeway.with_last_applied(item.obj)
    try:
        live = await s.rest.get(item.resource, item.name, item.namespace)
    except errors.NotFound:
        return _Plan("create", modified, None)
    patch = threeway.three_way_patch(threeway.original_of(live), modified, live, schema_of(item.resource.type))
    return _Plan("patch" if patch else "unchanged", patch, live)


async def _send(s: session.Session, item: Any, plan: _Plan, *, dry_run: bool) -> dict[str, Any]:
    if plan.action == "create":
        return await s.rest.create(item.resource, item.namespace, plan.body, dry_run=dry_run)
    if plan.action == "patch":
        return await s.rest.patch(item.resource, item.name, item.namespace, plan.body, "strategic", dry_run=dry_run)
    assert plan.live is not None
    return plan.live


def _context(item: Any, plan: _Plan | None) -> str:
    source = item.manifest.source
    if plan is None:
        return f'error when retrieving current configuration of {item.ref} from "{source}"'
    if plan.action == "create":
        return f'error when creating "{source}"'
    return f'error when applying patch to {item.ref} from "{source}"'


async def _check(s: session.Session, items: list[Any], mode: str) -> list[str]:
    """Plan and dry-run every object; the error lines (nothing has been written)."""
    from master.cli.kube import errors as kube_errors
    from master.cli.kube import objects
    from master.client import errors

    problems: list[str] = []
    new_namespaces: set[str] = set()
    for item in items:
        plan: _Plan | None = None
        try:
            plan = await _plan(s, item)
            if item.resource.plural == "namespaces" and plan.action == "create":
                new_namespaces.add(item.name)
            if mode == "client":
                continue
            if plan.action == "create" and item.namespace in new_namespaces:
                local = objects.local_errors(item)
                if local:
                    problems.append(local)
                continue
            await _send(s, item, plan, dry_run=True)
        except errors.ApiError as exc:
            problems.append(kube_errors.api_line(exc, _context(item, plan)))
    return problems


def _ordered(items: list[Any]) -> list[Any]:
    """Namespaces first (objects may come before their namespace in a file), else file order."""
    return sorted(items, key=lambda i: i.resource.plural != "namespaces")


async def _apply(s: session.Session, found: list[Any], mode: str, output_format: str) -> int:
    from master.cli.kube import errors as kube_errors
    from master.cli.kube import objects, output
    from master.client import errors

    try:
        items = objects.resolve(found, namespace=s.namespace, explicit_namespace=s.explicit_namespace)
    except objects.ItemsError as exc:
        for line in exc.lines:
            print(f"error: {line}" if not line.startswith(("The ", "Error from")) else line, file=sys.stderr)
        return 1
    items = _ordered(items)
    problems = await _check(s, items, mode)
    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        return 1
    suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(mode, "")
    code = 0
    results: list[dict[str, Any]] = []
    for item in items:
        plan: _Plan | None = None
        try:
            plan = await _plan(s, item)
            if mode == "client":
                result = plan.body if plan.action == "create" else (plan.live or item.obj)
            else:
                result = await _send(s, item, plan, dry_run=mode == "server")
        except errors.ApiError as exc:
            print(kube_errors.api_line(exc, _context(item, plan)), file=sys.stderr)
            code = 1
            continue
        if plan.action == "patch" and plan.live is not None and _missing_last_applied(plan.live):
            session.warn(
                f"resource {item.resource.plural}/{item.name} is missing the "
                "kubectl.kubernetes.io/last-applied-configuration annotation which is required by pictl "
                "apply. pictl apply should only be used on resources created declaratively by either "
                "pictl create --save-config or pictl apply. The missing annotation will be patched "
                "automatically."
            )
        results.append(output.with_type(item.resource, result))
        if output_format == "name":
            print(item.ref)
        elif not output_format:
            word = {"create": "created", "patch": "configured", "unchanged": "unchanged"}[plan.action]
            print(f"{item.ref} {word}{suffix}")
    if output_format in ("yaml", "json") and results:
        doc = results[0] if len(results) == 1 else output.as_list(results)
        sys.stdout.write(output.to_yaml(doc) if output_format == "yaml" else output.to_json(doc))
    sys.stdout.flush()
    return code


def _missing_last_applied(live: dict[str, Any]) -> bool:
    from master.cli.kube import threeway

    return threeway.original_of(live) is None
