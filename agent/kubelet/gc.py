"""Housekeeping: dead containers, dead sandboxes, unused images, old log files.

Containers (every ``container_gc_period``): for each (pod, container name) the newest
``max_dead_per_container`` exited containers are kept (``kubectl logs --previous`` reads the
newest one) and older exited ones removed. Sandboxes that are not ready and are not their pod's
newest, with no containers left, are removed; for pods the agent no longer knows, every
stopped sandbox goes. Log directories of pods with nothing left are removed.

Images (every ``image_gc_period``): when the image filesystem is more than
``image_gc_high_percent`` full, images no container uses (and not the sandbox image), unused for
at least ``image_minimum_gc_age``, are removed, least recently used first, until usage is below
``image_gc_low_percent``.

Logs (every ``housekeeping_period``): running containers' log files larger than
``container_log_max_bytes`` are rotated, ``container_log_max_files`` kept.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from agent.kubelet import keys, logs
from agent.kubelet.cri import CRIError, Runtime
from agent.kubelet.cri.reference import normalize_image
from agent.kubelet.cri.types import ContainerState, SandboxState
from agent.kubelet.settings import KubeletSettings
from master.util.clock import Clock

__all__ = ["GarbageCollector", "statvfs_usage"]

log = logging.getLogger("picluster.agent.kubelet")

FsUsage = Callable[[str], tuple[int, int] | None]  # mountpoint -> (capacity, used) bytes


def statvfs_usage(path: str) -> tuple[int, int] | None:
    p = Path(path)
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        st = os.statvfs(p)
    except OSError:
        return None
    capacity = st.f_blocks * st.f_frsize
    return capacity, capacity - st.f_bavail * st.f_frsize


class GarbageCollector:
    def __init__(
        self,
        runtime: Runtime,
        *,
        settings: KubeletSettings,
        clock: Clock,
        known_uids: Callable[[], set[str]],
        fs_usage: FsUsage = statvfs_usage,
    ) -> None:
        self._rt = runtime
        self.settings = settings
        self._clock = clock
        self._known = known_uids
        self._fs_usage = fs_usage
        self._unused_since: dict[str, float] = {}  # image id -> when first seen unused

    async def collect_containers(self) -> int:
        """Remove dead containers and sandboxes beyond what is kept; how many objects went."""
        s = self.settings
        known = self._known()
        containers = await self._rt.list_containers()
        sandboxes = await self._rt.list_sandboxes()
        removed = 0
        groups: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
        for c in containers:
            uid = c.labels.get(keys.POD_UID)
            name = c.labels.get(keys.CONTAINER_NAME)
            if not uid or not name or c.state is not ContainerState.EXITED:
                continue
            count = keys.restart_count(c.annotations, c.attempt)
            groups.setdefault((uid, name), []).append((count, c.created_at, c.id))
        for (uid, _name), dead in groups.items():
            dead.sort(reverse=True)
            keep = s.max_dead_per_container if uid in known else 0
            for _, _, cid in dead[max(keep, 1) if uid in known else keep:]:
                await self._rt.remove_container(cid)
                removed += 1
        remaining = {c.sandbox_id for c in await self._rt.list_containers()} if removed else {
            c.sandbox_id for c in containers}
        newest: dict[str, tuple[int, int]] = {}
        for sb in sandboxes:
            uid = sb.labels.get(keys.POD_UID, "")
            newest[uid] = max(newest.get(uid, (-1, -1)), (sb.attempt, sb.created_at))
        for sb in sandboxes:
            uid = sb.labels.get(keys.POD_UID)
            if not uid or sb.state is SandboxState.READY:
                continue
            if uid in known and (sb.attempt, sb.created_at) == newest[uid]:
                continue
            if sb.id in remaining and uid in known:
                continue
            await self._rt.remove_sandbox(sb.id)
            removed += 1
        if removed:
            sandboxes = await self._rt.list_sandboxes()
        self._collect_log_dirs(known | {sb.labels.get(keys.POD_UID, "") for sb in sandboxes})
        return removed

    def _collect_log_dirs(self, keep: set[str]) -> None:
        root = self.settings.log_root
        try:
            entries = os.listdir(root)
        except OSError:
            return
        for entry in entries:
            uid = entry.rsplit("_", 1)[-1]
            if uid and uid not in keep:
                shutil.rmtree(root / entry, ignore_errors=True)

    async def collect_images(self) -> list[str]:
        """Remove unused images when the image filesystem is too full; the ids removed."""
        s = self.settings
        try:
            fs = await self._rt.image_fs_info()
        except CRIError as exc:
            log.debug("image GC: %s", exc)
            return []
        if not fs:
            return []
        usage = self._fs_usage(fs[0].mountpoint)
        images = await self._rt.list_images()
        in_use = set()
        for c in await self._rt.list_containers():
            in_use.add(c.image_ref)
            in_use.add(c.image)
        now = self._clock.time()
        sandbox_image = normalize_image(s.sandbox_image)
        candidates = []
        for img in images:
            if img.pinned or img.id in in_use or sandbox_image in img.repo_tags or any(t in in_use for t in img.repo_tags):
                self._unused_since.pop(img.id, None)
                continue
            since = self._unused_since.setdefault(img.id, now)
            candidates.append((since, img))
        ids = {img.id for img in images}
        self._unused_since = {k: v for k, v in self._unused_since.items() if k in ids}
        if usage is None:
            return []
        capacity, used = usage
        if capacity <= 0 or used * 100 < capacity * s.image_gc_high_percent:
            return []
        to_free = used - capacity * s.image_gc_low_percent // 100
        removed: list[str] = []
        for since, img in sorted(candidates, key=lambda x: x[0]):
            if to_free <= 0:
                break
            if now - since < s.image_minimum_gc_age:
                continue
            try:
                await self._rt.remove_image(img.id)
            except CRIError as exc:
                log.warning("image GC: removing %s failed: %s", img.id, exc)
                continue
            log.info("image GC: removed %s (%s, %d bytes)", ",".join(img.repo_tags) or img.id, img.id, img.size)
            removed.append(img.id)
            to_free -= img.size
        return removed

    async def rotate_logs(self) -> int:
        s = self.settings
        rotated = 0
        for c in await self._rt.list_containers(state=ContainerState.RUNNING):
            if keys.POD_UID not in c.labels:
                continue
            try:
                st = await self._rt.container_status(c.id)
            except CRIError:
                continue
            if not st.log_path:
                continue
            try:
                if logs.rotate(st.log_path, max_bytes=s.container_log_max_bytes, max_files=s.container_log_max_files,
                               now=self._clock.time()):
                    await self._rt.reopen_container_log(c.id)
                    rotated += 1
            except (OSError, CRIError) as exc:
                log.warning("rotating the log of container %s failed: %s", c.id[:12], exc)
        return rotated
