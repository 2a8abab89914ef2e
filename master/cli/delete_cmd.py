"""``pictl delete``: delete objects and, by default, wait until they are gone (kubectl's --wait).

::

    pictl delete pod web                  pod "web" deleted   (then waits for the pod to go)
    pictl delete -f web.yaml              everything the manifest names
    pictl delete pods -l app=web          every matching pod; --all for every pod
    pictl delete pod web --grace-period=0 --force      immediate, no confirmation from the node
    pictl delete ns dev --wait=false      do not wait for the namespace to finish terminating

Pods are deleted gracefully: the agent stops the containers within the grace period and
confirms, then the object disappears; the wait covers that.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

import typer

from master.cli.kube import options, selection, session
from master.cli.main import CLIError

__all__ = ["register"]

_BOOL_FLAGS = {"--wait": "--no-wait", "--force": "", "--now": "", "--all": "", "--ignore-not-found": "",
               "--all-namespaces": "", "--recursive": ""}
_PROPAGATION = {"background": "Background", "foreground": "Foreground", "orphan": "Orphan",
                "true": "Background", "false": "Orphan"}


def prepare_argv(argv: list[str]) -> list[str]:
    return options.bool_flags(argv, _BOOL_FLAGS)


def register(app: typer.Typer) -> None:
    @app.command("delete")
    @options.kube_command
    def delete(
        args: list[str] = typer.Argument(None, metavar="TYPE [NAME...] | TYPE/NAME...",
                                         help="What to delete: pod web, deploy/web, pods -l app=web."),
        filename: list[str] = typer.Option([], "--filename", "-f", help="Delete the objects these manifests name."),
        recursive: bool = typer.Option(False, "--recursive", "-R", help="Process directories of -f recursively."),
        selector: str = typer.Option("", "--selector", "-l", help="Delete the objects matching this label selector."),
        field_selector: str = typer.Option("", "--field-selector", help="Delete the objects matching this field selector."),
        all_: bool = typer.Option(False, "--all", help="Delete every object of the given types in the namespace."),
        all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="With -l or --all: in every namespace."),
        grace_period: int = typer.Option(-1, "--grace-period", help="Seconds to let pods stop (-1: the pod's own)."),
        now: bool = typer.Option(False, "--now", help="Stop pods at once (--grace-period=1)."),
        force: bool = typer.Option(False, "--force", help="With --grace-period=0: remove without the node's confirmation."),
        wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait until the objects are gone (default)."),
        timeout: str = typer.Option("0s", "--timeout", help="How long to wait (0: no limit)."),
        ignore_not_found: bool = typer.Option(False, "--ignore-not-found", help="NotFound is not an error."),
        cascade: str = typer.Option("background", "--cascade", help="background, foreground or orphan dependents."),
        output_format: str = typer.Option("", "--output", "-o", help="name: print kind/name only."),
        *,
        g: options.Globals,
    ) -> None:
        """Delete resources by names, selectors or manifests, and wait until they are gone."""
        seconds = options.parse_duration(timeout)
        propagation = _PROPAGATION.get(cascade.strip().lower())
        if propagation is None:
            raise CLIError(f'invalid --cascade "{cascade}": want background, foreground or orphan')
        if output_format not in ("", "name"):
            raise CLIError(f'unable to match a printer suitable for the output format "{output_format}", '
                           "allowed formats are: name")
        grace: int | None = None if grace_period < 0 else grace_period
        if now:
            if grace is not None:
                raise CLIError("--now and --grace-period cannot be specified together")
            grace = 1
        if force and grace is None:
            grace = 0
        if force and grace == 0:
            session.warn("Immediate deletion does not wait for confirmation that the running resource has been "
                         "terminated. The resource may continue to run on the cluster indefinitely.")
        elif grace == 0:
            # Kubernetes reads 0 as "the minimum": without --force a graceful deletion of 1 second.
            grace = 1
        sel = selection.Selection(args=args or [], filenames=filename, recursive=recursive, selector=selector,
                                  field_selector=field_selector, all=all_, all_namespaces=all_namespaces)
        opts = _Options(grace, propagation, wait, seconds, ignore_not_found, output_format == "name")
        session.run(g, lambda s: _delete(s, sel, opts))


@dataclass(frozen=True, slots=True)
class _Options:
    grace: int | None
    propagation: str
    wait: bool
    timeout: float
    ignore_not_found: bool
    names_only: bool


async def _delete(s: session.Session, sel: selection.Selection, opts: _Options) -> int:
    from master.cli.kube import errors as kube_errors
    from master.client import errors

    try:
        refs = await selection.select(s, sel)
    except selection.SelectionError as exc:
        raise CLIError(str(exc)) from None
    if not refs:
        if not opts.ignore_not_found:
            print("No resources found", file=sys.stderr)
        return 0
    code = 0
    deleted: list[tuple[selection.Ref, str]] = []
    for ref in refs:
        try:
            last = await s.rest.delete(ref.resource, ref.name, ref.namespace, grace_period=opts.grace,
                                       propagation=opts.propagation)
        except errors.NotFound as exc:
            if not opts.ignore_not_found:
                print(kube_errors.api_line(exc), file=sys.stderr)
                code = 1
            continue
        except errors.ApiError as exc:
            print(kube_errors.api_line(exc), file=sys.stderr)
            code = 1
            continue
        print(ref.ref if opts.names_only else f"{ref.quoted} deleted", flush=True)
        uid = str((last.get("metadata") or {}).get("uid", "")) if last.get("kind") != "Status" else ""
        deleted.append((ref, uid))
    if opts.wait and deleted:
        missed = await _wait_gone(s, deleted, opts.timeout)
        for ref in missed:
            print(f"error: timed out waiting for the condition on {ref.resource.group_resource}/{ref.name}",
                  file=sys.stderr)
            code = 1
    return code


async def _wait_gone(
    s: session.Session, deleted: list[tuple[selection.Ref, str]], seconds: float
) -> list[selection.Ref]:
    """Wait for every object to disappear (or be replaced: another uid); those still there."""
    from master.cli.kube import waiting

    async def gone(ref: selection.Ref, uid: str) -> None:
        async for obj in waiting.follow(s.rest, ref.resource, ref.namespace, ref.name):
            if obj is None or (uid and (obj.get("metadata") or {}).get("uid") != uid):
                return

    label = (f"waiting for {len(deleted)} objects to be deleted" if len(deleted) > 1
             else f"waiting for {deleted[0][0].ref} to be deleted")
    with waiting.Progress(label):
        tasks = {asyncio.ensure_future(gone(ref, uid)): ref for ref, uid in deleted}
        done, still = await asyncio.wait(tasks, timeout=seconds or None)
        for t in still:
            t.cancel()
        await asyncio.gather(*still, return_exceptions=True)
        for t in done:
            t.result()  # a failure of the wait itself (the server went away) fails the command
    return [tasks[t] for t in still]
