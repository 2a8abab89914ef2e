"""Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics.

Candidates share one Lease (e.g. ``kube-system/kube-controller-manager``). Every
``retry_period`` a candidate reads it and:

- creates it if it does not exist (holderIdentity = me, leaseTransitions 0);
- leaves it alone while another holder's lease is unexpired. Expiry is judged on the local
  clock: ``leaseDurationSeconds`` after *this* candidate last saw the record change, never by
  comparing the record's renewTime with our wall clock (clocks of Pis drift);
- otherwise takes it over: holderIdentity = me, acquireTime = renewTime = now,
  leaseTransitions + 1 (a renewal by the holder keeps acquireTime and leaseTransitions).

Writes are PUTs with the read resourceVersion, so of two candidates racing for an expired
lease exactly one wins (the other gets 409 Conflict and stays a follower).

The leader renews every ``retry_period``; if it cannot renew for ``renew_deadline`` it stops
leading (``on_stopped_leading``) and ``run()`` returns: it must assume another candidate takes
over once the lease expires, so ``renew_deadline < lease_duration``. On a clean stop
(``run()`` cancelled) the leader releases the lease: holderIdentity "" and
leaseDurationSeconds 1, so a follower takes over at its next retry instead of waiting out
the lease.

Defaults are kube-controller-manager's: lease 15 s, renew deadline 10 s, retry 2 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from master.api import coordination, meta, timefmt
from master.client import errors
from master.client.rest import ApiClient
from master.util.clock import Clock, RealClock

__all__ = ["LeaderElectionSettings", "LeaderElector"]

log = logging.getLogger(__name__)

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class LeaderElectionSettings:
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    release_on_cancel: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.retry_period < self.renew_deadline < self.lease_duration:
            raise ValueError(
                "leader election needs 0 < retry_period < renew_deadline < lease_duration, got "
                f"{self.retry_period}, {self.renew_deadline}, {self.lease_duration}"
            )


class LeaderElector:
    def __init__(
        self,
        api: ApiClient,
        *,
        name: str,
        namespace: str = "kube-system",
        identity: str,
        on_started_leading: Callable[[], Awaitable[None]] | None = None,
        on_stopped_leading: Callable[[], None] | None = None,
        on_new_leader: Callable[[str], None] | None = None,
        settings: LeaderElectionSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not identity:
            raise ValueError("leader election needs a non-empty identity")
        self.api = api
        self.name = name
        self.namespace = namespace
        self.identity = identity
        self.on_started_leading = on_started_leading
        self.on_stopped_leading = on_stopped_leading
        self.on_new_leader = on_new_leader
        self.settings = settings or LeaderElectionSettings()
        self.clock = clock or RealClock()
        self.leader = ""  # the holder we last observed
        self._observed: coordination.LeaseSpec | None = None
        self._observed_at = 0.0
        self._lease: coordination.Lease | None = None
        self._leading = False

    def is_leader(self) -> bool:
        return self._leading

    async def run(self) -> None:
        """Campaign until leading, lead until the lease is lost (then return) or cancelled (release)."""
        work: asyncio.Task[None] | None = None
        try:
            await self._acquire()
            self._leading = True
            log.info("%s: became leader of %s/%s", self.identity, self.namespace, self.name)
            if self.on_started_leading is not None:
                work = asyncio.ensure_future(self.on_started_leading())
            await self._renew_loop(work)
        finally:
            was_leading = self._leading
            self._leading = False
            if work is not None and not work.done():
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
            if was_leading:
                if self.settings.release_on_cancel:
                    await self._release()
                log.info("%s: stopped leading %s/%s", self.identity, self.namespace, self.name)
                if self.on_stopped_leading is not None:
                    self.on_stopped_leading()

    async def _acquire(self) -> None:
        while True:
            if await self._try(self.settings.renew_deadline):
                return
            await self.clock.sleep(self.settings.retry_period)

    async def _renew_loop(self, work: asyncio.Task[None] | None) -> None:
        s = self.settings
        while True:
            deadline = self.clock.monotonic() + s.renew_deadline
            while True:
                remaining = deadline - self.clock.monotonic()
                if remaining <= 0:
                    log.warning(
                        "%s: failed to renew lease %s/%s within %ss",
                        self.identity,
                        self.namespace,
                        self.name,
                        s.renew_deadline,
                    )
                    return
                if await self._try(remaining):
                    break
                await self.clock.sleep(min(s.retry_period, remaining))
            if work is not None and work.done() and not work.cancelled() and work.exception() is not None:
                raise work.exception()  # type: ignore[misc]
            await self.clock.sleep(s.retry_period)

    async def _try(self, budget: float) -> bool:
        """One try_acquire_or_renew, bounded by ``budget`` seconds of our clock."""
        try:
            return await self._bounded(self._try_acquire_or_renew(), budget)
        except TimeoutError:
            log.warning("%s: lease %s/%s: request timed out", self.identity, self.namespace, self.name)
        except errors.ClientError as exc:
            log.warning("%s: lease %s/%s: %s", self.identity, self.namespace, self.name, exc)
        return False

    async def _bounded(self, coro: Coroutine[Any, Any, R], budget: float) -> R:
        """``coro``'s result, or TimeoutError after ``budget`` seconds of our (possibly fake) clock."""
        task = asyncio.ensure_future(coro)
        timer = asyncio.ensure_future(self.clock.sleep(budget))
        try:
            done, _ = await asyncio.wait((task, timer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if task not in done:
            raise TimeoutError
        return task.result()

    async def _try_acquire_or_renew(self) -> bool:
        now_mono = self.clock.monotonic()
        stamp = timefmt.format_micro_time(self.clock.time())
        duration = round(self.settings.lease_duration)
        try:
            lease = await self.api.get(coordination.Lease, self.name, namespace=self.namespace)
        except errors.NotFound:
            lease = coordination.Lease(
                metadata=meta.ObjectMeta(name=self.name, namespace=self.namespace),
                spec=coordination.LeaseSpec(
                    holder_identity=self.identity,
                    lease_duration_seconds=duration,
                    acquire_time=stamp,
                    renew_time=stamp,
                    lease_transitions=0,
                ),
            )
            try:
                self._lease = await self.api.create(lease)
            except errors.AlreadyExists:
                return False
            self._observe(self._lease.spec, now_mono)
            return True

        spec = lease.spec
        if spec != self._observed:
            self._observe(spec, now_mono)
        holder = spec.holder_identity or ""
        i_hold = holder == self.identity
        if holder and not i_hold:
            expires = self._observed_at + float(spec.lease_duration_seconds or 0)
            if expires > now_mono:
                return False
        new_spec = coordination.LeaseSpec(
            holder_identity=self.identity,
            lease_duration_seconds=duration,
            acquire_time=spec.acquire_time if i_hold else stamp,
            renew_time=stamp,
            lease_transitions=(spec.lease_transitions or 0) + (0 if i_hold else 1),
        )
        updated = coordination.Lease(metadata=lease.metadata, spec=new_spec)
        try:
            self._lease = await self.api.update(updated)
        except errors.Conflict:
            return False
        self._observe(self._lease.spec, now_mono)
        return True

    def _observe(self, spec: coordination.LeaseSpec, at: float) -> None:
        self._observed = spec
        self._observed_at = at
        holder = spec.holder_identity or ""
        if holder != self.leader:
            self.leader = holder
            if self.on_new_leader is not None and holder:
                try:
                    self.on_new_leader(holder)
                except Exception:
                    log.exception("%s: on_new_leader failed", self.identity)

    async def _release(self) -> None:
        lease = self._lease
        if lease is None or lease.spec.holder_identity != self.identity:
            return
        stamp = timefmt.format_micro_time(self.clock.time())
        released = coordination.Lease(
            metadata=lease.metadata,
            spec=coordination.LeaseSpec(
                holder_identity=None,
                lease_duration_seconds=1,
                acquire_time=stamp,
                renew_time=stamp,
                lease_transitions=lease.spec.lease_transitions,
            ),
        )
        try:
            await self._bounded(self.api.update(released), self.settings.renew_deadline)
        except (errors.ClientError, TimeoutError) as exc:
            log.warning(
                "%s: could not release lease %s/%s: %s", self.identity, self.namespace, self.name, exc
            )
        else:
            self.leader = ""
