"""The Deployment controller: ReplicaSets per pod template, rolled by the Deployment's strategy.

``sync("ns/name")``, level based, in upstream's order:

1. claim ReplicaSets (adopt matching orphans, release owned ones that stopped matching);
2. being deleted: only status; paused, or a scaling event (a ReplicaSet's desired-replicas
   annotation differs from spec.replicas): scale proportionally, no rollout;
3. otherwise roll out by strategy (``rolling``, ``recreate``): find or create the new
   ReplicaSet ``<name>-<pod-template-hash>``, sync revisions and annotations, scale;
4. complete rollouts delete old ReplicaSets beyond ``revisionHistoryLimit``;
5. status and conditions (``progress``); a rollout in progress is looked at again when its
   progress deadline would pass.

Rollout undo (``kubectl rollout undo``) needs nothing special: kubectl patches the Deployment's
template with an older ReplicaSet's, which then is the new ReplicaSet again and gets the next
revision number.
"""

from __future__ import annotations

import logging

import msgspec

from master.api import apps, core, meta
from master.api import helpers as api_helpers
from master.client import errors
from master.client.cache import NAMESPACE_INDEX
from master.client.events import NORMAL, WARNING
from master.controllers import claims
from master.controllers.context import BY_CONTROLLER_UID, ControllerContext, pods_by_controller
from master.controllers.deployment import progress, proportional, util
from master.controllers.deployment.recreate import rollout_recreate
from master.controllers.deployment.rolling import new_rs_new_replicas, rollout_rolling
from master.controllers.deployment.rollout import Rollout
from master.controllers.util import SelectorCache
from master.controllers.util import update_status as write_status

__all__ = ["DeploymentController", "new"]

log = logging.getLogger(__name__)

NAME = "deployment"


def new(ctx: ControllerContext) -> DeploymentController:
    return DeploymentController(ctx)


class DeploymentController:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.api = ctx.api
        self.clock = ctx.clock
        self.recorder = ctx.recorder
        self.deployments = ctx.informers.informer(apps.Deployment)
        self.replicasets = ctx.indexed(apps.ReplicaSet)
        self.pods = ctx.pods()
        self.selectors = SelectorCache()
        self.loop = ctx.loop(NAME, self.sync, workers=ctx.settings.concurrent_deployment_syncs)
        self.deployments.add_event_handler(
            on_add=self.loop.enqueue,
            on_update=lambda _old, new: self.loop.enqueue(new),
            on_delete=self._deployment_deleted,
        )
        self.replicasets.add_event_handler(
            on_add=self._rs_added, on_update=self._rs_updated, on_delete=self._rs_deleted
        )
        self.pods.add_event_handler(on_delete=self._pod_deleted)

    async def run(self) -> None:
        await self.loop.run()

    # ---- handlers ----------------------------------------------------------------------------

    def _deployment_deleted(self, d: apps.Deployment) -> None:
        self.selectors.forget(d.metadata.uid)
        self.loop.enqueue(d)

    def _owner_of(self, rs: apps.ReplicaSet) -> apps.Deployment | None:
        ref = api_helpers.controller_ref(rs)
        if ref is None or ref.kind != "Deployment":
            return None
        d = self.deployments.cache.get_by_name(ref.name, rs.metadata.namespace)
        if d is None or d.metadata.uid != ref.uid:
            return None
        return d

    def _enqueue_matching(self, rs: apps.ReplicaSet) -> None:
        for d in self.deployments.cache.by_index(NAMESPACE_INDEX, rs.metadata.namespace):
            if self.selectors.of(d).matches(rs.metadata.labels):
                self.loop.enqueue(d)

    def _rs_added(self, rs: apps.ReplicaSet) -> None:
        d = self._owner_of(rs)
        if d is not None:
            self.loop.enqueue(d)
        elif api_helpers.controller_ref(rs) is None and not rs.metadata.deletion_timestamp:
            self._enqueue_matching(rs)

    def _rs_updated(self, old: apps.ReplicaSet, new: apps.ReplicaSet) -> None:
        if old is not new and old.metadata.resource_version == new.metadata.resource_version:
            return
        if api_helpers.controller_ref(old) != api_helpers.controller_ref(new):
            prev = self._owner_of(old)
            if prev is not None:
                self.loop.enqueue(prev)
        d = self._owner_of(new)
        if d is not None:
            self.loop.enqueue(d)
        elif api_helpers.controller_ref(new) is None and (
            old.metadata.labels != new.metadata.labels or api_helpers.controller_ref(old) is not None
        ):
            self._enqueue_matching(new)

    def _rs_deleted(self, rs: apps.ReplicaSet) -> None:
        d = self._owner_of(rs)
        if d is not None:
            self.loop.enqueue(d)

    def _pod_deleted(self, pod: core.Pod) -> None:
        # Recreate waits for old pods to be gone: each deletion may unblock it.
        ref = api_helpers.controller_ref(pod)
        if ref is None or ref.kind != "ReplicaSet":
            return
        rs = self.replicasets.cache.get_by_name(ref.name, pod.metadata.namespace)
        if rs is None or rs.metadata.uid != ref.uid:
            return
        d = self._owner_of(rs)
        if d is not None and d.spec.strategy.type == "Recreate":
            self.loop.enqueue(d)

    # ---- sync --------------------------------------------------------------------------------

    async def sync(self, key: str) -> float | None:
        d = self.deployments.cache.get(key)
        if d is None:
            return None
        sel = d.spec.selector
        if not sel.match_labels and not sel.match_expressions:
            self.recorder.event(d, WARNING, "SelectingAll",
                                "This deployment is selecting all pods. A non-empty selector is required.")
            if d.status.observed_generation < d.metadata.generation:
                status = msgspec.structs.replace(d.status, observed_generation=d.metadata.generation)
                await write_status(self.api, d, status)
            return None
        rss = await self._claim(d)
        if d.metadata.deletion_timestamp:
            await self._sync_status_only(d, rss)
            return None
        d = await self._check_paused(d)
        if d.spec.paused or self._is_scaling_event(d, rss):
            await self._sync_scale(d, rss)
            return None
        if d.spec.strategy.type == "Recreate":
            pods = {rs.metadata.uid: pods_by_controller(self.pods, rs.metadata.uid) for rs in rss}
            return await rollout_recreate(self, d, rss, pods)
        return await rollout_rolling(self, d, rss)

    async def _claim(self, d: apps.Deployment) -> list[apps.ReplicaSet]:
        owned = self.replicasets.cache.by_index(BY_CONTROLLER_UID, d.metadata.uid)
        orphans = [
            rs
            for rs in self.replicasets.cache.by_index(NAMESPACE_INDEX, d.metadata.namespace)
            if api_helpers.controller_ref(rs) is None
        ]

        async def fresh() -> meta.Object | None:
            try:
                return await self.api.get(apps.Deployment, d.metadata.name, namespace=d.metadata.namespace)
            except errors.NotFound:
                return None

        return await claims.claim(self.api, d, self.selectors.of(d), [*owned, *orphans], fresh_owner=fresh)

    def _is_scaling_event(self, d: apps.Deployment, rss: list[apps.ReplicaSet]) -> bool:
        for rs in util.active(rss):
            desired = util.int_annotation(rs, util.DESIRED_REPLICAS_ANNOTATION)
            if desired is not None and desired != util.replicas_of(d):
                return True
        return False

    async def _check_paused(self, d: apps.Deployment) -> apps.Deployment:
        conds = progress.paused_conditions(d, self.clock.time())
        if conds is None:
            return d
        return await write_status(self.api, d, msgspec.structs.replace(d.status, conditions=conds))

    async def _sync_status_only(self, d: apps.Deployment, rss: list[apps.ReplicaSet]) -> None:
        ro = await self.get_all_replica_sets(d, rss, create=False)
        await self._sync_status(ro)

    async def _sync_scale(self, d: apps.Deployment, rss: list[apps.ReplicaSet]) -> None:
        ro = await self.get_all_replica_sets(d, rss, create=False)
        await proportional.scale(self, ro)
        if ro.d.spec.paused:
            await self.cleanup(ro)
        await self._sync_status(ro)

    async def _sync_status(self, ro: Rollout) -> None:
        status = progress.calculate_status(ro, self.clock.time())
        ro.d = await write_status(self.api, ro.d, status)

    async def sync_rollout_status(self, ro: Rollout) -> float | None:
        now = self.clock.time()
        status = progress.rollout_status(ro, now)
        ro.d = await write_status(self.api, ro.d, status)
        return progress.requeue_after(ro.d, status, now)

    # ---- ReplicaSets ---------------------------------------------------------------------

    def _find_new(self, d: apps.Deployment, rss: list[apps.ReplicaSet]) -> apps.ReplicaSet | None:
        matching = [rs for rs in rss if util.equal_ignore_hash(rs.spec.template, d.spec.template)]
        return util.by_creation(matching)[0] if matching else None

    async def get_all_replica_sets(self, d: apps.Deployment, rss: list[apps.ReplicaSet], *, create: bool) -> Rollout:
        """The new ReplicaSet (created when ``create``) and the old ones, revisions in sync."""
        new_rs = self._find_new(d, rss)
        old_rss = [rs for rs in rss if new_rs is None or rs.metadata.uid != new_rs.metadata.uid]
        ro = Rollout(d, new_rs, old_rss)
        revision = util.max_revision(old_rss) + 1
        now = self.clock.time()
        if new_rs is not None:
            await self._sync_new_rs(ro, new_rs, revision)
            if util.get_condition(d.status, "Progressing") is None:
                ro.pending.append(util.new_condition(
                    "Progressing", "True", util.FOUND_NEW_RS, f'Found new replica set "{new_rs.metadata.name}"', now
                ))
        elif create:
            created = await self._create_new_rs(ro, revision)
            if created is not None:
                ro.new_rs = created
                ro.pending.append(util.new_condition(
                    "Progressing", "True", util.NEW_RS_CREATED, f'Created new replica set "{created.metadata.name}"', now
                ))
        if ro.new_rs is not None:
            await self._sync_deployment_revision(ro, util.revision_of(ro.new_rs))
        return ro

    async def _sync_new_rs(self, ro: Rollout, rs: apps.ReplicaSet, revision: int) -> None:
        d = ro.d
        annotations = util.new_rs_annotations(d, rs.metadata.annotations, revision, exists=True)
        min_ready = d.spec.min_ready_seconds
        if annotations == rs.metadata.annotations and rs.spec.min_ready_seconds == min_ready:
            return
        updated = await self._write_rs(rs, annotations, min_ready_seconds=min_ready)
        ro.replace(updated)

    async def _create_new_rs(self, ro: Rollout, revision: int) -> apps.ReplicaSet | None:
        d = ro.d
        pod_hash = util.compute_hash(d.spec.template, d.status.collision_count)
        tmeta = d.spec.template.metadata
        template = msgspec.structs.replace(
            d.spec.template,
            metadata=msgspec.structs.replace(tmeta, labels={**tmeta.labels, util.POD_TEMPLATE_HASH_LABEL: pod_hash}),
        )
        selector = msgspec.structs.replace(
            d.spec.selector, match_labels={**d.spec.selector.match_labels, util.POD_TEMPLATE_HASH_LABEL: pod_hash}
        )
        name = f"{d.metadata.name}-{pod_hash}"
        rs = apps.ReplicaSet(
            metadata=meta.ObjectMeta(
                name=name,
                namespace=d.metadata.namespace,
                labels=dict(template.metadata.labels),
                annotations=util.new_rs_annotations(d, {}, revision, exists=False),
                owner_references=[api_helpers.new_controller_ref(d)],
            ),
            spec=apps.ReplicaSetSpec(
                replicas=0, min_ready_seconds=d.spec.min_ready_seconds, selector=selector, template=template
            ),
        )
        replicas = new_rs_new_replicas(d, ro.old_rss, rs)
        rs = msgspec.structs.replace(rs, spec=msgspec.structs.replace(rs.spec, replicas=replicas))
        try:
            created = await self.api.create(rs)
        except errors.AlreadyExists:
            existing = await self.api.get(apps.ReplicaSet, name, namespace=d.metadata.namespace)
            if api_helpers.is_controlled_by(existing, d) and util.equal_ignore_hash(
                existing.spec.template, d.spec.template
            ):
                return existing
            # A hash collision: another template (or owner) has this name. A new collision
            # count gives a new hash; the next sync creates the ReplicaSet under that name.
            count = (d.status.collision_count or 0) + 1
            ro.d = await write_status(self.api, d, msgspec.structs.replace(d.status, collision_count=count))
            raise errors.Conflict(
                f"hash collision for ReplicaSet {name}: collisionCount is now {count}", code=409
            ) from None
        except errors.ClientError as exc:
            cond = util.new_condition(
                "Progressing", "False", util.FAILED_RS_CREATE, f"Failed to create new replica set {name!r}: {exc}",
                self.clock.time(),
            )
            conds = util.set_condition(list(d.status.conditions), cond)
            ro.d = await write_status(self.api, d, msgspec.structs.replace(d.status, conditions=conds))
            raise
        if replicas > 0:
            self.recorder.event(d, NORMAL, "ScalingReplicaSet", f"Scaled up replica set {name} from 0 to {replicas}")
        return created

    async def _sync_deployment_revision(self, ro: Rollout, revision: int) -> None:
        d = ro.d
        if revision <= 0 or d.metadata.annotations.get(util.REVISION_ANNOTATION) == str(revision):
            return
        patch = {"metadata": {"annotations": {util.REVISION_ANNOTATION: str(revision)},
                              "resourceVersion": d.metadata.resource_version}}
        ro.d = await self.api.patch(apps.Deployment, d.metadata.name, patch, namespace=d.metadata.namespace)

    async def scale_rs(self, ro: Rollout, rs: apps.ReplicaSet, size: int) -> apps.ReplicaSet:
        """Set a ReplicaSet's replicas (and its desired/max-replicas annotations) and record it."""
        d = ro.d
        old = util.replicas_of(rs)
        annotations = {
            **rs.metadata.annotations,
            util.DESIRED_REPLICAS_ANNOTATION: str(util.replicas_of(d)),
            util.MAX_REPLICAS_ANNOTATION: str(util.replicas_of(d) + util.max_surge(d)),
        }
        if old == size and annotations == rs.metadata.annotations:
            return rs
        updated = await self._write_rs(rs, annotations, replicas=size)
        ro.replace(updated)
        if old != size:
            direction = "up" if size > old else "down"
            self.recorder.event(
                d, NORMAL, "ScalingReplicaSet", f"Scaled {direction} replica set {rs.metadata.name} from {old} to {size}"
            )
        return updated

    async def _write_rs(self, rs: apps.ReplicaSet, annotations: dict[str, str], **spec: int) -> apps.ReplicaSet:
        """PUT ``rs`` with new annotations and spec fields. When the Conflict is only the
        ReplicaSet controller's status write (spec and annotations unchanged), it is written
        again over the fresh copy instead of failing the whole sync."""

        def build(base: apps.ReplicaSet) -> apps.ReplicaSet:
            return msgspec.structs.replace(
                base,
                metadata=msgspec.structs.replace(base.metadata, annotations=annotations),
                spec=msgspec.structs.replace(base.spec, **spec),
            )

        try:
            return await self.api.update(build(rs))
        except errors.Conflict:
            fresh = await self.api.get(apps.ReplicaSet, rs.metadata.name, namespace=rs.metadata.namespace)
            if (fresh.metadata.uid != rs.metadata.uid or fresh.spec != rs.spec
                    or fresh.metadata.annotations != rs.metadata.annotations):
                raise
            return await self.api.update(build(fresh))

    async def cleanup(self, ro: Rollout) -> None:
        """Delete old, empty ReplicaSets beyond ``revisionHistoryLimit``, lowest revisions first."""
        limit = ro.d.spec.revision_history_limit
        if limit is None:
            return
        alive = [rs for rs in ro.old_rss if not rs.metadata.deletion_timestamp]
        excess = len(alive) - limit
        if excess <= 0:
            return
        for rs in sorted(alive, key=lambda r: (util.revision_of(r), util.created_at(r)))[:excess]:
            if (rs.status.replicas != 0 or util.replicas_of(rs) != 0
                    or rs.metadata.generation > rs.status.observed_generation):
                continue
            try:
                await self.api.delete(
                    apps.ReplicaSet, rs.metadata.name, namespace=rs.metadata.namespace,
                    preconditions=meta.Preconditions(uid=rs.metadata.uid),
                )
            except (errors.NotFound, errors.Conflict):
                continue
            ro.old_rss = [o for o in ro.old_rss if o.metadata.uid != rs.metadata.uid]
