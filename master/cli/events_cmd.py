"""``pictl events``: the events of a namespace (or all), oldest first, as ``kubectl events``.

::

    pictl events                        LAST SEEN  TYPE  REASON  OBJECT  MESSAGE
    pictl events -A --types=Warning
    pictl events --for pod/web -w       the pod's events, then new ones as they happen
"""

from __future__ import annotations

import sys
import time
from typing import Any

import typer

from master.cli.kube import options, session
from master.cli.main import CLIError

__all__ = ["register"]

_BOOL_FLAGS = {"--watch": "", "--all-namespaces": "", "--no-headers": ""}


def prepare_argv(argv: list[str]) -> list[str]:
    return options.bool_flags(argv, _BOOL_FLAGS)


def register(app: typer.Typer) -> None:
    @app.command("events")
    @options.kube_command
    def events(
        all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="Events of every namespace."),
        for_: str = typer.Option("", "--for", help="Only the events of this object (KIND/NAME)."),
        types: str = typer.Option("", "--types", help="Only these types (Normal,Warning)."),
        watch: bool = typer.Option(False, "--watch", "-w", help="After listing, print new events until Ctrl-C."),
        output_format: str = typer.Option("", "--output", "-o", help="yaml, json, name or jsonpath=..."),
        no_headers: bool = typer.Option(False, "--no-headers", help="Do not print the header row."),
        *,
        g: options.Globals,
    ) -> None:
        """List events."""
        from master.cli.kube import output

        wanted = {t.strip() for t in types.split(",") if t.strip()}
        bad = wanted - {"Normal", "Warning"}
        if bad:
            raise CLIError(f"valid --types are Normal or Warning, not {', '.join(sorted(bad))}")
        try:
            fmt = output.parse(output_format)
        except output.OutputError as exc:
            raise CLIError(str(exc)) from None
        if fmt.kind in ("wide", "custom-columns"):
            raise CLIError(f"-o {fmt.kind} is not supported by events")
        session.run(g, lambda s: _events(s, all_namespaces, for_, wanted, watch, fmt, no_headers))


async def _field_selector(s: session.Session, for_: str) -> str:
    from master.cli.kube import resources

    if not for_:
        return ""
    kind, slash, name = for_.partition("/")
    if not slash or not name:
        raise CLIError(f'--for wants KIND/NAME, not "{for_}"')
    try:
        res = resources.lookup(kind)
    except resources.ResourceError as exc:
        raise CLIError(str(exc)) from None
    return f"involvedObject.kind={res.kind},involvedObject.name={name}"


def _row(ev: dict[str, Any], now: float, with_namespace: bool) -> list[str]:
    from master.cli.kube.describe import event_time
    from master.cli.kube.printing import age

    inv = ev.get("involvedObject") or {}
    row = [age(event_time(ev, "lastTimestamp"), now), str(ev.get("type", "")), str(ev.get("reason", "")),
           f"{inv.get('kind', '')}/{inv.get('name', '')}", " ".join(str(ev.get("message", "")).split())]
    return [str((ev.get("metadata") or {}).get("namespace", "")), *row] if with_namespace else row


async def _events(s: session.Session, all_namespaces: bool, for_: str, types: set[str], watch: bool,
                  fmt: Any, no_headers: bool) -> int:
    from master.cli.kube import describe, output, resources
    from master.cli.kube.printing import Out
    from master.client import errors

    res = resources.lookup("events")
    ns = None if all_namespaces else s.namespace
    selector = await _field_selector(s, for_)
    out = Out()

    def keep(ev: dict[str, Any]) -> bool:
        return not types or ev.get("type") in types

    listed = await s.rest.list(res, ns, field_selector=selector)
    items = [output.with_type(res, e) for e in describe.sort_events(listed.get("items") or []) if keep(e)]
    header = (["NAMESPACE"] if all_namespaces else []) + ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    widths: list[int] = []
    if not fmt.is_table:
        if fmt.kind == "name":
            for e in items:
                out.line(output.name_of(res, e))
        elif items or not watch:
            sys.stdout.write(output.render(fmt, output.as_list(items)))
    elif items:
        now = time.time()
        lines = [_row(e, now, all_namespaces) for e in items]
        printed = out.table(lines if no_headers else [header, *lines], header=not no_headers)
        widths = [max(w[i] for w in printed if i < len(w)) for i in range(len(header) - 1)]
    elif not watch:
        where = "" if all_namespaces else f" in {s.namespace} namespace"
        print(f"No events found{where}.", file=sys.stderr)
    if not watch:
        return 0
    rv = str((listed.get("metadata") or {}).get("resourceVersion", ""))
    while True:
        try:
            async for kind, ev in s.rest.watch(res, ns, resource_version=rv, field_selector=selector,
                                               timeout_seconds=1800):
                rv = str((ev.get("metadata") or {}).get("resourceVersion", rv))
                if kind not in ("ADDED", "MODIFIED") or not keep(ev):
                    continue
                ev = output.with_type(res, ev)
                if not fmt.is_table:
                    text = output.name_of(res, ev) + "\n" if fmt.kind == "name" else output.render(fmt, ev)
                    sys.stdout.write(text)
                    sys.stdout.flush()
                    continue
                cells = _row(ev, time.time(), all_namespaces)
                if not widths:
                    printed = out.table([cells] if no_headers else [header, cells], header=not no_headers)
                    widths = [max(w[i] for w in printed if i < len(w)) for i in range(len(header) - 1)]
                else:
                    widths = out.row(cells, widths)
        except errors.Gone:
            rv = ""
