"""``pictl wait``: block until objects meet a condition, as ``kubectl wait``.

::

    pictl wait --for=condition=Ready pod/web --timeout=60s
    pictl wait --for=condition=Available=True deploy -l app=web
    pictl wait --for=delete pod/web
    pictl wait --for=jsonpath='{.status.phase}'=Running pod/web

Prints ``pod/web condition met`` (or ``pod/web deleted``) per object; a timeout is an error
naming what it waited for.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import Any

import typer

from master.cli.kube import options, selection, session
from master.cli.main import CLIError

__all__ = ["register"]


@dataclass(frozen=True, slots=True)
class _Condition:
    kind: str  # "condition", "delete" or "jsonpath"
    name: str = ""
    value: str = "True"
    path: tuple[Any, ...] = ()

    def met(self, obj: dict[str, Any]) -> bool:
        if self.kind == "condition":
            for c in (obj.get("status") or {}).get("conditions") or []:
                if str(c.get("type", "")).lower() == self.name.lower():
                    return str(c.get("status", "")).lower() == self.value.lower()
            return False
        from master.cli.kube import jsonpath

        return any(jsonpath.text(v) == self.value for v in jsonpath.evaluate(self.path, obj))


def _parse(text: str) -> _Condition:
    if text == "delete":
        return _Condition("delete")
    kind, eq, rest = text.partition("=")
    if kind == "condition" and eq and rest:
        name, _, value = rest.partition("=")
        return _Condition("condition", name, value or "True")
    if kind == "jsonpath" and eq and rest:
        from master.cli.kube import jsonpath

        expr, sep, value = rest.rpartition("=")
        expr = expr.strip()
        if not sep or not expr:
            raise CLIError(f'--for jsonpath needs a value: --for=jsonpath="{{.status.phase}}"=Running, not "{text}"')
        if expr.startswith("{") and expr.endswith("}"):
            expr = expr[1:-1]
        try:
            return _Condition("jsonpath", value=value, path=jsonpath.parse_path(expr))
        except jsonpath.JSONPathError as exc:
            raise CLIError(f"invalid --for {text!r}: {exc}") from None
    raise CLIError(f'unrecognized condition: "{text}" (want delete, condition=NAME[=VALUE] or jsonpath=EXPR=VALUE)')


def register(app: typer.Typer) -> None:
    @app.command("wait")
    @options.kube_command
    def wait(
        args: list[str] = typer.Argument(None, metavar="TYPE NAME... | TYPE/NAME...", help="What to wait for."),
        for_: str = typer.Option(..., "--for", help="delete, condition=NAME[=VALUE] or jsonpath=EXPR=VALUE."),
        selector: str = typer.Option("", "--selector", "-l", help="Wait for the objects matching this selector."),
        all_: bool = typer.Option(False, "--all", help="Every object of the type in the namespace."),
        timeout: str = typer.Option("30s", "--timeout", help="Give up after this long (0: check once)."),
        *,
        g: options.Globals,
    ) -> None:
        """Wait for a specific condition on one or many resources."""
        cond = _parse(for_)
        seconds = options.parse_duration(timeout)
        sel = selection.Selection(args=args or [], selector=selector, all=all_)
        session.run(g, lambda s: _wait(s, sel, cond, seconds))


async def _wait(s: session.Session, sel: selection.Selection, cond: _Condition, seconds: float) -> int:
    from master.cli.kube import waiting

    try:
        refs = await selection.select(s, sel)
    except selection.SelectionError as exc:
        raise CLIError(str(exc)) from None
    if not refs:
        raise CLIError("no matching resources found")

    async def one(ref: selection.Ref) -> str:
        async for obj in waiting.follow(s.rest, ref.resource, ref.namespace, ref.name):
            if obj is None:
                if cond.kind == "delete":
                    return f"{ref.ref} deleted"
                raise CLIError(f'{ref.resource.group_resource} "{ref.name}" not found')
            if cond.kind != "delete" and cond.met(obj):
                return f"{ref.ref} condition met"
            if seconds == 0:
                break
        raise TimeoutError

    code = 0
    with waiting.Progress(f"waiting for {len(refs)} object(s)"):
        for ref in refs:
            try:
                async with asyncio.timeout(seconds or None):
                    print(await one(ref), flush=True)
            except TimeoutError:
                what = "deletion" if cond.kind == "delete" else "the condition"
                print(f"error: timed out waiting for {what} on {ref.resource.group_resource}/{ref.name}",
                      file=sys.stderr)
                code = 1
    return code
