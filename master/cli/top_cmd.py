"""``pictl top nodes|pods``: live CPU and memory, read from the agents (``master.cli.kube.metrics``).

::

    pictl top nodes
    NAME   CPU(cores)   CPU(%)   MEMORY(bytes)   MEMORY(%)
    pi-1   312m         7%       1204Mi          31%

    pictl top pods -A --containers --sort-by=cpu

Each node's agent is read twice, ``--window`` apart (CPU is a counter), through the apiserver's
``nodes/NODE/proxy/metrics/resource``; a node whose agent does not answer shows ``<unknown>``.
Percentages are of the node's allocatable resources.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import typer

from master.cli.kube import options, session
from master.cli.main import CLIError

__all__ = ["register"]

METRICS_PATH = "metrics/resource"


def register(app: typer.Typer) -> None:
    top = typer.Typer(help="Display resource (CPU/memory) usage of nodes or pods.", no_args_is_help=True)
    app.add_typer(top, name="top")

    def nodes(
        names: list[str] = typer.Argument(None, metavar="[NODE...]", help="Only these nodes."),
        selector: str = typer.Option("", "--selector", "-l", help="Only nodes matching this label selector."),
        sort_by: str = typer.Option("", "--sort-by", help="cpu or memory."),
        no_headers: bool = typer.Option(False, "--no-headers", help="Do not print the header row."),
        window: float = typer.Option(1.0, "--window", help="Seconds between the two CPU samples."),
        *,
        g: options.Globals,
    ) -> None:
        """Display resource (CPU/memory) usage of nodes."""
        _check(sort_by, window)
        session.run(g, lambda s: _top_nodes(s, names or [], selector, sort_by, no_headers, window))

    def pods(
        names: list[str] = typer.Argument(None, metavar="[POD...]", help="Only these pods."),
        selector: str = typer.Option("", "--selector", "-l", help="Only pods matching this label selector."),
        all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="Pods of every namespace."),
        containers: bool = typer.Option(False, "--containers", help="One row per container."),
        sort_by: str = typer.Option("", "--sort-by", help="cpu or memory."),
        no_headers: bool = typer.Option(False, "--no-headers", help="Do not print the header row."),
        window: float = typer.Option(1.0, "--window", help="Seconds between the two CPU samples."),
        *,
        g: options.Globals,
    ) -> None:
        """Display resource (CPU/memory) usage of pods."""
        _check(sort_by, window)
        session.run(g, lambda s: _top_pods(s, names or [], selector, all_namespaces, containers, sort_by,
                                           no_headers, window))

    for name, fn in (("node", nodes), ("pod", pods)):
        top.command(name)(options.kube_command(fn))
        for alias in {"node": ("nodes", "no"), "pod": ("pods", "po")}[name]:
            top.command(alias, hidden=True)(options.kube_command(fn))


def _check(sort_by: str, window: float) -> None:
    if sort_by not in ("", "cpu", "memory"):
        raise CLIError(f"--sort-by accepts only cpu or memory, not {sort_by!r}")
    if not 0 < window <= 60:
        raise CLIError("--window must be more than 0 and at most 60 seconds")


async def _scrape(s: session.Session, node: str) -> Any:
    from master.cli.kube import metrics
    from master.client import errors

    try:
        data = await s.rest.raw(f"/api/v1/nodes/{node}/proxy/{METRICS_PATH}")
        return metrics.parse(data.decode("utf-8", "replace"), time.monotonic())
    except (errors.ApiError, errors.ConnectionError, metrics.MetricsError):
        return None


async def _usage(s: session.Session, nodes: list[str], window: float) -> dict[str, Any]:
    """Node name -> ``metrics.Usage`` (nodes whose agent did not answer twice are left out)."""
    from master.cli.kube import metrics

    first = await asyncio.gather(*(_scrape(s, n) for n in nodes))
    await asyncio.sleep(window)
    second = await asyncio.gather(*(_scrape(s, n) for n in nodes))
    return {n: metrics.usage(a, b) for n, a, b in zip(nodes, first, second, strict=True)
            if a is not None and b is not None}


def _cpu(milli: int) -> str:
    return f"{milli}m"


def _mem(n: int) -> str:
    return f"{n // (1024 * 1024)}Mi"


def _allocatable(node: dict[str, Any]) -> tuple[int, int]:
    from master.api import quantity

    alloc = (node.get("status") or {}).get("allocatable") or {}
    try:
        return quantity.milli_value(alloc.get("cpu", "0")), quantity.value(alloc.get("memory", "0"))
    except quantity.QuantityError:
        return 0, 0


async def _top_nodes(s: session.Session, names: list[str], selector: str, sort_by: str, no_headers: bool,
                     window: float) -> int:
    from master.cli.kube import resources
    from master.cli.kube.printing import Out

    res = resources.lookup("nodes")
    if names:
        nodes = [await s.rest.get(res, n, "") for n in names]
    else:
        nodes = await s.rest.items(res, None, label_selector=selector)
    if not nodes:
        print("No resources found", file=sys.stderr)
        return 0
    found = await _usage(s, [n["metadata"]["name"] for n in nodes], window)
    rows: list[tuple[tuple[int, int], list[str]]] = []
    for node in nodes:
        name = node["metadata"]["name"]
        u = found.get(name)
        if u is None or u.node_cpu is None or u.node_memory is None:
            rows.append(((-1, -1), [name, "<unknown>", "<unknown>", "<unknown>", "<unknown>"]))
            continue
        cpu_total, mem_total = _allocatable(node)
        cpu_pct = f"{u.node_cpu * 100 // cpu_total}%" if cpu_total else "<unknown>"
        mem_pct = f"{u.node_memory * 100 // mem_total}%" if mem_total else "<unknown>"
        rows.append(((u.node_cpu, u.node_memory), [name, _cpu(u.node_cpu), cpu_pct, _mem(u.node_memory), mem_pct]))
    if sort_by:
        rows.sort(key=lambda r: r[0][0 if sort_by == "cpu" else 1], reverse=True)
    head = [] if no_headers else [["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]]
    Out().table(head + [r for _, r in rows], header=not no_headers)
    return 0


async def _top_pods(s: session.Session, names: list[str], selector: str, all_namespaces: bool, containers: bool,
                    sort_by: str, no_headers: bool, window: float) -> int:
    from master.cli.kube import resources
    from master.cli.kube.printing import Out

    if names and all_namespaces:
        raise CLIError("a resource cannot be retrieved by name across all namespaces")
    res = resources.lookup("pods")
    ns = None if all_namespaces else s.namespace
    if names:
        pods = [await s.rest.get(res, n, s.namespace) for n in names]
    else:
        pods = await s.rest.items(res, ns, label_selector=selector, field_selector="spec.nodeName!=")
    nodes = sorted({str((p.get("spec") or {}).get("nodeName") or "") for p in pods} - {""})
    found = await _usage(s, nodes, window) if nodes else {}
    by_pod: dict[tuple[str, str], tuple[int, int]] = {}
    by_container: dict[tuple[str, str, str], tuple[int, int]] = {}
    for u in found.values():
        by_pod.update(u.pods)
        by_container.update(u.containers)
    rows: list[tuple[tuple[int, int], list[str]]] = []
    missing: list[str] = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        key = (meta.get("namespace", ""), meta.get("name", ""))
        prefix = [key[0]] if all_namespaces else []
        if key not in by_pod:
            missing.append(f"{key[0]}/{key[1]}")
            continue
        if containers:
            for c in (pod.get("spec") or {}).get("containers") or []:
                cu = by_container.get((*key, c.get("name", "")))
                if cu is not None:
                    rows.append((cu, [*prefix, key[1], c.get("name", ""), _cpu(cu[0]), _mem(cu[1])]))
        else:
            cpu, mem = by_pod[key]
            rows.append(((cpu, mem), [*prefix, key[1], _cpu(cpu), _mem(mem)]))
    if names and missing:
        for m in missing:
            print(f"error: Metrics not available for pod {m}", file=sys.stderr)
        if not rows:
            return 1
    if not rows:
        where = "" if all_namespaces else f" in {s.namespace} namespace"
        print(f"No resources found{where}.", file=sys.stderr)
        return 0
    if sort_by:
        rows.sort(key=lambda r: r[0][0 if sort_by == "cpu" else 1], reverse=True)
    head = (["NAMESPACE"] if all_namespaces else []) + (["POD", "NAME"] if containers else ["NAME"])
    head += ["CPU(cores)", "MEMORY(bytes)"]
    Out().table(([] if no_headers else [head]) + [r for _, r in rows], header=not no_headers)
    return 1 if names and missing else 0
