"""DefaultBinder: POST pods/<name>/binding, what every scheduler profile ends with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from master.client import errors
from master.scheduler.framework import status
from master.scheduler.framework.interface import CycleState, Handle
from master.scheduler.framework.status import Status
from master.scheduler.framework.types import PodInfo

__all__ = ["NAME", "DefaultBinder", "new"]

NAME = "DefaultBinder"


class DefaultBinder:
    name = NAME

    def __init__(self, handle: Handle) -> None:
        self._handle = handle

    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        try:
            await self._handle.api.bind(pod.name, node_name, namespace=pod.namespace)
        except errors.ClientError as exc:
            return status.error(f"binding rejected: {exc}")
        return None


def new(args: Mapping[str, Any], handle: Handle) -> DefaultBinder:
    return DefaultBinder(handle)
