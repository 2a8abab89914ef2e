"""Creating pods from a template for an owner, deleting them, and the events both leave.

``pod_from_template`` builds the pod a ReplicaSet or DaemonSet asks for: the template's labels,
annotations and finalizers, ``generateName: <owner>-``, and a controller ownerReference
(``blockOwnerDeletion``) to the owner. ``PodControl`` writes it and records
``SuccessfulCreate``/``FailedCreate`` (``SuccessfulDelete``/``FailedDelete``) on the owner, as
upstream controllers do. ``create_many`` and ``delete_many`` are the ReplicaSet's and
DaemonSet's bursts: each pod written is first expected under the owner's key, and one that
is not written (failed, or found gone) is no longer expected, so the owner never waits for
an event that will not come.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from master.api import core, meta
from master.api import helpers as api_helpers
from master.api.helpers import meta_key
from master.client import errors
from master.client.events import NORMAL, WARNING, EventRecorder
from master.client.rest import ApiClient
from master.controllers.expectations import Expectations
from master.controllers.util import slow_start_batch

__all__ = ["PodControl", "pod_from_template"]


def pod_from_template(
    template: core.PodTemplateSpec, owner: meta.Object, *, spec: core.PodSpec | None = None
) -> core.Pod:
    """A new pod for ``owner`` (``spec`` overrides the template's, e.g. with a node affinity)."""
    tm = template.metadata
    prefix = f"{owner.metadata.name}-"
    return core.Pod(
        metadata=meta.ObjectMeta(
            generate_name=prefix,
            namespace=owner.metadata.namespace,
            labels=dict(tm.labels),
            annotations=dict(tm.annotations),
            finalizers=list(tm.finalizers),
            owner_references=[api_helpers.new_controller_ref(owner)],
        ),
        spec=spec if spec is not None else template.spec,
    )


class PodControl:
    def __init__(self, api: ApiClient, recorder: EventRecorder) -> None:
        self.api = api
        self.recorder = recorder

    async def create(self, pod: core.Pod, owner: meta.Object) -> core.Pod:
        """Create ``pod``; errors are recorded as a FailedCreate event and raised."""
        if not pod.metadata.labels:
            # Kubernetes refuses to create pods a selector could never find again.
            raise errors.Invalid(
                f"unable to create pods for {owner.kind} {owner.metadata.name}: no labels", code=422
            )
        try:
            created = await self.api.create(pod)
        except errors.ClientError as exc:
            self.recorder.event(owner, WARNING, "FailedCreate", f"Error creating: {exc}")
            raise
        self.recorder.event(owner, NORMAL, "SuccessfulCreate", f"Created pod: {created.metadata.name}")
        return created

    async def delete(self, pod: core.Pod, owner: meta.Object) -> bool:
        """Delete ``pod`` (gracefully): True when deleted, False when it was already gone.

        Other errors are recorded as a FailedDelete event and raised."""
        m = pod.metadata
        try:
            await self.api.delete(
                core.Pod, m.name, namespace=m.namespace, preconditions=meta.Preconditions(uid=m.uid)
            )
        except (errors.NotFound, errors.Conflict):
            # Conflict: the uid precondition failed, i.e. our pod is gone (a namesake replaced it).
            return False
        except errors.ClientError as exc:
            self.recorder.event(owner, WARNING, "FailedDelete", f"Error deleting: {exc}")
            raise
        self.recorder.event(owner, NORMAL, "SuccessfulDelete", f"Deleted pod: {m.name}")
        return True

    async def create_many(
        self, pods: Sequence[core.Pod], owner: meta.Object, *, expectations: Expectations, key: str
    ) -> None:
        """Create ``pods`` in order, in slow-start batches; the first error is raised at the end.
        A namespace being terminated refuses new pods: nothing to create, and not a failure."""
        expectations.expect_creations(key, len(pods))
        queue = list(pods)

        async def create_one() -> None:
            try:
                await self.create(queue.pop(0), owner)
            except errors.Forbidden as exc:
                if "being terminated" not in str(exc):
                    raise

        created, err = await slow_start_batch(len(pods), create_one)
        if created < len(pods):
            expectations.lower_expectations(key, adds=len(pods) - created)
        if err is not None:
            raise err

    async def delete_many(
        self, pods: Sequence[core.Pod], owner: meta.Object, *, expectations: Expectations, key: str
    ) -> None:
        """Delete ``pods`` at once; the first error is raised when all have answered."""
        keys = [meta_key(p) for p in pods]
        expectations.expect_deletions(key, keys)
        results = await asyncio.gather(*(self.delete(p, owner) for p in pods), return_exceptions=True)
        first: BaseException | None = None
        for pod_key, result in zip(keys, results, strict=True):
            if result is True:
                continue
            # Already gone, or failed: either way its deletion will not be observed.
            expectations.lower_expectations(key, deletes=[pod_key])
            if isinstance(result, BaseException):
                first = first or result
        if first is not None:
            raise first
