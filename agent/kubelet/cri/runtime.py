"""The container runtime contract the kubelet programs against.

Two implementations, held to one contract suite (``tests/unit/agent/kubelet/cri_contract``, run
against both): ``containerd.ContainerdRuntime`` (the CRI over containerd's unix socket) and
``fake.FakeRuntime`` (in memory, for fast tests of pod workers).

Every method raises a ``CRIError`` subclass on failure (see ``errors``). Semantics follow the CRI:

Sandboxes (a pod's network namespace and its pause container)::

    sid = await rt.run_sandbox(SandboxConfig(name="web", uid="u1", namespace="default"))
    (await rt.sandbox_status(sid)).state      -> SandboxState.READY, .ip "10.244.1.7"
    await rt.stop_sandbox(sid)                -> every container in it is killed; state NOTREADY
    await rt.remove_sandbox(sid)              -> the sandbox and all its containers are gone

- ``run_sandbox`` with the (name, uid, namespace, attempt) of a sandbox that is not removed yet
  (stopped ones too) raises AlreadyExistsError: after an agent restart, relist and adopt
  instead of running again; to replace a dead sandbox, run attempt + 1 (or remove it first).
- ``stop_*`` and ``remove_*`` are idempotent: an unknown or already removed id is not an error.
- ``*_status`` of an unknown id raises NotFoundError.

Containers: created -> running -> exited, never back::

    cid = await rt.create_container(sid, ContainerConfig(name="app", image="localhost/web:1"), sandbox_config)
    await rt.start_container(cid)             -> RUNNING (started_at set)
    await rt.stop_container(cid, grace_period=30)  -> TERM, up to 30 s, KILL; EXITED (code, reason)

- ``create_container`` needs the image present (else NotFoundError: pull first) and the sandbox
  READY (else NotFoundError); ``start_container`` of a container that is not CREATED raises
  FailedPreconditionError.
- An exited container's status has ``exit_code``, ``finished_at`` and ``reason`` in
  {"Completed", "Error", "OOMKilled", "Unknown"}. Restarting means a new container with
  attempt + 1 (the name stays reserved until the old one is removed).
- After the node loses power, everything is still listed: running containers are EXITED with
  255 and reason "Unknown", sandboxes NOTREADY without an IP. A containerd restart alone keeps
  running containers running (UnavailableError while it is down).
- ``exec_sync`` runs a command in a RUNNING container; a non-zero exit is a value
  (``ExecResult.exit_code``); running past ``timeout_seconds`` raises DeadlineExceededError; a container
  that is not running raises FailedPreconditionError (or NotFoundError if unknown).

Images: ``image_status`` returns None for an absent image (not an error); ``pull_image`` raises
ImagePullError (ErrImagePull) when the image cannot be fetched, and returns the image id;
``remove_image`` is idempotent.

Lists take optional filters (all ANDed): state, labels (every given key=value must match),
and for containers the sandbox id. Order is unspecified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from agent.kubelet.cri.types import (
    Container,
    ContainerConfig,
    ContainerState,
    ContainerStats,
    ContainerStatus,
    ExecResult,
    FilesystemUsage,
    Image,
    RuntimeStatus,
    RuntimeVersion,
    Sandbox,
    SandboxConfig,
    SandboxState,
    SandboxStatus,
)

__all__ = ["Runtime"]


class Runtime(Protocol):
    async def version(self) -> RuntimeVersion: ...

    async def status(self) -> RuntimeStatus: ...

    # Sandboxes

    async def run_sandbox(self, config: SandboxConfig) -> str:
        """Create and start a sandbox; its id."""
        ...

    async def stop_sandbox(self, sandbox_id: str) -> None: ...

    async def remove_sandbox(self, sandbox_id: str) -> None: ...

    async def sandbox_status(self, sandbox_id: str) -> SandboxStatus: ...

    async def list_sandboxes(
        self, *, state: SandboxState | None = None, labels: Mapping[str, str] | None = None
    ) -> list[Sandbox]: ...

    # Containers

    async def create_container(
        self, sandbox_id: str, config: ContainerConfig, sandbox_config: SandboxConfig
    ) -> str:
        """Create (not start) a container in the sandbox; its id."""
        ...

    async def start_container(self, container_id: str) -> None: ...

    async def stop_container(self, container_id: str, grace_period: float) -> None:
        """TERM (the image's stop signal), wait up to ``grace_period`` seconds (rounded up), then
        KILL; 0 kills at once. Returns when the container has exited."""
        ...

    async def remove_container(self, container_id: str) -> None:
        """Remove a container (a running one is killed first)."""
        ...

    async def container_status(self, container_id: str) -> ContainerStatus: ...

    async def list_containers(
        self,
        *,
        sandbox_id: str | None = None,
        state: ContainerState | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[Container]: ...

    async def reopen_container_log(self, container_id: str) -> None:
        """Make a running container write to a fresh file at its log path (after the kubelet
        renamed the old one away for rotation). FailedPreconditionError if it is not running."""
        ...

    async def exec_sync(self, container_id: str, cmd: Sequence[str], timeout_seconds: float) -> ExecResult:
        """Run ``cmd`` in the container and collect its output (rounded up to whole seconds, min 1)."""
        ...

    # Images

    async def list_images(self) -> list[Image]: ...

    async def image_status(self, image: str) -> Image | None: ...

    async def pull_image(self, image: str, *, sandbox_config: SandboxConfig | None = None) -> str:
        """Fetch an image (no registry auth); its id ("sha256:...")."""
        ...

    async def remove_image(self, image: str) -> None: ...

    async def image_fs_info(self) -> list[FilesystemUsage]: ...

    # Stats

    async def container_stats(self, container_id: str) -> ContainerStats: ...

    async def list_container_stats(
        self, *, sandbox_id: str | None = None, labels: Mapping[str, str] | None = None
    ) -> list[ContainerStats]: ...

    async def close(self) -> None: ...
