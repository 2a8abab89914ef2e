"""Server-side printing: meta.k8s.io/v1 Table output, with the columns kubectl users know.

kubectl asks with ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...`` and prints the
cells as they come; columns with priority > 0 show only with ``-o wide``. Each row carries the
object as PartialObjectMetadata (``includeObject=Metadata``, the default), the whole object
(``Object``) or nothing (``None``).
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from typing import Any

from master.api.unstructured import dig

__all__ = ["age", "table", "wants_table"]

Row = Callable[[dict[str, Any], float], list[Any]]
Column = tuple[str, str, int]  # name, type, priority


def wants_table(accept: str) -> bool:
    for part in accept.split(","):
        params = {p.split("=", 1)[0].strip(): p.split("=", 1)[-1].strip() for p in part.split(";")[1:] if "=" in p}
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
            return True
    return False


def _ts(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(calendar.timegm(time.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """Kubernetes' HumanDuration: 45s, 5m10s, 3h, 2d5h, 400d, 3y."""
    s = int(max(seconds, 0))
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = s // 3600
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    d = h // 24
    if h < 24 * 8:
        return f"{d}d{h % 24}h" if h % 24 else f"{d}d"
    if d < 365 * 2:
        return f"{d}d"
    if d < 365 * 8:
        y = d // 365
        return f"{y}y{d % 365}d" if d % 365 else f"{y}y"
    return f"{d // 365}y"


def age(obj: dict[str, Any], now: float) -> str:
    ts = _ts((obj.get("metadata") or {}).get("creationTimestamp"))
    return "<unknown>" if ts is None else human_duration(now - ts)


def _none(value: Any) -> Any:
    return "<none>" if value in (None, "", []) else value


# -- pods -------------------------------------------------------------------------------------


def _terminated_reason(term: dict[str, Any]) -> str:
    if term.get("reason"):
        return str(term["reason"])
    if term.get("signal"):
        return f"Signal:{term['signal']}"
    return f"ExitCode:{term.get('exitCode')}"


def _pod_status(pod: dict[str, Any]) -> tuple[str, int, int, int]:
    """(STATUS, ready, total, restarts), as kubectl's printer computes them."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    total = len(spec.get("containers") or [])
    reason = status.get("reason") or status.get("phase") or "Pending"
    ready = restarts = 0
    init_statuses = status.get("initContainerStatuses") or []
    initializing = False
    for i, cs in enumerate(init_statuses):
        restarts += int(cs.get("restartCount") or 0)
        state = cs.get("state") or {}
        term = state.get("terminated")
        if term and term.get("exitCode") == 0:
            continue
        initializing = True
        if term:
            reason = "Init:" + _terminated_reason(term)
        elif (state.get("waiting") or {}).get("reason") not in (None, "", "PodInitializing"):
            reason = "Init:" + state["waiting"]["reason"]
        else:
            reason = f"Init:{i}/{len(spec.get('initContainers') or [])}"
        break
    if not initializing:
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            state = cs.get("state") or {}
            if (state.get("waiting") or {}).get("reason"):
                reason = state["waiting"]["reason"]
            elif state.get("terminated") is not None:
                reason = _terminated_reason(state["terminated"])
            elif state.get("running") is not None and cs.get("ready"):
                has_running = True
                ready += 1
            elif state.get("running") is not None:
                has_running = True
        if reason == "Completed" and has_running:
            reason = "Running"
    if dig(pod, "metadata", "deletionTimestamp") and status.get("reason") != "NodeLost":
        reason = "Terminating"
    return reason, ready, total, restarts


def _pod_row(pod: dict[str, Any], now: float) -> list[Any]:
    reason, ready, total, restarts = _pod_status(pod)
    status = pod.get("status") or {}
    gates = dig(pod, "spec", "readinessGates") or []
    return [
        dig(pod, "metadata", "name", default=""), f"{ready}/{total}", reason, restarts, age(pod, now),
        _none(status.get("podIP")), _none(dig(pod, "spec", "nodeName")),
        _none(status.get("nominatedNodeName")), f"{len(gates)}/{len(gates)}" if gates else "<none>",
    ]


def _node_row(node: dict[str, Any], now: float) -> list[Any]:
    conditions = dig(node, "status", "conditions", default=[])
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    status = "Unknown" if ready is None else "Ready" if ready.get("status") == "True" else "NotReady"
    if dig(node, "spec", "unschedulable"):
        status += ",SchedulingDisabled"
    labels = dig(node, "metadata", "labels", default={})
    roles = sorted({k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/") and "/" in k}
                   | ({labels["kubernetes.io/role"]} if labels.get("kubernetes.io/role") else set()))
    addresses = dig(node, "status", "addresses", default=[])
    internal = next((a.get("address") for a in addresses if a.get("type") == "InternalIP"), None)
    external = next((a.get("address") for a in addresses if a.get("type") == "ExternalIP"), None)
    info = dig(node, "status", "nodeInfo", default={})
    return [
        dig(node, "metadata", "name", default=""), status, ",".join(roles) or "<none>", age(node, now),
        info.get("kubeletVersion", ""), _none(internal), _none(external), _none(info.get("osImage")),
        _none(info.get("kernelVersion")), _none(info.get("containerRuntimeVersion")),
    ]


def _ports(ports: list[dict[str, Any]]) -> str:
    out = []
    for p in ports:
        text = f"{p.get('port')}"
        if p.get("nodePort"):
            text += f":{p['nodePort']}"
        out.append(f"{text}/{p.get('protocol', 'TCP')}")
    return ",".join(out) or "<none>"


def _selector(sel: dict[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((sel or {}).items())) or "<none>"


def _service_row(svc: dict[str, Any], now: float) -> list[Any]:
    spec = svc.get("spec") or {}
    external = spec.get("externalIPs") or []
    ingress = dig(svc, "status", "loadBalancer", "ingress", default=[])
    ext = ",".join([*external, *(i.get("ip") or i.get("hostname", "") for i in ingress)])
    if not ext:
        ext = "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"
    if spec.get("type") == "ExternalName":
        ext = spec.get("externalName", "<none>")
    return [
        dig(svc, "metadata", "name", default=""), spec.get("type", "ClusterIP"), _none(spec.get("clusterIP")),
        ext, _ports(spec.get("ports") or []), age(svc, now), _selector(spec.get("selector")),
    ]


def _workload_images(obj: dict[str, Any]) -> tuple[str, str]:
    containers = dig(obj, "spec", "template", "spec", "containers", default=[])
    return (",".join(c.get("name", "") for c in containers) or "<none>",
            ",".join(c.get("image", "") for c in containers) or "<none>")


def _label_selector(sel: dict[str, Any] | None) -> str:
    if not sel:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        op = e.get("operator", "")
        if op in ("In", "NotIn"):
            parts.append(f"{e.get('key')} {op.lower()} ({','.join(e.get('values') or [])})")
        elif op == "Exists":
            parts.append(str(e.get("key")))
        else:
            parts.append(f"!{e.get('key')}")
    return ",".join(parts) or "<none>"


def _deployment_row(d: dict[str, Any], now: float) -> list[Any]:
    st = d.get("status") or {}
    want = dig(d, "spec", "replicas", default=1)
    names, images = _workload_images(d)
    return [dig(d, "metadata", "name", default=""), f"{st.get('readyReplicas', 0)}/{want}",
            st.get("updatedReplicas", 0), st.get("availableReplicas", 0), age(d, now), names, images,
            _label_selector(dig(d, "spec", "selector"))]


def _replicaset_row(rs: dict[str, Any], now: float) -> list[Any]:
    st = rs.get("status") or {}
    names, images = _workload_images(rs)
    return [dig(rs, "metadata", "name", default=""), dig(rs, "spec", "replicas", default=1),
            st.get("replicas", 0), st.get("readyReplicas", 0), age(rs, now), names, images,
            _label_selector(dig(rs, "spec", "selector"))]


def _daemonset_row(ds: dict[str, Any], now: float) -> list[Any]:
    st = ds.get("status") or {}
    names, images = _workload_images(ds)
    return [dig(ds, "metadata", "name", default=""), st.get("desiredNumberScheduled", 0),
            st.get("currentNumberScheduled", 0), st.get("numberReady", 0), st.get("updatedNumberScheduled", 0),
            st.get("numberAvailable", 0), _selector(dig(ds, "spec", "template", "spec", "nodeSelector")),
            age(ds, now), names, images, _label_selector(dig(ds, "spec", "selector"))]


def _endpoints_row(ep: dict[str, Any], now: float) -> list[Any]:
    eps = []
    for subset in ep.get("subsets") or []:
        ports = subset.get("ports") or [{}]
        for a in subset.get("addresses") or []:
            for p in ports:
                eps.append(f"{a.get('ip')}:{p['port']}" if p.get("port") else a.get("ip", ""))
    text = ",".join(eps[:3]) + (f" + {len(eps) - 3} more..." if len(eps) > 3 else "")
    return [dig(ep, "metadata", "name", default=""), text or "<none>", age(ep, now)]


def _event_row(ev: dict[str, Any], now: float) -> list[Any]:
    last = ev.get("lastTimestamp") or ev.get("eventTime") or dig(ev, "metadata", "creationTimestamp")
    first = ev.get("firstTimestamp") or ev.get("eventTime") or dig(ev, "metadata", "creationTimestamp")
    last_ts, first_ts = _ts(last), _ts(first)
    inv = ev.get("involvedObject") or {}
    source = ev.get("reportingComponent") or dig(ev, "source", "component", default="")
    return [
        "<unknown>" if last_ts is None else human_duration(now - last_ts), ev.get("type", ""),
        ev.get("reason", ""), f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}", ev.get("message", ""),
        source, inv.get("fieldPath", ""), "<unknown>" if first_ts is None else human_duration(now - first_ts),
        ev.get("count", 1), dig(ev, "metadata", "name", default=""),
    ]


def _namespace_row(ns: dict[str, Any], now: float) -> list[Any]:
    return [dig(ns, "metadata", "name", default=""), dig(ns, "status", "phase", default="Active"), age(ns, now)]


def _configmap_row(cm: dict[str, Any], now: float) -> list[Any]:
    return [dig(cm, "metadata", "name", default=""), len(cm.get("data") or {}) + len(cm.get("binaryData") or {}),
            age(cm, now)]


def _secret_row(s: dict[str, Any], now: float) -> list[Any]:
    return [dig(s, "metadata", "name", default=""), s.get("type", "Opaque"), len(s.get("data") or {}), age(s, now)]


def _sa_row(sa: dict[str, Any], now: float) -> list[Any]:
    return [dig(sa, "metadata", "name", default=""), len(sa.get("secrets") or []), age(sa, now)]


def _lease_row(lease: dict[str, Any], now: float) -> list[Any]:
    return [dig(lease, "metadata", "name", default=""), _none(dig(lease, "spec", "holderIdentity")), age(lease, now)]


def _slice_row(es: dict[str, Any], now: float) -> list[Any]:
    ports = ",".join(str(p.get("port")) for p in es.get("ports") or [] if p.get("port")) or "<unset>"
    addrs = [a for e in es.get("endpoints") or [] for a in e.get("addresses") or []]
    text = ",".join(addrs[:3]) + (f" + {len(addrs) - 3} more..." if len(addrs) > 3 else "")
    return [dig(es, "metadata", "name", default=""), es.get("addressType", ""), ports, text or "<unset>",
            age(es, now)]


def _role_row(role: dict[str, Any], now: float) -> list[Any]:
    return [dig(role, "metadata", "name", default=""), dig(role, "metadata", "creationTimestamp", default="")]


def _subjects(b: dict[str, Any], kind: str) -> str:
    names = []
    for s in b.get("subjects") or []:
        if isinstance(s, dict) and s.get("kind") == kind:
            names.append(f"{s.get('namespace')}/{s.get('name')}" if kind == "ServiceAccount" else str(s.get("name")))
    return ", ".join(names)


def _binding_row(b: dict[str, Any], now: float) -> list[Any]:
    ref = b.get("roleRef") or {}
    return [dig(b, "metadata", "name", default=""), f"{ref.get('kind', '')}/{ref.get('name', '')}", age(b, now),
            _subjects(b, "User"), _subjects(b, "Group"), _subjects(b, "ServiceAccount")]


def _csr_row(csr: dict[str, Any], now: float) -> list[Any]:
    spec = csr.get("spec") or {}
    conditions = [c.get("type", "") for c in dig(csr, "status", "conditions", default=[]) or []
                  if isinstance(c, dict) and c.get("status", "True") == "True"]
    if dig(csr, "status", "certificate"):
        conditions.append("Issued")
    seconds = spec.get("expirationSeconds")
    return [dig(csr, "metadata", "name", default=""), age(csr, now), spec.get("signerName", ""),
            spec.get("username", ""), human_duration(seconds) if isinstance(seconds, int) else "<none>",
            ",".join(conditions) or "Pending"]


def _default_row(obj: dict[str, Any], now: float) -> list[Any]:
    return [dig(obj, "metadata", "name", default=""), age(obj, now)]


_S, _I = "string", "integer"
PRINTERS: dict[str, tuple[list[Column], Row]] = {
    "pods": ([("Name", _S, 0), ("Ready", _S, 0), ("Status", _S, 0), ("Restarts", _I, 0), ("Age", _S, 0),
              ("IP", _S, 1), ("Node", _S, 1), ("Nominated Node", _S, 1), ("Readiness Gates", _S, 1)], _pod_row),
    "nodes": ([("Name", _S, 0), ("Status", _S, 0), ("Roles", _S, 0), ("Age", _S, 0), ("Version", _S, 0),
               ("Internal-IP", _S, 1), ("External-IP", _S, 1), ("OS-Image", _S, 1), ("Kernel-Version", _S, 1),
               ("Container-Runtime", _S, 1)], _node_row),
    "services": ([("Name", _S, 0), ("Type", _S, 0), ("Cluster-IP", _S, 0), ("External-IP", _S, 0),
                  ("Port(s)", _S, 0), ("Age", _S, 0), ("Selector", _S, 1)], _service_row),
    "deployments": ([("Name", _S, 0), ("Ready", _S, 0), ("Up-to-date", _I, 0), ("Available", _I, 0),
                     ("Age", _S, 0), ("Containers", _S, 1), ("Images", _S, 1), ("Selector", _S, 1)],
                    _deployment_row),
    "replicasets": ([("Name", _S, 0), ("Desired", _I, 0), ("Current", _I, 0), ("Ready", _I, 0), ("Age", _S, 0),
                     ("Containers", _S, 1), ("Images", _S, 1), ("Selector", _S, 1)], _replicaset_row),
    "daemonsets": ([("Name", _S, 0), ("Desired", _I, 0), ("Current", _I, 0), ("Ready", _I, 0),
                    ("Up-to-date", _I, 0), ("Available", _I, 0), ("Node Selector", _S, 0), ("Age", _S, 0),
                    ("Containers", _S, 1), ("Images", _S, 1), ("Selector", _S, 1)], _daemonset_row),
    "endpoints": ([("Name", _S, 0), ("Endpoints", _S, 0), ("Age", _S, 0)], _endpoints_row),
    "events": ([("Last Seen", _S, 0), ("Type", _S, 0), ("Reason", _S, 0), ("Object", _S, 0), ("Message", _S, 0),
                ("Source", _S, 1), ("Subobject", _S, 1), ("First Seen", _S, 1), ("Count", _I, 1),
                ("Name", _S, 1)], _event_row),
    "namespaces": ([("Name", _S, 0), ("Status", _S, 0), ("Age", _S, 0)], _namespace_row),
    "configmaps": ([("Name", _S, 0), ("Data", _I, 0), ("Age", _S, 0)], _configmap_row),
    "secrets": ([("Name", _S, 0), ("Type", _S, 0), ("Data", _I, 0), ("Age", _S, 0)], _secret_row),
    "serviceaccounts": ([("Name", _S, 0), ("Secrets", _I, 0), ("Age", _S, 0)], _sa_row),
    "leases": ([("Name", _S, 0), ("Holder", _S, 0), ("Age", _S, 0)], _lease_row),
    "endpointslices": ([("Name", _S, 0), ("AddressType", _S, 0), ("Ports", _S, 0), ("Endpoints", _S, 0),
                        ("Age", _S, 0)], _slice_row),
    "roles": ([("Name", _S, 0), ("Created At", _S, 0)], _role_row),
    "clusterroles": ([("Name", _S, 0), ("Created At", _S, 0)], _role_row),
    "rolebindings": ([("Name", _S, 0), ("Role", _S, 0), ("Age", _S, 0), ("Users", _S, 1), ("Groups", _S, 1),
                      ("ServiceAccounts", _S, 1)], _binding_row),
    "clusterrolebindings": ([("Name", _S, 0), ("Role", _S, 0), ("Age", _S, 0), ("Users", _S, 1), ("Groups", _S, 1),
                             ("ServiceAccounts", _S, 1)], _binding_row),
    "certificatesigningrequests": ([("Name", _S, 0), ("Age", _S, 0), ("SignerName", _S, 0), ("Requestor", _S, 0),
                                    ("RequestedDuration", _S, 0), ("Condition", _S, 0)], _csr_row),
}
_DEFAULT: tuple[list[Column], Row] = ([("Name", _S, 0), ("Age", _S, 0)], _default_row)


def _row_object(obj: dict[str, Any], include: str) -> dict[str, Any] | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def table(
    resource: str,
    objects: list[dict[str, Any]],
    *,
    include: str = "Metadata",
    resource_version: str = "",
    continue_: str = "",
    remaining: int | None = None,
    with_columns: bool = True,
) -> dict[str, Any]:
    columns, row = PRINTERS.get(resource, _DEFAULT)
    now = time.time()
    meta: dict[str, Any] = {}
    if resource_version:
        meta["resourceVersion"] = resource_version
    if continue_:
        meta["continue"] = continue_
    if remaining:
        meta["remainingItemCount"] = remaining
    out: dict[str, Any] = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
    if with_columns:
        out["columnDefinitions"] = [
            {"name": name, "type": typ, "format": "name" if name == "Name" else "", "description": name,
             "priority": prio}
            for name, typ, prio in columns
        ]
    else:
        out["columnDefinitions"] = []
    rows = []
    for obj in objects:
        r: dict[str, Any] = {"cells": row(obj, now)}
        o = _row_object(obj, include)
        if o is not None:
            r["object"] = o
        rows.append(r)
    out["rows"] = rows
    return out
