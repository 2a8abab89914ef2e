"""``pictl create``: create objects from manifests, or a few kinds from flags, as kubectl does.

::

    pictl create -f web.yaml                           pod/web created
    pictl create namespace dev                         namespace/dev created
    pictl create deployment web --image=busybox --replicas=2
    pictl create configmap cfg --from-literal=a=1 --from-file=app.conf
    pictl create secret generic pw --from-literal=password=s3cret
    pictl create serviceaccount robot

Like ``apply``, every object is checked first (a server-side dry run, local validation for
objects in namespaces the same command creates): one bad object fails the command with
nothing created. ``--save-config`` records the last-applied annotation so ``apply`` can take
over later.
"""

from __future__ import annotations

import base64
import os
import sys
from typing import Any

import typer

from master.cli.kube import options, session
from master.cli.main import CLIError

__all__ = ["register"]

_KINDS = {
    "namespace": "namespace", "ns": "namespace",
    "deployment": "deployment", "deploy": "deployment",
    "configmap": "configmap", "cm": "configmap",
    "secret": "secret",
    "serviceaccount": "serviceaccount", "sa": "serviceaccount",
}
_BOOL_FLAGS = {"--save-config": "", "--recursive": ""}
FLAGS = "<flags>"  # the source of an object built from the command line


def prepare_argv(argv: list[str]) -> list[str]:
    return options.bool_flags(argv, _BOOL_FLAGS)


def register(app: typer.Typer) -> None:
    @app.command("create")
    @options.kube_command
    def create(
        args: list[str] = typer.Argument(
            None, metavar="[namespace|deployment|configmap|secret generic|serviceaccount NAME]",
            help="Create one object of a kind from flags instead of -f.",
        ),
        filename: list[str] = typer.Option([], "--filename", "-f", help="Files, directories or - with objects."),
        recursive: bool = typer.Option(False, "--recursive", "-R", help="Process directories recursively."),
        image: list[str] = typer.Option([], "--image", help="deployment: the container image(s)."),
        replicas: int = typer.Option(1, "--replicas", help="deployment: the number of replicas."),
        port: int = typer.Option(0, "--port", help="deployment: the port the container exposes."),
        from_literal: list[str] = typer.Option([], "--from-literal", help="configmap/secret: KEY=VALUE."),
        from_file: list[str] = typer.Option([], "--from-file", help="configmap/secret: [KEY=]PATH."),
        dry_run: str = typer.Option("none", "--dry-run", help="none, client or server."),
        output_format: str = typer.Option("", "--output", "-o", help="name, yaml or json: print the results."),
        save_config: bool = typer.Option(False, "--save-config", help="Record the last-applied annotation."),
        *,
        g: options.Globals,
    ) -> None:
        """Create resources from files or stdin, or one object of a simple kind."""
        from master.cli import apply_cmd
        from master.cli.kube import manifests

        mode = apply_cmd.dry_run_mode(dry_run)
        if output_format not in ("", "name", "yaml", "json"):
            raise CLIError(f'unable to match a printer suitable for the output format "{output_format}", '
                           "allowed formats are: json,name,yaml")
        if filename and args:
            raise CLIError("when -f is given, no kind and name may be given")
        if args:
            doc = _generated(args, image=image, replicas=replicas, port=port, literals=from_literal,
                             files=from_file)
            found = [manifests.Manifest(FLAGS, 1, 1, doc)]
        elif filename:
            try:
                found = manifests.load(filename, recursive=recursive)
            except manifests.ManifestError as exc:
                raise CLIError(str(exc)) from None
        else:
            raise CLIError("must specify one of -f and -k, or a kind and a name")
        if not found:
            raise CLIError("no objects passed to create")
        session.run(g, lambda s: _create(s, found, mode, output_format, save_config))


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        key, eq, value = v.partition("=")
        if not eq or not key:
            raise CLIError(f'invalid {flag} "{v}": want KEY=VALUE')
        if key in out:
            raise CLIError(f'cannot add key "{key}", another key by that name already exists')
        out[key] = value
    return out


def _files(values: list[str]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for v in values:
        key, eq, path = v.partition("=")
        if not eq:
            key, path = os.path.basename(v), v
        try:
            with open(path, "rb") as f:
                out[key] = f.read()
        except OSError as exc:
            raise CLIError(f"error reading {path}: {exc.strerror or exc}") from None
    return out


def _generated(
    args: list[str], *, image: list[str], replicas: int, port: int, literals: list[str], files: list[str]
) -> dict[str, Any]:
    kind = _KINDS.get(args[0].lower())
    rest = args[1:]
    if kind == "secret":
        if not rest or rest[0] != "generic":
            raise CLIError("pictl creates generic secrets only: pictl create secret generic NAME --from-literal=K=V")
        rest = rest[1:]
    if kind is None:
        raise CLIError(f'unknown kind "{args[0]}" for create: want namespace, deployment, configmap, '
                       "secret generic or serviceaccount (or -f FILE)")
    if len(rest) != 1:
        raise CLIError(f"exactly one NAME is required for create {args[0]}")
    name = rest[0]
    meta: dict[str, Any] = {"name": name}
    if kind == "namespace":
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}
    if kind == "serviceaccount":
        return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}
    if kind == "deployment":
        return _deployment(name, image, replicas, port)
    data = _pairs(literals, "--from-literal")
    blobs = _files(files)
    for key in blobs:
        if key in data:
            raise CLIError(f'cannot add key "{key}", another key by that name already exists')
    if kind == "configmap":
        doc: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}
        text = {**data}
        binary: dict[str, str] = {}
        for key, raw in blobs.items():
            try:
                text[key] = raw.decode("utf-8")
            except UnicodeDecodeError:
                binary[key] = base64.b64encode(raw).decode("ascii")
        if text:
            doc["data"] = text
        if binary:
            doc["binaryData"] = binary
        return doc
    encoded = {k: base64.b64encode(v.encode()).decode("ascii") for k, v in data.items()}
    encoded.update({k: base64.b64encode(v).decode("ascii") for k, v in blobs.items()})
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque", "data": encoded}


def _deployment(name: str, images: list[str], replicas: int, port: int) -> dict[str, Any]:
    if not images:
        raise CLIError("required flag(s) \"image\" not set")
    containers: list[dict[str, Any]] = []
    for img in images:
        base = img.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]
        c: dict[str, Any] = {"name": base, "image": img}
        if port:
            c["ports"] = [{"containerPort": port}]
        containers.append(c)
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}},
        },
    }


def _context(item: Any) -> str:
    source = item.manifest.source
    return "" if source == FLAGS else f'error when creating "{source}"'


async def _create(s: session.Session, found: list[Any], mode: str, output_format: str, save_config: bool) -> int:
    from master.cli.kube import errors as kube_errors
    from master.cli.kube import objects, output, threeway
    from master.client import errors

    try:
        items = objects.resolve(found, namespace=s.namespace, explicit_namespace=s.explicit_namespace,
                                require_name=False)
    except objects.ItemsError as exc:
        for line in exc.lines:
            print(line if line.startswith("The ") else f"error: {line}", file=sys.stderr)
        return 1
    items = sorted(items, key=lambda i: i.resource.plural != "namespaces")
    bodies = [threeway.with_last_applied(i.obj) if save_config else i.obj for i in items]
    problems: list[str] = []
    new_namespaces = {i.name for i in items if i.resource.plural == "namespaces"}
    if mode != "client":
        for item, body in zip(items, bodies, strict=True):
            if item.namespace in new_namespaces:
                local = objects.local_errors(item)
                if local:
                    problems.append(local)
                continue
            try:
                await s.rest.create(item.resource, item.namespace, body, dry_run=True)
            except errors.ApiError as exc:
                problems.append(kube_errors.api_line(exc, _context(item)))
    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        return 1
    suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(mode, "")
    code = 0
    results: list[dict[str, Any]] = []
    for item, body in zip(items, bodies, strict=True):
        try:
            created = body if mode == "client" else await s.rest.create(
                item.resource, item.namespace, body, dry_run=mode == "server")
        except errors.ApiError as exc:
            print(kube_errors.api_line(exc, _context(item)), file=sys.stderr)
            code = 1
            continue
        name = (created.get("metadata") or {}).get("name") or item.name
        ref = f"{output.name_of(item.resource, {'metadata': {'name': name}})}"
        results.append(output.with_type(item.resource, created))
        if output_format == "name":
            print(ref)
        elif not output_format:
            print(f"{ref} created{suffix}")
    if output_format in ("yaml", "json") and results:
        doc = results[0] if len(results) == 1 else output.as_list(results)
        sys.stdout.write(output.to_yaml(doc) if output_format == "yaml" else output.to_json(doc))
    sys.stdout.flush()
    return code
