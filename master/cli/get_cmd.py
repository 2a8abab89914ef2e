"""``pictl get``: list or read resources, as ``kubectl get`` does.

::

    pictl get pods                          the table the apiserver prints (server-side Table)
    pictl get po,svc -A -o wide             several types, every namespace, the wide columns
    pictl get deploy web -o yaml            one object (json, name, jsonpath=..., custom-columns=...)
    pictl get pods -l app=web --show-labels
    pictl get pods -w                       the table, then a row per change until Ctrl-C
    pictl get -f web.yaml                   the objects a manifest names
"""

from __future__ import annotations

import asyncio
import math
import sys
from dataclasses import dataclass, field
from typing import Any

import typer

from master.cli.kube import options, output, resources, session
from master.cli.kube.printing import Out, TableOptions, table_header, table_rows
from master.cli.main import CLIError

__all__ = ["register"]


@dataclass(slots=True)
class _Query:
    """One resource type to read: by names, or every object matching the selectors."""

    resource: Any
    namespace: str | None
    names: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Request:
    queries: list[_Query]
    fmt: output.OutputFormat
    label_selector: str
    field_selector: str
    table: TableOptions
    all_namespaces: bool
    ignore_not_found: bool
    sort_by: tuple[Any, ...] | None


def complete_types(incomplete: str) -> list[str]:
    return [n for n in resources.type_names() if n.startswith(incomplete)]


def _label_columns(values: list[str]) -> tuple[str, ...]:
    return tuple(k.strip() for v in values for k in v.split(",") if k.strip())


def register(app: typer.Typer) -> None:
    @app.command("get")
    @options.kube_command
    def get(
        args: list[str] = typer.Argument(
            None, metavar="TYPE[.GROUP][,TYPE...] [NAME...] | TYPE/NAME...", autocompletion=complete_types,
            help="What to get: pods, po,svc, deploy/web, all ...",
        ),
        output_format: str = typer.Option(
            "", "--output", "-o", help="wide, yaml, json, name, jsonpath=TEMPLATE, custom-columns=SPEC."
        ),
        selector: str = typer.Option("", "--selector", "-l", help="Label selector (app=web,tier!=db)."),
        field_selector: str = typer.Option("", "--field-selector", help="Field selector (status.phase=Running)."),
        all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="List across all namespaces."),
        watch: bool = typer.Option(False, "--watch", "-w", help="After listing, watch for changes."),
        watch_only: bool = typer.Option(False, "--watch-only", help="Watch for changes without listing first."),
        show_labels: bool = typer.Option(False, "--show-labels", help="Show all labels as the last column."),
        label_columns: list[str] = typer.Option(
            [], "--label-columns", "-L", help="Labels to show as columns (repeat or comma-separate)."
        ),
        no_headers: bool = typer.Option(False, "--no-headers", help="Do not print the header row."),
        sort_by: str = typer.Option("", "--sort-by", help="Sort the rows by a JSONPath (.metadata.name)."),
        ignore_not_found: bool = typer.Option(False, "--ignore-not-found", help="NotFound is not an error."),
        filename: list[str] = typer.Option([], "--filename", "-f", help="Get the objects these manifests name."),
        recursive: bool = typer.Option(False, "--recursive", "-R", help="Process directories of -f recursively."),
        *,
        g: options.Globals,
    ) -> None:
        """Display one or many resources."""
        try:
            fmt = output.parse(output_format)
            sort_path = _sort_path(sort_by)
        except (output.OutputError, ValueError) as exc:
            raise CLIError(str(exc)) from None
        request = _Request(
            queries=[],
            fmt=fmt,
            label_selector=selector,
            field_selector=field_selector,
            table=TableOptions(
                wide=fmt.kind == "wide",
                no_headers=no_headers,
                show_labels=show_labels,
                label_columns=_label_columns(label_columns),
            ),
            all_namespaces=all_namespaces,
            ignore_not_found=ignore_not_found,
            sort_by=sort_path,
        )

        if not filename:
            _check_args(args or [], all_namespaces)  # bad arguments fail before any connection

        async def body(s: session.Session) -> int:
            request.queries = _queries(s, args or [], filename, recursive, all_namespaces)
            if watch or watch_only:
                return await _watch(s, request, list_first=not watch_only)
            return await _get(s, request)

        session.run(g, body)


def _sort_path(text: str) -> tuple[Any, ...] | None:
    from master.cli.kube import jsonpath

    text = text.strip()
    if not text:
        return None
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    try:
        return jsonpath.parse_path(text if text.startswith((".", "$")) else "." + text)
    except jsonpath.JSONPathError as exc:
        raise ValueError(f"invalid --sort-by {text!r}: {exc}") from None


def _check_args(args: list[str], all_namespaces: bool) -> list[resources.Target]:
    try:
        targets = resources.parse(args)
    except resources.ResourceError as exc:
        raise CLIError(
            f"{exc}" if args else "You must specify the type of resource to get, e.g. pictl get pods "
            "(types: pods, services, deployments, nodes, ... or all)."
        ) from None
    for t in targets:
        if all_namespaces and t.names and t.resource.namespaced:
            raise CLIError("a resource cannot be retrieved by name across all namespaces")
    return targets


def _queries(
    s: session.Session, args: list[str], filenames: list[str], recursive: bool, all_namespaces: bool
) -> list[_Query]:
    if filenames:
        if args:
            raise CLIError("when -f is given, resource arguments are not allowed")
        return _file_queries(s, filenames, recursive)
    out = []
    for t in _check_args(args, all_namespaces):
        ns = (None if all_namespaces else s.namespace) if t.resource.namespaced else ""
        out.append(_Query(t.resource, ns, t.names))
    return out


def _file_queries(s: session.Session, filenames: list[str], recursive: bool) -> list[_Query]:
    from master.api import registry
    from master.cli.kube import manifests

    try:
        found = manifests.load(filenames, recursive=recursive)
    except manifests.ManifestError as exc:
        raise CLIError(str(exc)) from None
    out: list[_Query] = []
    for m in found:
        res = registry.DEFAULT.by_kind(m.obj["apiVersion"], m.obj["kind"])
        if res is None:
            raise CLIError(f'{m.where}: no matches for kind "{m.obj["kind"]}" in version "{m.obj["apiVersion"]}"')
        meta = m.obj.get("metadata") or {}
        ns = (meta.get("namespace") or s.namespace) if res.namespaced else ""
        name = meta.get("name") or ""
        if not name:
            raise CLIError(f"{m.where}: the object has no metadata.name")
        for q in out:
            if q.resource is res and q.namespace == ns:
                q.names.append(name)
                break
        else:
            out.append(_Query(res, ns, [name]))
    return out


def _no_resources(req: _Request) -> str:
    namespaced = any(q.resource.namespaced for q in req.queries)
    if namespaced and not req.all_namespaces and len({q.namespace for q in req.queries}) == 1:
        return f"No resources found in {req.queries[0].namespace} namespace."
    return "No resources found"


async def _read(s: session.Session, req: _Request, q: _Query, *, table: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """(tables or objects, error lines) for one query."""
    from master.cli.kube import errors as kube_errors
    from master.client import errors

    include = "Object" if table and req.sort_by is not None else ""
    if not q.names:
        found = await s.rest.list(
            q.resource, q.namespace, label_selector=req.label_selector, field_selector=req.field_selector,
            table=table, include_object=include,
        )
        if table:
            return [found], []
        return [output.with_type(q.resource, o) for o in found.get("items") or []], []
    got, failed = [], []
    for name in q.names:
        try:
            got.append(await s.rest.get(q.resource, name, q.namespace or "", table=table, include_object=include))
        except errors.NotFound as exc:
            if not req.ignore_not_found:
                failed.append(kube_errors.api_line(exc))
    return got, failed


def _sorted_rows(table: dict[str, Any], path: tuple[Any, ...] | None) -> dict[str, Any]:
    if path is None:
        return table
    from master.cli.kube import jsonpath

    def key(row: dict[str, Any]) -> tuple[int, Any]:
        found = jsonpath.evaluate(path, row.get("object") or {})
        if not found:
            return (0, "")
        v = found[0]
        return (1, v) if isinstance(v, int | float) and not isinstance(v, bool) else (2, jsonpath.text(v))

    return {**table, "rows": sorted(table.get("rows") or [], key=key)}


async def _get(s: session.Session, req: _Request) -> int:
    out = Out()
    errors_seen: list[str] = []
    printed_any = False
    if req.fmt.is_table:
        with_kind = len(req.queries) > 1 or any(q.resource.plural != req.queries[0].resource.plural
                                                for q in req.queries)
        for q in req.queries:
            tables, failed = await _read(s, req, q, table=True)
            errors_seen.extend(failed)
            merged = _merge_tables(tables)
            if not merged.get("rows"):
                continue
            merged = _sorted_rows(merged, req.sort_by)
            opts = TableOptions(
                wide=req.table.wide, no_headers=req.table.no_headers,
                namespace_column=req.all_namespaces and q.resource.namespaced,
                show_labels=req.table.show_labels, label_columns=req.table.label_columns,
                kind_prefix=f"{resources.kind_name(q.resource)}/" if with_kind else "",
            )
            rows = table_rows(merged, opts)
            if printed_any:
                out.line()
            lines = rows if opts.no_headers else [table_header(merged, opts), *rows]
            out.table(lines, header=not opts.no_headers)
            printed_any = True
    else:
        objects: list[dict[str, Any]] = []
        for q in req.queries:
            got, failed = await _read(s, req, q, table=False)
            errors_seen.extend(failed)
            objects.extend(output.with_type(q.resource, o) for o in got)
            if req.fmt.kind == "name":
                for o in got:
                    out.line(output.name_of(q.resource, o))
        if req.sort_by is not None:
            objects = _sorted_objects(objects, req.sort_by)
        printed_any = bool(objects)
        if objects or not errors_seen:  # only NotFound answers: nothing to print, as kubectl
            _print_documents(out, req, objects)
    for line in errors_seen:
        print(line, file=sys.stderr)
    quiet = req.ignore_not_found and any(q.names for q in req.queries)
    if not printed_any and not errors_seen and not quiet and req.fmt.kind in ("", "wide", "name", "custom-columns"):
        print(_no_resources(req), file=sys.stderr)
    return 1 if errors_seen else 0


def _sorted_objects(objects: list[dict[str, Any]], path: tuple[Any, ...]) -> list[dict[str, Any]]:
    rows = _sorted_rows({"rows": [{"object": o} for o in objects]}, path)["rows"]
    return [r["object"] for r in rows]


def _print_documents(out: Out, req: _Request, objects: list[dict[str, Any]]) -> None:
    fmt = req.fmt
    if fmt.kind == "name":
        return
    if fmt.kind == "custom-columns":
        if objects:
            rows = output.custom_rows(fmt, objects, headers=not req.table.no_headers)
            out.table(rows, header=not req.table.no_headers)
        return
    single = len(req.queries) == 1 and len(req.queries[0].names) == 1 and len(objects) == 1
    doc: Any = objects[0] if single else output.as_list(objects)
    out.stream.write(output.render(fmt, doc))
    out.stream.flush()


def _merge_tables(tables: list[dict[str, Any]]) -> dict[str, Any]:
    if not tables:
        return {}
    first = dict(tables[0])
    first["rows"] = [r for t in tables for r in (t.get("rows") or [])]
    return first


async def _watch(s: session.Session, req: _Request, *, list_first: bool) -> int:
    """The list (unless --watch-only), then one row or document per change, until Ctrl-C or, as
    kubectl's, until --request-timeout has passed since the watch began (then exit 0)."""
    from master.client import errors

    if len(req.queries) != 1:
        raise CLIError("you may only specify a single resource type")
    q = req.queries[0]
    if len(q.names) > 1:
        raise CLIError("watch is only supported on individual resources and resource collections, "
                       f"but {len(q.names)} resources were found")
    field_selector = req.field_selector
    if q.names:
        by_name = f"metadata.name={q.names[0]}"
        field_selector = f"{field_selector},{by_name}" if field_selector else by_name
    out = Out()
    opts = TableOptions(
        wide=req.table.wide, no_headers=req.table.no_headers,
        namespace_column=req.all_namespaces and q.resource.namespaced,
        show_labels=req.table.show_labels, label_columns=req.table.label_columns,
    )
    table = req.fmt.is_table
    widths: list[int] = []
    header_done = opts.no_headers
    # Only a watch's first Table event carries the column definitions (as the list does).
    columns: list[Any] = []
    ends_at: float | None = None
    while True:
        listed = await s.rest.list(q.resource, q.namespace, label_selector=req.label_selector,
                                   field_selector=field_selector, table=table)
        rv = str((listed.get("metadata") or {}).get("resourceVersion", ""))
        columns = listed.get("columnDefinitions") or columns
        if list_first and table:
            rows = table_rows(listed, opts)
            if rows:
                lines = rows if header_done else [table_header(listed, opts), *rows]
                widths = _columns_of(out.table(lines, header=not header_done))
                header_done = True
            elif not header_done:
                print(_no_resources(req), file=sys.stderr)
        elif list_first:
            for o in listed.get("items") or []:
                _print_watched(out, req, q, output.with_type(q.resource, o))
        request_timeout = s.globals.request_timeout
        if ends_at is None and request_timeout is not None:
            ends_at = asyncio.get_running_loop().time() + request_timeout
        watch_seconds = 1800 if request_timeout is None else max(1, min(1800, math.ceil(request_timeout)))
        timer = asyncio.timeout_at(ends_at)
        try:
            async with timer:
                async for kind, obj in s.rest.watch(q.resource, q.namespace, resource_version=rv,
                                                    label_selector=req.label_selector,
                                                    field_selector=field_selector, table=table,
                                                    timeout_seconds=watch_seconds):
                    if kind == "BOOKMARK":
                        continue
                    if not table:
                        _print_watched(out, req, q, output.with_type(q.resource, obj))
                        continue
                    if obj.get("columnDefinitions"):
                        columns = obj["columnDefinitions"]
                    obj = {**obj, "columnDefinitions": columns}
                    rows = table_rows(obj, opts)
                    if rows and not header_done:
                        widths = _columns_of(out.table([table_header(obj, opts), rows[0]]))
                        rows = rows[1:]
                        header_done = True
                    for cells in rows:
                        widths = out.row(cells, widths)
            list_first = False
        except TimeoutError:
            if timer.expired():
                return 0
            raise
        except errors.Gone:
            list_first = True  # the relist shows the state we may have missed


def _columns_of(line_widths: list[list[int]]) -> list[int]:
    """Column widths of a printed table (the widest of every line's)."""
    widest: list[int] = []
    for w in line_widths:
        for i, x in enumerate(w):
            if i < len(widest):
                widest[i] = max(widest[i], x)
            else:
                widest.append(x)
    return widest


def _print_watched(out: Out, req: _Request, q: _Query, obj: dict[str, Any]) -> None:
    if req.fmt.kind == "name":
        out.line(output.name_of(q.resource, obj))
    elif req.fmt.kind == "yaml":
        out.stream.write("---\n" + output.to_yaml(obj))
    elif req.fmt.kind == "custom-columns":
        out.table(output.custom_rows(req.fmt, [obj], headers=False), header=False)
    else:
        out.stream.write(output.render(req.fmt, obj))
    out.stream.flush()
