"""Small pieces several controllers share: selector caching, batches, int-or-percent, writes with one retry."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import msgspec

from master.api import labels, meta
from master.api.schema import IntOrString
from master.client import errors
from master.client.rest import ApiClient

__all__ = [
    "SelectorCache",
    "scaled_value",
    "slow_start_batch",
    "update_status",
]

T = TypeVar("T", bound=meta.Object)

# The first batch of a slow start, doubled while every call of a batch succeeds (upstream's value).
SLOW_START_INITIAL_BATCH = 1


class SelectorCache:
    """Parsed ``spec.selector`` of workloads by uid (selectors of workloads are immutable).

    An invalid selector selects nothing (the apiserver refuses them; this is belt and braces).
    """

    def __init__(self) -> None:
        self._by_uid: dict[str, labels.Selector] = {}

    def of(self, obj: Any) -> labels.Selector:
        uid = obj.metadata.uid
        sel = self._by_uid.get(uid)
        if sel is None:
            try:
                sel = labels.from_label_selector(obj.spec.selector)
            except labels.SelectorError:
                sel = labels.Selector.nothing()
            self._by_uid[uid] = sel
        return sel

    def forget(self, uid: str) -> None:
        self._by_uid.pop(uid, None)


async def slow_start_batch(count: int, fn: Callable[[], Awaitable[Any]]) -> tuple[int, BaseException | None]:
    """Call ``fn`` ``count`` times in batches of 1, 2, 4 ... stopping after a batch with a failure.

    Returns (successes, first error). A quota or admission failure so costs one call, not
    ``count`` (Kubernetes' slowStartBatch).
    """
    successes = 0
    remaining = count
    batch = min(remaining, SLOW_START_INITIAL_BATCH)
    while batch > 0:
        results = await asyncio.gather(*(fn() for _ in range(batch)), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        for f in failures:
            if isinstance(f, asyncio.CancelledError):
                raise f
        successes += batch - len(failures)
        if failures:
            return successes, failures[0]
        remaining -= batch
        batch = min(2 * batch, remaining)
    return successes, None


def scaled_value(value: IntOrString | None, total: int, *, round_up: bool) -> int:
    """An int, or a percentage of ``total`` ("25%" of 10 is 3 rounding up, 2 rounding down)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = value.strip()
    if not text.endswith("%") or not text[:-1].isdigit():
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"invalid value for IntOrString: invalid value {value!r}") from None
    percent = int(text[:-1])
    exact = percent * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


async def update_status(api: ApiClient, obj: T, status: Any) -> T:
    """Write ``status`` through the status subresource (nothing when it is already there).

    On a Conflict the object is read again and the write retried once; a second Conflict is
    raised (the controller retries the key).
    """
    current: Any = obj
    if current.status == status:
        return obj
    try:
        return await api.update_status(msgspec.structs.replace(current, status=status))
    except errors.Conflict:
        fresh: Any = await api.get(type(obj), obj.metadata.name, namespace=obj.metadata.namespace)
        if fresh.metadata.uid != obj.metadata.uid:
            raise errors.NotFound(f"{obj.kind} {obj.metadata.name} was replaced", code=404) from None
        if fresh.status == status:
            return fresh
        return await api.update_status(msgspec.structs.replace(fresh, status=status))


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
