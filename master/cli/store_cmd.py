"""``pictl store``: the store alone, serving etcd's v3 API, as ``./etcd`` runs in the course.

The flags are checked here; then the command replaces itself with the lean store process
(``master.store.main``, same pid), which does not carry the CLI's libraries.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from master.cli import relaunch

if TYPE_CHECKING:
    from master.store.main import Launch

__all__ = ["register"]


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


def register(app: typer.Typer) -> None:
    @app.command("store")
    def store(
        data_dir: Path = typer.Option(
            Path("/var/lib/picluster/master/store"), "--data-dir", help="Where the store keeps its database."
        ),
        listen_client_urls: str = typer.Option(
            "http://127.0.0.1:2379",
            "--listen-client-urls",
            help="Comma-separated URLs to serve the etcd v3 API on.",
        ),
        advertise_client_urls: str = typer.Option(
            "",
            "--advertise-client-urls",
            help="Client URLs reported by member list (default: the listen URLs).",
        ),
        listen_metrics_urls: str = typer.Option(
            "",
            "--listen-metrics-urls",
            help="Comma-separated URLs to serve /metrics on (e.g. http://127.0.0.1:2381).",
        ),
        backend: str = typer.Option("sqlite", "--backend", help="sqlite (durable) or memory."),
        auto_compaction_mode: str = typer.Option(
            "periodic", "--auto-compaction-mode", help="periodic (retention is a duration) or revision."
        ),
        auto_compaction_retention: str = typer.Option(
            "10m",
            "--auto-compaction-retention",
            help="History to keep: a duration (10m, 1h; a plain number is hours), revisions in revision mode; 0 = off.",
        ),
        name: str = typer.Option("default", "--name", help="Member name reported by member list."),
        max_request_bytes: int = typer.Option(
            1536 * 1024, "--max-request-bytes", help="Largest write request."
        ),
        max_txn_ops: int = typer.Option(128, "--max-txn-ops", help="Most operations in one txn."),
        log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error."),
        event_loop: str = typer.Option(
            "auto", "--event-loop", help="auto (uvloop when installed), uvloop or asyncio."
        ),
    ) -> None:
        """Run the store standalone: etcd v3 gRPC for etcdctl and --etcd-servers clients."""
        from master.cli.main import CLIError
        from master.store.backends import BACKENDS
        from master.store.main import Launch
        from master.store.server import ServerError, ServerSettings, parse_retention, parse_urls
        from master.store.settings import StoreSettings
        from master.util import eventloop

        level = getattr(logging, log_level.upper(), None)
        if not isinstance(level, int):
            raise CLIError(f"invalid --log-level {log_level!r}: want debug, info, warning or error")
        if backend not in BACKENDS:
            raise CLIError(f"invalid --backend {backend!r}: want {' or '.join(sorted(BACKENDS))}")
        if max_request_bytes <= 0 or max_txn_ops <= 0:
            raise CLIError("--max-request-bytes and --max-txn-ops must be positive")
        try:
            eventloop.check(event_loop)
        except ValueError as exc:
            raise CLIError(f"invalid --event-loop: {exc}") from None
        try:
            retain_revisions, retain_seconds = parse_retention(
                auto_compaction_retention, auto_compaction_mode
            )
            client_urls = _split(listen_client_urls)
            parse_urls(",".join(client_urls), default_port=2379, what="--listen-client-urls")
            advertised = _split(advertise_client_urls) or client_urls
            parse_urls(",".join(advertised), default_port=2379, what="--advertise-client-urls")
            metrics_urls = _split(listen_metrics_urls)
            if metrics_urls:
                parse_urls(",".join(metrics_urls), default_port=2381, what="--listen-metrics-urls")
        except ServerError as exc:
            raise CLIError(str(exc)) from None
        settings = ServerSettings(
            store=StoreSettings(
                data_dir=data_dir,
                backend=backend,
                max_request_bytes=max_request_bytes,
                max_txn_ops=max_txn_ops,
                compaction_retain_revisions=retain_revisions,
                compaction_retain_seconds=retain_seconds,
                name=name,
                client_urls=advertised,
            ),
            client_urls=client_urls,
            metrics_urls=metrics_urls,
        )
        _exec_store(Launch(settings=settings, log_level=level, event_loop=event_loop))


def _exec_store(launch: Launch) -> NoReturn:
    """Become the lean store process (same pid) without the CLI's libraries; see
    master/store/main.py. Runs here when the interpreter cannot be executed."""
    from master.store.main import LAUNCH_ENV, encode_launch, run_launch

    relaunch.exec_python("import master.store.main as m; raise SystemExit(m.main())",
                         {LAUNCH_ENV: encode_launch(launch)})
    raise SystemExit(run_launch(launch))
