"""The agent process's main loop, and its lean entry point.

``pictl agent`` parses and checks its flags with the CLI's libraries (typer, click, rich,
pydantic), then replaces itself (``os.execve``, same pid) with a Python running
``agent.main.main``, which imports only what the agent needs: on a Pi that is ~15 MB of RSS
less for the whole life of the agent. The checked settings travel in the environment variable ``PICLUSTER_AGENT_LAUNCH``
(a pickle made by the same program a moment earlier; it holds the join token, as the command
line did, so only root can read it in /proc).

``run_agent`` starts the agent (after joining with a token, when asked), waits for SIGTERM or
SIGINT, and stops it; the pods keep running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from master.util import launch as launch_util

if TYPE_CHECKING:  # the agent's modules load after the signal handlers are in place (main)
    from agent.agent import Agent, AgentSettings

__all__ = ["LAUNCH_ENV", "Launch", "decode_launch", "encode_launch", "main", "run_agent"]

log = logging.getLogger("pictl.agent")

LAUNCH_ENV = "PICLUSTER_AGENT_LAUNCH"

# A SIGTERM that arrives while the agent is still importing and starting: stop at once.
_early_stop: list[int] = []


@dataclass(frozen=True)
class Launch:
    settings: AgentSettings
    join: Any = None  # agent.kubelet.bootstrap.JoinSettings
    log_level: int = logging.INFO


def encode_launch(launch: Launch) -> str:
    return launch_util.encode(launch)


def decode_launch(text: str) -> Launch:
    return launch_util.decode(text, Launch, env=LAUNCH_ENV, what="agent settings")


async def _join(join: Any, agent: Agent) -> asyncio.Task[None]:
    """Join (agent/kubelet/bootstrap.py) and start renewing the node's certificates."""
    from agent.kubelet import bootstrap

    assert isinstance(join, bootstrap.JoinSettings)
    cfg = await bootstrap.join(join, step=lambda msg: log.info("%s", msg))

    async def rotated(new: object) -> None:
        if agent.api is not None:
            await agent.api.use_credentials(replace(agent.api.config, cert_data=getattr(new, "cert_data", None),
                                                    key_data=getattr(new, "key_data", None)))

    manager = bootstrap.CertificateManager(join, cfg, on_rotated=rotated)
    return asyncio.create_task(manager.run(), name="certificate-renewal")


async def run_agent(settings: AgentSettings, *, stop: asyncio.Event | None = None, join: Any = None) -> None:
    """Start the agent, wait for ``stop`` (or SIGTERM/SIGINT), stop it. With ``join`` (a
    ``bootstrap.JoinSettings``), join first and keep the node's certificates renewed."""
    from agent.agent import Agent, limit_malloc_arenas, shrink_tls_buffers

    limit_malloc_arenas()
    shrink_tls_buffers()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if _early_stop:
        stop.set()
    agent = Agent(settings, step=lambda msg: log.info("%s", msg))
    renewals = await _join(join, agent) if join is not None else None
    start = asyncio.create_task(agent.start(), name="agent-start")
    stopper = asyncio.create_task(stop.wait(), name="agent-stop")
    try:
        done, _ = await asyncio.wait({start, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if start in done:
            start.result()
            await stopper
        log.info("agent: shutting down (pods keep running)")
    finally:
        start.cancel()
        stopper.cancel()
        if renewals is not None:
            renewals.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await start
        await agent.stop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        log.info("agent: stopped")


class _NeverRaised(Exception):
    pass


def run(launch: Launch) -> int:
    """Run the agent in this process; the exit code (failures are one line on stderr)."""
    join_error: type[Exception] = _NeverRaised
    if launch.join is not None:  # bootstrap (certificates, CSRs) is loaded only by a joining agent
        from agent.kubelet.bootstrap import JoinError

        join_error = JoinError
    logging.basicConfig(level=launch.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname).1s %(name)s: %(message)s")
    try:
        asyncio.run(run_agent(launch.settings, join=launch.join))
    except join_error as exc:
        print(f"error: agent: cannot join: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: agent: {exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def main() -> int:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: _early_stop.append(signum))
    try:
        launch = launch_util.from_environ(Launch, env=LAUNCH_ENV, what="agent settings")
    except ValueError as exc:
        print(f"error: agent.main is started by `pictl agent` ({exc})", file=sys.stderr)
        return 2
    return run(launch)
