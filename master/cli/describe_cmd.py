"""``pictl describe``: one object (or many) in readable sections, with its events.

::

    pictl describe pod web                 the pod, its containers, conditions, volumes, events
    pictl describe pods web                every pod whose name starts with "web" when none is "web"
    pictl describe deploy -l app=web       every matching deployment
    pictl describe node pi-1               conditions, capacity, the pods on it, allocated resources

The sections come from ``master.cli.kube.describe``; this module fetches the object and what
the sections need besides it (its events, a node's pods and lease, a deployment's
ReplicaSets, a service's endpoints). Those extras are best effort: a failure to read them
leaves their section empty rather than failing the describe.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from master.cli.kube import options, rollout, session
from master.cli.main import CLIError

__all__ = ["register"]

_BOOL_FLAGS = {"--show-events": "--no-show-events", "--all-namespaces": ""}


def prepare_argv(argv: list[str]) -> list[str]:
    return options.bool_flags(argv, _BOOL_FLAGS)


def register(app: typer.Typer) -> None:
    from master.cli.get_cmd import complete_types

    @app.command("describe")
    @options.kube_command
    def describe(
        args: list[str] = typer.Argument(None, metavar="TYPE [NAME_PREFIX...] | TYPE/NAME...",
                                         autocompletion=complete_types, help="What to describe."),
        selector: str = typer.Option("", "--selector", "-l", help="Describe the objects matching this selector."),
        all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="Across all namespaces."),
        show_events: bool = typer.Option(True, "--show-events/--no-show-events", help="Show the events section."),
        *,
        g: options.Globals,
    ) -> None:
        """Show the details of a resource or a group of resources."""
        from master.cli.kube import resources

        try:
            targets = resources.parse(args or [])
        except resources.ResourceError as exc:
            raise CLIError(str(exc) if args else "You must specify the type of resource to describe.") from None
        session.run(g, lambda s: _describe(s, targets, selector, all_namespaces, show_events))


async def _find(s: session.Session, res: Any, namespace: str, name: str) -> list[dict[str, Any]]:
    """The object by exact name, else every object whose name starts with ``name`` (kubectl's habit)."""
    from master.client import errors

    try:
        return [await s.rest.get(res, name, namespace)]
    except errors.NotFound:
        found = [o for o in await s.rest.items(res, namespace or None)
                 if str((o.get("metadata") or {}).get("name", "")).startswith(name)]
        if not found:
            raise
        return found


async def _describe(s: session.Session, targets: list[Any], selector: str, all_namespaces: bool,
                    show_events: bool) -> int:
    from master.cli.kube import describe, output
    from master.cli.kube import errors as kube_errors
    from master.client import errors

    code = 0
    first = True
    for t in targets:
        ns = s.namespace if t.resource.namespaced else ""
        objects: list[dict[str, Any]] = []
        if t.names:
            if selector:
                raise CLIError("name cannot be provided when a selector is specified")
            for name in t.names:
                try:
                    objects.extend(await _find(s, t.resource, ns, name))
                except errors.NotFound as exc:
                    print(kube_errors.api_line(exc), file=sys.stderr)
                    code = 1
        else:
            scope = None if all_namespaces and t.resource.namespaced else ns
            objects = await s.rest.items(t.resource, scope, label_selector=selector)
            if not objects:
                where = f" in {ns} namespace" if t.resource.namespaced and not all_namespaces else ""
                print(f"No resources found{where}.", file=sys.stderr)
        for obj in objects:
            obj = output.with_type(t.resource, obj)
            ctx = describe.Context(
                events=await _events(s, t.resource, obj) if show_events else [],
                related=await _related(s, t.resource, obj),
            )
            text = describe.describe(t.resource.plural, obj, ctx)
            sys.stdout.write(text if first else "\n\n" + text)
            first = False
    sys.stdout.flush()
    return code


async def _best_effort(s: session.Session, res_name: str, namespace: str | None, **kw: str) -> list[dict[str, Any]]:
    from master.api import registry
    from master.client import errors

    res = registry.DEFAULT.lookup(res_name)
    if res is None:
        return []
    try:
        return await s.rest.items(res, namespace, **kw)
    except errors.ApiError:
        return []


async def _events(s: session.Session, res: Any, obj: dict[str, Any]) -> list[dict[str, Any]]:
    meta = obj.get("metadata") or {}
    parts = [f"involvedObject.name={meta.get('name', '')}", f"involvedObject.kind={res.kind}"]
    if res.namespaced:
        parts.append(f"involvedObject.namespace={meta.get('namespace', '')}")
        if meta.get("uid"):
            parts.append(f"involvedObject.uid={meta['uid']}")
        return await _best_effort(s, "events", meta.get("namespace", ""), field_selector=",".join(parts))
    return await _best_effort(s, "events", None, field_selector=",".join(parts))


def _revision(rs: dict[str, Any]) -> int:
    value = ((rs.get("metadata") or {}).get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")
    return int(value) if str(value).isdigit() else 0


async def _related(s: session.Session, res: Any, obj: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    from master.client import errors

    meta = obj.get("metadata") or {}
    name, ns, uid = meta.get("name", ""), meta.get("namespace", ""), meta.get("uid", "")
    if res.plural == "nodes":
        out = {"pods": await _best_effort(s, "pods", None, field_selector=f"spec.nodeName={name}")}
        from master.api import registry

        lease_res = registry.DEFAULT.lookup("leases.coordination.k8s.io")
        if lease_res is not None:
            try:
                out["lease"] = [await s.rest.get(lease_res, name, "kube-node-lease")]
            except errors.ApiError:
                pass
        return out
    if res.plural == "deployments":
        rss = rollout.owned_by(await _best_effort(s, "replicasets", ns), uid)
        newest = max(rss, key=_revision, default=None)
        return {"replicasets": rss, "new_replicaset": [newest] if newest else []}
    if res.plural in ("replicasets", "daemonsets"):
        return {"pods": rollout.owned_by(await _best_effort(s, "pods", ns), uid)}
    if res.plural == "services":
        return {"endpoints": await _best_effort(s, "endpoints", ns, field_selector=f"metadata.name={name}")}
    return {}
