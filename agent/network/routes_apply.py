"""host-gw routes applied by a short-lived helper process: ``python -m agent.network.routes_apply``.

pyroute2 would cost the agent ~9 MB of resident memory for its whole life (its package loads
every netlink family it knows) for work done a few times a day: when a node joins, leaves or
changes address. So the agent holds no netlink route socket: ``HelperRoutes.reconcile(desired)``
runs this module as a child process, the desired routes as JSON on stdin; the child reconciles
them with ``HostGwRoutes(PyrouteRouteTable())`` in its namespace (the agent's, or ``--netns``)
and prints what it did as JSON on stdout::

    stdin   {"routes": [{"dst": "10.244.2.0/24", "gateway": "10.77.0.12", "dev": null}]}
    stdout  {"added": [...], "replaced": [...], "removed": [...],
             "errors": [{"route": {...}, "message": "route 10.244.9.0/24 via ...: Network is unreachable"}]}

A child that cannot do its job at all (no netlink socket, bad input) exits non-zero with one
line on stderr, which ``HelperRoutes`` raises as ``RouteError``.

``HelperRoutes`` runs the child only when the desired routes differ from those last applied
without errors, or when ``resync`` seconds have passed since (somebody may have deleted a
route): an idle node spawns one short process every few minutes.
"""

from __future__ import annotations

import argparse
import errno
import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agent.network.routes import HostGwRoutes, PyrouteRouteTable, Route, RouteChanges, RouteError

__all__ = ["HelperRoutes", "changes_from_json", "changes_to_json", "main"]

MODULE = "agent.network.routes_apply"


def _route(data: Any) -> Route:
    if not isinstance(data, dict) or not isinstance(data.get("dst"), str):
        raise ValueError(f"not a route: {data!r}")
    gateway, dev = data.get("gateway"), data.get("dev")
    if not isinstance(gateway, str | None) or not isinstance(dev, str | None):
        raise ValueError(f"not a route: {data!r}")
    return Route(data["dst"], gateway=gateway, dev=dev)


def _json_route(route: Route) -> dict[str, str | None]:
    return {"dst": route.dst, "gateway": route.gateway, "dev": route.dev}


def changes_to_json(changes: RouteChanges) -> str:
    return json.dumps({
        "added": [_json_route(r) for r in changes.added],
        "replaced": [_json_route(r) for r in changes.replaced],
        "removed": [_json_route(r) for r in changes.removed],
        "errors": [{"route": _json_route(r), "message": m} for r, m in changes.errors],
    })


def changes_from_json(text: str | bytes) -> RouteChanges:
    """``ValueError`` for anything but what ``changes_to_json`` writes."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not an object")
    return RouteChanges(
        added=tuple(_route(r) for r in data.get("added", ())),
        replaced=tuple(_route(r) for r in data.get("replaced", ())),
        removed=tuple(_route(r) for r in data.get("removed", ())),
        errors=tuple((_route(e["route"]), str(e["message"])) for e in data.get("errors", ())),
    )


class HelperRoutes:
    """``reconcile(desired)`` through the helper process (what the agent uses)."""

    def __init__(
        self,
        *,
        netns: str | None = None,
        resync: float = 300.0,
        timeout: float = 60.0,
        python: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._argv = [python or sys.executable or "python3", "-m", MODULE, *(["--netns", netns] if netns else [])]
        self._resync = resync
        self._timeout = timeout
        self._clock = clock
        self._applied: dict[str, Route] | None = None
        self._recheck_at = 0.0
        self.runs = 0

    def reconcile(self, desired: Mapping[str, Route]) -> RouteChanges:
        now = self._clock()
        if self._applied == desired and now < self._recheck_at:
            return RouteChanges()
        payload = json.dumps({"routes": [_json_route(r) for r in desired.values()]})
        self.runs += 1
        try:
            proc = subprocess.run(self._argv, input=payload.encode(), capture_output=True, timeout=self._timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise RouteError(errno.ETIMEDOUT, f"the route helper did not finish within {self._timeout:g}s") from None
        except OSError as exc:
            raise RouteError(exc.errno or errno.EIO, f"cannot run the route helper: {exc.strerror or exc}") from exc
        if proc.returncode != 0:
            lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RouteError(errno.EIO, f"the route helper failed ({proc.returncode}): "
                             f"{lines[-1] if lines else 'no message'}")
        try:
            changes = changes_from_json(proc.stdout)
        except (ValueError, KeyError, TypeError) as exc:
            raise RouteError(errno.EIO, f"the route helper answered nonsense: {exc}") from exc
        self._applied = None if changes.errors else dict(desired)
        self._recheck_at = now + self._resync
        return changes

    def close(self) -> None:
        """Nothing held between runs."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.splitlines()[0])
    parser.add_argument("--netns", help="a network namespace name or path (default: this process's)")
    args = parser.parse_args(argv)
    try:
        data = json.load(sys.stdin)
        desired = {r.dst: r for r in (_route(x) for x in data["routes"])}
    except (ValueError, KeyError, TypeError) as exc:
        print(f"routes_apply: bad input: {exc}", file=sys.stderr)
        return 2
    try:
        table = PyrouteRouteTable(args.netns)
    except OSError as exc:
        print(f"routes_apply: cannot open a netlink route socket: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        changes = HostGwRoutes(table).reconcile(desired)
    except RouteError as exc:  # listing our routes failed: nothing was changed
        print(f"routes_apply: {exc}", file=sys.stderr)
        return 1
    finally:
        table.close()
    print(changes_to_json(changes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
