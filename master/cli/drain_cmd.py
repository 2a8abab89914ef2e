"""``pictl drain``: cordon a node, then evict its pods and wait until they are gone.

::

    pictl drain pi-2 --ignore-daemonsets
    node/pi-2 cordoned
    Warning: ignoring DaemonSet-managed Pods: kube-system/proxy-x7k2p
    evicting pod default/web-5d8f9-abcde
    pod/web-5d8f9-abcde evicted
    node/pi-2 drained

Which pods are evicted, skipped or refused is ``master.cli.kube.drain``'s rule (kubectl's).
A refusal leaves the node cordoned and evicts nothing. Evictions go through the
``pods/eviction`` subresource, so PodDisruptionBudgets are honoured: a 429 answer is retried
every 5 seconds until ``--timeout``. ``--disable-eviction`` deletes the pods instead.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from typing import Any

import typer

from master.cli.kube import options, session
from master.cli.main import CLIError

__all__ = ["register"]

_BOOL_FLAGS = {"--ignore-daemonsets": "", "--force": "", "--delete-emptydir-data": "", "--disable-eviction": ""}
EVICTION_RETRY = 5.0


def prepare_argv(argv: list[str]) -> list[str]:
    return options.bool_flags(argv, _BOOL_FLAGS)


@dataclass(frozen=True, slots=True)
class _Options:
    ignore_daemonsets: bool
    force: bool
    delete_emptydir_data: bool
    disable_eviction: bool
    grace_period: int | None
    timeout: float
    pod_selector: str
    dry_run: bool


def register(app: typer.Typer) -> None:
    @app.command("drain")
    @options.kube_command
    def drain(
        node: str = typer.Argument(..., metavar="NODE", help="The node to drain."),
        ignore_daemonsets: bool = typer.Option(False, "--ignore-daemonsets", help="Skip DaemonSet-managed pods."),
        force: bool = typer.Option(False, "--force", help="Also delete pods no controller manages."),
        delete_emptydir_data: bool = typer.Option(False, "--delete-emptydir-data",
                                                  help="Also delete pods with emptyDir data."),
        disable_eviction: bool = typer.Option(False, "--disable-eviction",
                                              help="Delete pods instead of evicting them (ignores budgets)."),
        grace_period: int = typer.Option(-1, "--grace-period", help="Seconds each pod gets to stop (-1: its own)."),
        timeout: str = typer.Option("0s", "--timeout", help="Give up after this long (0: no limit)."),
        pod_selector: str = typer.Option("", "--pod-selector", help="Only evict pods matching this selector."),
        dry_run: str = typer.Option("none", "--dry-run", help="none or client: only show what would happen."),
        *,
        g: options.Globals,
    ) -> None:
        """Drain a node in preparation for maintenance: cordon it and evict its pods."""
        if dry_run not in ("none", "client", "server", ""):
            raise CLIError(f'Invalid dry-run value ({dry_run}). Must be "none", "server", or "client".')
        opts = _Options(ignore_daemonsets, force, delete_emptydir_data, disable_eviction,
                        None if grace_period < 0 else grace_period, options.parse_duration(timeout),
                        pod_selector, dry_run not in ("none", ""))
        session.run(g, lambda s: _drain(s, node, opts))


async def _drain(s: session.Session, node: str, opts: _Options) -> int:
    from master.cli.kube import drain, resources

    suffix = " (dry run)" if opts.dry_run else ""
    changed = await drain.set_unschedulable(s, node, True, dry_run=opts.dry_run)
    print(f"node/{node} cordoned{suffix}" if changed else f"node/{node} already cordoned", flush=True)
    pods = await s.rest.items(resources.lookup("pods"), None, field_selector=f"spec.nodeName={node}",
                              label_selector=opts.pod_selector)
    plan = drain.classify(pods, ignore_daemonsets=opts.ignore_daemonsets, force=opts.force,
                          delete_emptydir_data=opts.delete_emptydir_data)
    if plan.errors:
        for line in plan.errors:
            print(f'error: unable to drain node "{node}": {line}', file=sys.stderr)
        return 1
    if plan.warnings:
        session.warn("; ".join(plan.warnings))
    if opts.dry_run:
        for pod in plan.evict:
            print(f"evicting pod {drain.pod_ref(pod)}{suffix}")
        print(f"node/{node} drained{suffix}")
        return 0
    deadline = time.monotonic() + opts.timeout if opts.timeout else None
    results = await asyncio.gather(*(_evict_and_wait(s, pod, opts, deadline) for pod in plan.evict))
    stuck = [drain.pod_ref(p) for p, ok in zip(plan.evict, results, strict=True) if not ok]
    if stuck:
        print(f'error: unable to drain node "{node}": timed out after {opts.timeout:g}s waiting for '
              f"pods to be evicted: {', '.join(stuck)}", file=sys.stderr)
        return 1
    print(f"node/{node} drained")
    return 0


async def _evict_and_wait(s: session.Session, pod: dict[str, Any], opts: _Options, deadline: float | None) -> bool:
    """Evict (or delete) one pod and wait until it is gone; False if the deadline passed first."""
    from master.cli.kube import drain, resources, waiting
    from master.client import errors

    meta = pod.get("metadata") or {}
    name, ns, uid = meta.get("name", ""), meta.get("namespace", ""), meta.get("uid", "")
    pods = resources.lookup("pods")

    async def evict() -> None:
        print(f"evicting pod {drain.pod_ref(pod)}", flush=True)
        while True:
            try:
                if opts.disable_eviction:
                    await s.rest.delete(pods, name, ns, grace_period=opts.grace_period, uid=uid)
                else:
                    await s.api.evict(name, namespace=ns, grace_period_seconds=opts.grace_period)
                return
            except errors.NotFound:
                return
            except errors.TooManyRequests as exc:
                print(f'error when evicting pods/"{name}" -n "{ns}" (will retry after {EVICTION_RETRY:g}s): '
                      f"{exc.message}", file=sys.stderr, flush=True)
                await asyncio.sleep(EVICTION_RETRY)

    async def gone() -> None:
        async for obj in waiting.follow(s.rest, pods, ns, name):
            if obj is None or (obj.get("metadata") or {}).get("uid") != uid:
                return

    async def both() -> None:
        await evict()
        await gone()

    remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
    try:
        async with asyncio.timeout(remaining):
            await both()
    except TimeoutError:
        return False
    print(f"pod/{name} evicted", flush=True)
    return True
