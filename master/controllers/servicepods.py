"""What the Endpoints and EndpointSlice controllers share: which pods back a Service, on which ports.

- ``services_for(pod)``: the Services (with a selector) in the pod's namespace that select it;
- ``find_port(pod, service_port)``: the pod's port for a Service port: a number targetPort is
  taken as is, a named one is looked up in the pod's containers (protocol must match), so
  pods of one Service may serve a name on different numbers;
- ``should_be_in_endpoints(pod, include_terminating)``: has an IP, is not finished (by its
  restartPolicy), and, unless asked, is not being deleted;
- ``endpoints_changed(old, new)``: a pod update that can change endpoints (labels, IP,
  readiness, deletion, node, phase, hostname);
- ``enqueue_services_of_pods(pods, services, enqueue)``: the pod event handlers of both
  controllers, which enqueue the Services of a pod that came, went or changed that way.
"""

from __future__ import annotations

from collections.abc import Callable

from master.api import core, labels
from master.api import helpers as api_helpers
from master.client.cache import NAMESPACE_INDEX
from master.client.informer import Informer

__all__ = [
    "endpoints_changed",
    "enqueue_services_of_pods",
    "find_port",
    "selects",
    "services_for",
    "should_be_in_endpoints",
]

HEADLESS_LABEL = "service.kubernetes.io/headless"


def selects(svc: core.Service, pod: core.Pod) -> bool:
    sel = svc.spec.selector
    return bool(sel) and labels.from_set(sel).matches(pod.metadata.labels)


def services_for(services: Informer[core.Service], pod: core.Pod) -> list[core.Service]:
    return [s for s in services.cache.by_index(NAMESPACE_INDEX, pod.metadata.namespace) if selects(s, pod)]


def find_port(pod: core.Pod, port: core.ServicePort) -> int | None:
    target = port.target_port
    if isinstance(target, int):
        return target if target > 0 else port.port
    if target.isdigit():
        return int(target)
    protocol = port.protocol or "TCP"
    for c in pod.spec.containers:
        for cp in c.ports:
            if cp.name == target and (cp.protocol or "TCP") == protocol:
                return cp.container_port
    return None


def should_be_in_endpoints(pod: core.Pod, *, include_terminating: bool) -> bool:
    if not pod.status.pod_ip:
        return False
    if not include_terminating and pod.metadata.deletion_timestamp:
        return False
    policy = pod.spec.restart_policy or "Always"
    phase = pod.status.phase
    if policy == "Never":
        return phase not in ("Failed", "Succeeded")
    if policy == "OnFailure":
        return phase != "Succeeded"
    return True


def endpoints_changed(old: core.Pod, new: core.Pod) -> bool:
    if old is new:
        return True  # a resync: look again
    o, n = old, new
    return (
        o.metadata.labels != n.metadata.labels
        or o.status.pod_ip != n.status.pod_ip
        or api_helpers.is_pod_ready(o) != api_helpers.is_pod_ready(n)
        or bool(o.metadata.deletion_timestamp) != bool(n.metadata.deletion_timestamp)
        or o.spec.node_name != n.spec.node_name
        or o.status.phase != n.status.phase
        or o.spec.hostname != n.spec.hostname
        or o.spec.subdomain != n.spec.subdomain
    )


def enqueue_services_of_pods(
    pods: Informer[core.Pod], services: Informer[core.Service], enqueue: Callable[[core.Service], None]
) -> None:
    """Enqueue the Services that select a pod when it is added or deleted, or updated in a way
    ``endpoints_changed`` sees (with new labels, the Services of the old ones too)."""

    def of_pod(pod: core.Pod) -> None:
        for svc in services_for(services, pod):
            enqueue(svc)

    def updated(old: core.Pod, new: core.Pod) -> None:
        if not endpoints_changed(old, new):
            return
        of_pod(new)
        if old.metadata.labels != new.metadata.labels:
            of_pod(old)

    pods.add_event_handler(on_add=of_pod, on_update=updated, on_delete=of_pod)


def is_headless(svc: core.Service) -> bool:
    return svc.spec.cluster_ip == "None"


def hostname_of(pod: core.Pod, svc: core.Service) -> str:
    """The DNS hostname of the pod under a Service that is its subdomain."""
    if pod.spec.hostname and pod.spec.subdomain == svc.metadata.name and pod.metadata.namespace == svc.metadata.namespace:
        return pod.spec.hostname
    return ""


def pod_ref(pod: core.Pod) -> core.ObjectReference:
    m = pod.metadata
    return core.ObjectReference(kind="Pod", namespace=m.namespace, name=m.name, uid=m.uid)
