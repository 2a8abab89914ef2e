"""One cluster command's run: kubeconfig -> ``ApiClient`` -> asyncio, every failure one line.

::

    def get(..., *, g: options.Globals) -> None:
        session.run(g, lambda s: _get(s, ...))      # _get(s: Session) -> int | None (exit code)

Where the kubeconfig comes from is kubectl's rule (``--kubeconfig``, else ``$KUBECONFIG``,
else ``~/.kube/config``); ``-n`` wins over the context's namespace, which wins over
"default". Expected failures (bad kubeconfig, server down, API errors) become ``CLIError``
with kubectl's wording; a non-zero code from the body becomes the exit code.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import typer

from master.cli.kube import errors as cli_errors
from master.cli.kube.options import Globals
from master.cli.kube.rest import Rest
from master.cli.main import CLIError
from master.client import errors, kubeconfig
from master.client.config import ClientConfig
from master.client.rest import ApiClient

__all__ = ["Session", "client_config", "run", "warn"]


@dataclass(slots=True)
class Session:
    """What a verb works with: the raw client, the typed client and the resolved namespace."""

    api: ApiClient
    rest: Rest
    globals: Globals

    @property
    def namespace(self) -> str:
        return self.api.config.namespace

    @property
    def explicit_namespace(self) -> bool:
        """-n was given (apply then refuses objects that name another namespace)."""
        return self.globals.namespace is not None


def client_config(g: Globals) -> ClientConfig:
    """The resolved connection settings; ``errors.ConfigError`` when the kubeconfig is unusable."""
    if g.namespace is not None and not g.namespace.strip():
        raise errors.ConfigError("a namespace must not be empty (-n)")
    cfg = kubeconfig.load_client_config(g.kubeconfig, context=g.context, server=g.server, namespace=g.namespace)
    # One quick retry: a server that is down should say so at once, as kubectl does.
    cfg = dataclasses.replace(cfg, user_agent="pictl", retries=1)
    if g.request_timeout is not None:
        cfg = dataclasses.replace(cfg, timeout=g.request_timeout)
    return cfg


def warn(message: str) -> None:
    print(f"Warning: {message}", file=sys.stderr)


def run(g: Globals, body: Callable[[Session], Awaitable[int | None]]) -> None:
    """Run ``body`` against the cluster; raise ``CLIError`` or ``typer.Exit`` on failure."""
    try:
        cfg = client_config(g)
    except errors.ClientError as exc:
        raise _cli_error(exc) from None
    code = asyncio.run(_run(cfg, g, body))
    if code:
        raise typer.Exit(code)


async def _run(cfg: ClientConfig, g: Globals, body: Callable[[Session], Awaitable[int | None]]) -> int:
    try:
        api = ApiClient(cfg, pool_size=8)
    except errors.ClientError as exc:
        raise _cli_error(exc) from None
    async with api:
        try:
            return await body(Session(api, Rest(api), g)) or 0
        except errors.ClientError as exc:
            raise _cli_error(exc) from None


def _cli_error(exc: errors.ClientError) -> CLIError:
    err = cli_errors.cli_error(exc)
    assert err is not None  # every ClientError has a line
    return err
