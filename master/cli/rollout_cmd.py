"""``pictl rollout``: status, history, undo, restart, pause and resume of Deployments (and the
status and restart of DaemonSets), as kubectl's rollout verbs.

::

    pictl rollout status deploy/web          waits, printing each new state, until rolled out
    pictl rollout history deploy/web         REVISION  CHANGE-CAUSE
    pictl rollout undo deploy/web            back to the previous revision (--to-revision=N)
    pictl rollout restart deploy/web         new pods with the same spec (restartedAt annotation)
    pictl rollout pause deploy/web           stop rolling out template changes; resume to go on
"""

from __future__ import annotations

import sys
import time
from typing import Any

import typer

from master.cli.kube import options, session
from master.cli.main import CLIError

__all__ = ["register"]

_BOOL_FLAGS = {"--watch": "--no-watch"}


def prepare_argv(argv: list[str]) -> list[str]:
    return options.bool_flags(argv, _BOOL_FLAGS)


def _targets(args: list[str], kinds: tuple[str, ...], verb: str) -> list[tuple[Any, str]]:
    from master.cli.kube import resources

    try:
        targets = resources.parse(args)
    except resources.ResourceError as exc:
        raise CLIError(str(exc) if args else "required resource not specified") from None
    out: list[tuple[Any, str]] = []
    for t in targets:
        if t.resource.plural not in kinds:
            raise CLIError(f"rollout {verb} is not supported for {t.resource.plural} (only {', '.join(kinds)})")
        if not t.names:
            raise CLIError("resource(s) were provided, but no name was specified")
        out.extend((t.resource, n) for n in t.names)
    return out


def register(app: typer.Typer) -> None:
    rollout = typer.Typer(help="Manage the rollout of Deployments and DaemonSets.", no_args_is_help=True)
    app.add_typer(rollout, name="rollout")

    @rollout.command("status")
    @options.kube_command
    def status(
        args: list[str] = typer.Argument(None, metavar="TYPE NAME | TYPE/NAME", help="The deployment or daemonset."),
        watch: bool = typer.Option(True, "--watch/--no-watch", "-w", help="Wait until the rollout finishes."),
        timeout: str = typer.Option("0s", "--timeout", help="Give up after this long (0: no limit)."),
        revision: int = typer.Option(0, "--revision", help="Pin to this revision (deployments)."),
        *,
        g: options.Globals,
    ) -> None:
        """Show the status of the rollout (and wait for it by default)."""
        targets = _targets(args or [], ("deployments", "daemonsets"), "status")
        seconds = options.parse_duration(timeout)
        session.run(g, lambda s: _status(s, targets, watch, seconds, revision))

    @rollout.command("history")
    @options.kube_command
    def history(
        args: list[str] = typer.Argument(None, metavar="TYPE NAME | TYPE/NAME", help="The deployment."),
        revision: int = typer.Option(0, "--revision", help="Show the pod template of this revision."),
        *,
        g: options.Globals,
    ) -> None:
        """View previous rollout revisions."""
        targets = _targets(args or [], ("deployments",), "history")
        session.run(g, lambda s: _history(s, targets, revision))

    @rollout.command("undo")
    @options.kube_command
    def undo(
        args: list[str] = typer.Argument(None, metavar="TYPE NAME | TYPE/NAME", help="The deployment."),
        to_revision: int = typer.Option(0, "--to-revision", help="The revision to go back to (0: the previous)."),
        *,
        g: options.Globals,
    ) -> None:
        """Roll back to a previous rollout."""
        targets = _targets(args or [], ("deployments",), "undo")
        session.run(g, lambda s: _undo(s, targets, to_revision))

    @rollout.command("restart")
    @options.kube_command
    def restart(
        args: list[str] = typer.Argument(None, metavar="TYPE NAME | TYPE/NAME", help="The deployment or daemonset."),
        *,
        g: options.Globals,
    ) -> None:
        """Restart a resource: replace its pods with new ones of the same spec."""
        targets = _targets(args or [], ("deployments", "daemonsets"), "restart")
        session.run(g, lambda s: _restart(s, targets))

    for verb, value in (("pause", True), ("resume", False)):
        _register_pause(rollout, verb, value)


def _register_pause(rollout: typer.Typer, verb: str, value: bool) -> None:
    @rollout.command(verb)
    @options.kube_command
    def pause_or_resume(
        args: list[str] = typer.Argument(None, metavar="TYPE NAME | TYPE/NAME", help="The deployment."),
        *,
        g: options.Globals,
    ) -> None:
        targets = _targets(args or [], ("deployments",), verb)
        session.run(g, lambda s: _pause(s, targets, value))

    pause_or_resume.__doc__ = ("Mark a deployment as paused: template changes are not rolled out."
                               if value else "Resume a paused deployment.")


async def _status(s: session.Session, targets: list[tuple[Any, str]], watch: bool, seconds: float,
                  revision: int) -> int:
    import asyncio

    from master.cli.kube import rollout

    for res, name in targets:
        try:
            async with asyncio.timeout(seconds or None):
                await _follow_status(s, res, name, watch=watch, revision=revision)
        except TimeoutError:
            raise CLIError("timed out waiting for the condition") from None
        except rollout.RolloutError as exc:
            raise CLIError(str(exc)) from None
    return 0


async def _follow_status(s: session.Session, res: Any, name: str, *, watch: bool, revision: int) -> None:
    """Print each new status message of one object until it is rolled out (or once)."""
    from master.cli.kube import rollout, waiting
    from master.client import errors

    last = ""
    with waiting.Progress(f"waiting for {res.kind.lower()} {name}") as progress:
        async for obj in waiting.follow(s.rest, res, s.namespace, name):
            if obj is None:
                raise errors.NotFound(f'{res.group_resource} "{name}" not found', code=404)
            if revision and res.kind == "Deployment":
                have = ((obj.get("metadata") or {}).get("annotations") or {}).get(rollout.REVISION)
                if have != str(revision):
                    raise rollout.RolloutError(
                        f"desired revision ({revision}) is different from the running revision ({have})")
            message, done = rollout.status(res.kind, obj)
            if message != last:
                progress.update(message)
                print(message, flush=True)
                last = message
            if done or not watch:
                return


async def _replicasets(s: session.Session, deployment: dict[str, Any]) -> list[dict[str, Any]]:
    from master.cli.kube import resources, rollout

    meta = deployment.get("metadata") or {}
    found = await s.rest.items(resources.lookup("replicasets"), meta.get("namespace", s.namespace))
    return rollout.owned_by(found, meta.get("uid", ""))


async def _history(s: session.Session, targets: list[tuple[Any, str]], revision: int) -> int:
    from master.cli.kube import output, resources, rollout
    from master.cli.kube.printing import Out

    out = Out()
    for res, name in targets:
        dep = await s.rest.get(res, name, s.namespace)
        revisions = rollout.history(await _replicasets(s, dep))
        ref = f"{resources.kind_name(res)}/{name}"
        if revision:
            chosen = [rs for rev, rs in revisions if rev == revision]
            if not chosen:
                raise CLIError(f"unable to find the specified revision {revision}")
            out.line(f"{ref} with revision #{revision}")
            template = (chosen[0].get("spec") or {}).get("template") or {}
            out.stream.write(output.to_yaml({"template": template}))
            continue
        out.line(ref)
        if not revisions:
            out.line("No rollout history found.")
            continue
        out.table([["REVISION", "CHANGE-CAUSE"], *([str(rev), rollout.change_cause(rs)] for rev, rs in revisions)],
                  padding=2)
        out.line()
    return 0


async def _undo(s: session.Session, targets: list[tuple[Any, str]], to_revision: int) -> int:
    from master.cli.kube import resources, rollout

    for res, name in targets:
        dep = await s.rest.get(res, name, s.namespace)
        ref = f"{resources.kind_name(res)}/{name}"
        if (dep.get("spec") or {}).get("paused"):
            raise CLIError("you cannot rollback a paused deployment; resume it first with 'pictl rollout resume' "
                           "and try again")
        try:
            rev, rs = rollout.undo_target(name, await _replicasets(s, dep), to_revision)
        except rollout.RolloutError as exc:
            raise CLIError(str(exc)) from None
        if rollout.same_template((rs.get("spec") or {}).get("template") or {},
                                 (dep.get("spec") or {}).get("template") or {}):
            print(f"{ref} skipped rollback (current template already matches revision {rev})")
            continue
        await s.rest.patch(res, name, s.namespace, rollout.undo_patch(dep, rs), "json")
        print(f"{ref} rolled back")
    return 0


async def _restart(s: session.Session, targets: list[tuple[Any, str]]) -> int:
    from master.api import timefmt
    from master.cli.kube import resources, rollout

    now = timefmt.format_time(time.time())
    for res, name in targets:
        obj = await s.rest.get(res, name, s.namespace)
        if (obj.get("spec") or {}).get("paused"):
            raise CLIError(f'{res.group_resource} "{name}" can\'t restart paused deployment '
                           "(run rollout resume first)")
        patch = {"spec": {"template": {"metadata": {"annotations": {rollout.RESTARTED_AT: now}}}}}
        await s.rest.patch(res, name, s.namespace, patch, "strategic")
        print(f"{resources.kind_name(res)}/{name} restarted")
    return 0


async def _pause(s: session.Session, targets: list[tuple[Any, str]], value: bool) -> int:
    from master.cli.kube import resources

    word = "paused" if value else "resumed"
    for res, name in targets:
        obj = await s.rest.get(res, name, s.namespace)
        ref = f"{resources.kind_name(res)}/{name}"
        if bool((obj.get("spec") or {}).get("paused")) == value:
            print(f"{ref} already {word}", file=sys.stderr)
            continue
        await s.rest.patch(res, name, s.namespace, {"spec": {"paused": True if value else None}}, "merge")
        print(f"{ref} {word}")
    return 0
