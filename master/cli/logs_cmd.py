"""``pictl logs``: a container's log through the apiserver's ``pods/log`` (proxied to the agent).

::

    pictl logs web                       the log so far (the only container, or the default one)
    pictl logs web -c sidecar --tail 20
    pictl logs -f deploy/web             follow a pod of the deployment until Ctrl-C
    pictl logs web --previous            the log of the container's last terminated instance

For ``deploy/``, ``rs/``, ``ds/`` and ``svc/`` names the pod is one the object selects, a
running one first, as kubectl picks it.
"""

from __future__ import annotations

import codecs
import sys
from dataclasses import dataclass
from typing import Any

import typer

from master.cli.kube import options, session
from master.cli.main import CLIError

__all__ = ["register"]

_BOOL_FLAGS = {"--follow": "", "--previous": "", "--timestamps": "", "--all-containers": ""}
DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"


def prepare_argv(argv: list[str]) -> list[str]:
    return options.bool_flags(argv, _BOOL_FLAGS)


def register(app: typer.Typer) -> None:
    @app.command("logs")
    @options.kube_command
    def logs(
        target: str = typer.Argument(..., metavar="POD | TYPE/NAME", help="The pod (or deploy/NAME, ...)."),
        container: str = typer.Option("", "--container", "-c", help="The container (default: the only one)."),
        follow: bool = typer.Option(False, "--follow", "-f", help="Stream the log as it grows."),
        tail: int = typer.Option(-1, "--tail", help="Only the last N lines (-1: all)."),
        previous: bool = typer.Option(False, "--previous", "-p", help="The previous (terminated) instance."),
        timestamps: bool = typer.Option(False, "--timestamps", help="Prefix each line with its timestamp."),
        since: str = typer.Option("", "--since", help="Only lines newer than this duration (5s, 2m, 3h)."),
        all_containers: bool = typer.Option(False, "--all-containers", help="Every container of the pod."),
        limit_bytes: int = typer.Option(0, "--limit-bytes", help="At most this many bytes."),
        *,
        g: options.Globals,
    ) -> None:
        """Print the logs of a container in a pod."""
        if follow and previous:
            raise CLIError("only one of --follow and --previous may be given")
        if container and all_containers:
            raise CLIError("--container cannot be given together with --all-containers")
        since_seconds = int(options.parse_duration(since, flag="--since")) if since else None
        if follow and all_containers:
            raise CLIError("--follow follows one container: give it with -c instead of --all-containers")
        request = _LogRequest(container, follow, tail if tail >= 0 else None, previous, timestamps, since_seconds,
                              all_containers, limit_bytes or None)
        session.run(g, lambda s: _logs(s, target, request))


@dataclass(frozen=True, slots=True)
class _LogRequest:
    container: str
    follow: bool
    tail: int | None
    previous: bool
    timestamps: bool
    since: int | None
    all_containers: bool
    limit_bytes: int | None


def _is_running(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and not (pod.get("metadata") or {}).get(
        "deletionTimestamp")


async def _pod_of(s: session.Session, target: str) -> dict[str, Any]:
    """The pod a logs target names: a pod, or one selected by a workload or service."""
    from master.cli.kube import resources

    kind, slash, name = target.partition("/")
    if not slash:
        kind, name = "pods", target
    try:
        res = resources.lookup(kind)
    except resources.ResourceError as exc:
        raise CLIError(str(exc)) from None
    if not name:
        raise CLIError(f'invalid target "{target}": want POD or TYPE/NAME')
    obj = await s.rest.get(res, name, s.namespace if res.namespaced else "")
    if res.plural == "pods":
        return obj
    spec = obj.get("spec") or {}
    if res.plural == "services":
        selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items()))
    elif res.plural in ("deployments", "replicasets", "daemonsets"):
        sel = spec.get("selector") or {}
        parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
        for e in sel.get("matchExpressions") or []:
            op, values = e.get("operator"), ",".join(e.get("values") or [])
            parts.append({"In": f"{e['key']} in ({values})", "NotIn": f"{e['key']} notin ({values})",
                          "Exists": e["key"], "DoesNotExist": f"!{e['key']}"}.get(op, ""))
        selector = ",".join(p for p in parts if p)
    else:
        raise CLIError(f"cannot get logs from {res.plural}: want a pod, deployment, replicaset, daemonset or service")
    if not selector:
        raise CLIError(f"{target} selects no pods (it has no selector)")
    pods = await s.rest.items(resources.lookup("pods"), s.namespace, label_selector=selector)
    if not pods:
        raise CLIError(f"no pods found for {target}")
    pods.sort(key=lambda p: (not _is_running(p), (p.get("metadata") or {}).get("creationTimestamp") or ""))
    chosen = pods[0]
    if len(pods) > 1:
        print(f"Found {len(pods)} pods, using pod/{chosen['metadata']['name']}", file=sys.stderr)
    return chosen


def _containers(pod: dict[str, Any], req: _LogRequest) -> list[str]:
    spec = pod.get("spec") or {}
    names = [c.get("name", "") for c in spec.get("containers") or []]
    if req.container:
        return [req.container]
    if req.all_containers:
        return [c.get("name", "") for c in spec.get("initContainers") or []] + names
    if len(names) <= 1:
        return names[:1] or [""]
    default = str(((pod.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CONTAINER, ""))
    chosen = default if default in names else names[0]
    print(f'Defaulted container "{chosen}" out of: {", ".join(names)}', file=sys.stderr)
    return [chosen]


class _Writer:
    """stdout for log bytes: raw when possible, else decoded without breaking characters in two."""

    def __init__(self) -> None:
        self.buffer = getattr(sys.stdout, "buffer", None)
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def write(self, chunk: bytes) -> None:
        if self.buffer is not None:
            self.buffer.write(chunk)
            self.buffer.flush()
        else:
            sys.stdout.write(self.decoder.decode(chunk))
            sys.stdout.flush()


async def _logs(s: session.Session, target: str, req: _LogRequest) -> int:
    pod = await _pod_of(s, target)
    name = (pod.get("metadata") or {}).get("name", "")
    out = _Writer()
    containers = _containers(pod, req)
    for container in containers:
        if req.follow:
            async with s.api.stream_log(name, namespace=s.namespace, container=container, tail_lines=req.tail,
                                        since_seconds=req.since, timestamps=req.timestamps) as stream:
                async for chunk in stream:
                    out.write(chunk)
            continue
        data = await s.api.read_log(name, namespace=s.namespace, container=container, tail_lines=req.tail,
                                    since_seconds=req.since, timestamps=req.timestamps, previous=req.previous,
                                    limit_bytes=req.limit_bytes)
        out.write(data)
    return 0
