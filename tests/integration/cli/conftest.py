"""A real apiserver for the pictl tests, served from a background thread for the whole session.

Most tests run ``pictl`` in-process (``cluster.pictl("get", "pods")`` calls ``main`` with stdout
and stderr captured), which is fast; a few run the installed ``pictl`` and ``kubectl`` as
subprocesses. The server's own event loop runs in the thread, so sync tests can call ``main``
(which runs its own ``asyncio.run``) while the server keeps serving; ``cluster.call(coro)``
runs a coroutine on the server's loop (hollow nodes, fake agents, status updates).

Every test works in its own namespace (``ns`` fixture) so tests never see each other's objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.fixtures.apiserver import ROOT, Api, running_apiserver

T = TypeVar("T")

PICTL = ROOT / ".venv" / "bin" / "pictl"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


class Cluster:
    def __init__(self, api: Api, loop: asyncio.AbstractEventLoop, data_dir: Path) -> None:
        self.api = api
        self.loop = loop
        self.data_dir = data_dir
        self.kubeconfig = data_dir / "admin.kubeconfig"

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def spawn(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        """Start a coroutine on the server's loop without waiting for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def request(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        return self.call(self.api.request(method, path, **kw))

    def pictl(self, *argv: str, input: str = "", env: dict[str, str] | None = None) -> Result:
        """``pictl ARGV`` in this process against the cluster (KUBECONFIG set to its admin file)."""
        from master.cli.main import main

        out, err = io.StringIO(), io.StringIO()
        saved = {k: os.environ.get(k) for k in ("KUBECONFIG", *(env or {}))}
        os.environ.update({"KUBECONFIG": str(self.kubeconfig), **(env or {})})
        old_stdin = sys.stdin
        sys.stdin = io.StringIO(input)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(list(argv))
        finally:
            sys.stdin = old_stdin
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        return Result(code, out.getvalue(), err.getvalue())

    def ok(self, *argv: str, input: str = "") -> str:
        r = self.pictl(*argv, input=input)
        assert r.code == 0, f"pictl {' '.join(argv)} failed ({r.code}):\n{r.out}\n{r.err}"
        return r.out

    def run(self, *argv: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """The installed ``pictl`` as a subprocess."""
        return subprocess.run([str(PICTL), *argv], capture_output=True, text=True, input=input, timeout=timeout,
                              env={**os.environ, "KUBECONFIG": str(self.kubeconfig)})

    def kubectl(self, *argv: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(["kubectl", "--kubeconfig", str(self.kubeconfig), *argv], capture_output=True,
                                text=True, input=input, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}")
        return result


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    data_dir = tmp_path_factory.mktemp("pictl-cluster")
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def serve() -> None:
        try:
            async with running_apiserver(data_dir) as api:
                state["api"] = api
                state["loop"] = asyncio.get_running_loop()
                state["stop"] = asyncio.Event()
                ready.set()
                await state["stop"].wait()
        except BaseException as exc:
            state["error"] = exc
            ready.set()
            raise

    thread = threading.Thread(target=lambda: asyncio.run(serve()), name="pictl-apiserver", daemon=True)
    thread.start()
    assert ready.wait(60), "the apiserver did not start"
    if "error" in state:
        raise RuntimeError(f"the apiserver did not start: {state['error']!r}")
    try:
        yield Cluster(state["api"], state["loop"], data_dir)
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(30)


@pytest.fixture
def ns(cluster: Cluster) -> Iterator[str]:
    """A fresh namespace for one test (left Terminating afterwards: no namespace controller runs)."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    cluster.ok("create", "namespace", name)
    try:
        yield name
    finally:
        cluster.pictl("delete", "namespace", name, "--wait=false", "--ignore-not-found")
