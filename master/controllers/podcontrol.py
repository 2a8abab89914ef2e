"""Creating pods from a template for an owner, deleting them, and the events both leave.

``pod_from_template`` builds the pod a ReplicaSet or DaemonSet asks for: the template's labels,
annotations and finalizers, ``generateName: <owner>-``, and a controller ownerReference
(``blockOwnerDeletion``) to the owner. ``PodControl`` writes it and records
``SuccessfulCreate``/``FailedCreate`` (``SuccessfulDelete``/``FailedDelete``) on the owner, as
upstream controllers do.
"""

from __future__ import annotations

from master.api import core, meta
from master.api import helpers as api_helpers
from master.client import errors
from master.client.events import NORMAL, WARNING, EventRecorder
from master.client.rest import ApiClient

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
