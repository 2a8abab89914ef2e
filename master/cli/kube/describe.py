"""``describe`` text: kubectl-like sections per kind, from the objects as dicts.

A describer writes ``Key:\\tvalue`` lines with two-space indentation per level into a
``Writer``; the lines are aligned like kubectl's (Go tabwriter, padding 2), so a section's
keys line up and a heading ends the block. ``DESCRIBERS`` maps a resource (plural) to its
describer; anything else gets ``generic``, which prints the object's fields as nested keys.
Every describer ends with the Events section (``events_section``), fed by the caller with the
events whose involvedObject is the object.
"""

from __future__ import annotations

import base64
import datetime as _dt
import time
from collections.abc import Callable
from typing import Any

from master.api import quantity, timefmt
from master.api.unstructured import dig
from master.cli.kube import tabwriter
from master.cli.kube.printing import human_duration

__all__ = ["DESCRIBERS", "Context", "Writer", "describe", "event_time", "events_section", "generic", "sort_events"]


class Writer:
    """Lines of ``describe`` output, aligned when rendered."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def kv(self, level: int, key: str, value: Any = "") -> None:
        self.lines.append(f"{'  ' * level}{key}:\t{_text(value)}")

    def head(self, level: int, text: str) -> None:
        self.lines.append(f"{'  ' * level}{text}")

    def row(self, level: int, *cells: Any) -> None:
        self.lines.append("  " * level + "\t".join(_text(c) for c in cells))

    def multiline(self, level: int, key: str, values: list[str], empty: str = "<none>") -> None:
        """``Labels:  a=b`` then ``        c=d`` aligned under the first value."""
        if not values:
            self.kv(level, key, empty)
            return
        self.kv(level, key, values[0])
        for v in values[1:]:
            self.lines.append(f"{'  ' * level}\t{v}")

    def render(self) -> str:
        return "\n".join(tabwriter.align(self.lines, 2)) + "\n"


class Context:
    """What a describer may need besides the object: related objects and the clock."""

    def __init__(
        self,
        *,
        events: list[dict[str, Any]] | None = None,
        related: dict[str, list[dict[str, Any]]] | None = None,
        now: float | None = None,
    ) -> None:
        self.events = events or []
        self.related = related or {}
        self.now = time.time() if now is None else now


def _text(value: Any) -> str:
    if value is None:
        return "<none>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def rfc1123(ts: str | None) -> str:
    """Go's time.RFC1123Z, as kubectl prints times: ``Mon, 02 Jan 2006 15:04:05 +0000``."""
    if not ts:
        return "<unset>"
    try:
        t = timefmt.parse_time(ts)
    except timefmt.TimeFormatError:
        return ts
    return t.astimezone(_dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def _age(ts: str | None, now: float) -> str:
    if not ts:
        return "<unknown>"
    try:
        return human_duration(now - timefmt.to_epoch(ts))
    except timefmt.TimeFormatError:
        return "<unknown>"


def _pairs(mapping: dict[str, Any] | None, sep: str = "=") -> list[str]:
    return [f"{k}{sep}{v}" for k, v in sorted((mapping or {}).items())]


def _annotations(w: Writer, level: int, meta: dict[str, Any]) -> None:
    skip = "kubectl.kubernetes.io/last-applied-configuration"
    w.multiline(level, "Annotations", [f"{k}: {v}" for k, v in sorted((meta.get("annotations") or {}).items())
                                        if k != skip])


def _common_meta(w: Writer, obj: dict[str, Any], *, namespace: bool = True) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    w.kv(0, "Name", meta.get("name", ""))
    if namespace:
        w.kv(0, "Namespace", meta.get("namespace", ""))
    return meta


def _controlled_by(obj: dict[str, Any]) -> str | None:
    for ref in dig(obj, "metadata", "ownerReferences", default=[]):
        if ref.get("controller"):
            return f"{ref.get('kind')}/{ref.get('name')}"
    return None


def _selector(sel: dict[str, Any] | None) -> str:
    if not sel:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        op = e.get("operator", "")
        values = ",".join(e.get("values") or [])
        if op in ("In", "NotIn"):
            parts.append(f"{e.get('key')} {op.lower()} ({values})")
        elif op == "Exists":
            parts.append(str(e.get("key")))
        else:
            parts.append(f"!{e.get('key')}")
    return ",".join(parts) or "<none>"


# ---- events ---------------------------------------------------------------------------------


def event_time(ev: dict[str, Any], which: str) -> str | None:
    return (ev.get(which) or ev.get("eventTime") or dig(ev, "series", "lastObservedTime")
            or dig(ev, "metadata", "creationTimestamp"))


def sort_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(events, key=lambda ev: timefmt.to_epoch_or(event_time(ev, "lastTimestamp")))


def events_section(w: Writer, events: list[dict[str, Any]], now: float) -> None:
    """kubectl's Events table: Type, Reason, Age ("5m (x3 over 10m)"), From, Message."""
    if not events:
        w.kv(0, "Events", "<none>")
        return
    w.head(0, "Events:")
    w.row(1, "Type", "Reason", "Age", "From", "Message")
    w.row(1, "----", "------", "----", "----", "-------")
    for ev in sort_events(events):
        last = _age(event_time(ev, "lastTimestamp"), now)
        count = int(ev.get("count") or dig(ev, "series", "count", default=0) or 1)
        age = f"{last} (x{count} over {_age(event_time(ev, 'firstTimestamp'), now)})" if count > 1 else last
        source = ev.get("reportingComponent") or dig(ev, "source", "component", default="")
        host = dig(ev, "source", "host", default="")
        if host and source and not ev.get("reportingComponent"):
            source = f"{source}, {host}" if source != "kubelet" else source
        message = " ".join(str(ev.get("message", "")).split())
        w.row(1, ev.get("type", ""), ev.get("reason", ""), age, source, message)


# ---- pods -----------------------------------------------------------------------------------


def _probe(p: dict[str, Any]) -> str:
    if p.get("httpGet"):
        h = p["httpGet"]
        what = f"http-get {str(h.get('scheme', 'HTTP')).lower()}://{h.get('host', '')}:{h.get('port')}{h.get('path', '')}"
    elif p.get("tcpSocket"):
        what = f"tcp-socket {p['tcpSocket'].get('host', '')}:{p['tcpSocket'].get('port')}"
    elif p.get("exec"):
        what = f"exec [{' '.join(p['exec'].get('command') or [])}]"
    elif p.get("grpc"):
        what = f"grpc <pod>:{p['grpc'].get('port')} {p['grpc'].get('service', '')}".rstrip()
    else:
        what = "unknown"
    return (f"{what} delay={p.get('initialDelaySeconds', 0)}s timeout={p.get('timeoutSeconds', 1)}s "
            f"period={p.get('periodSeconds', 10)}s #success={p.get('successThreshold', 1)} "
            f"#failure={p.get('failureThreshold', 3)}")


def _state(w: Writer, level: int, key: str, state: dict[str, Any] | None) -> None:
    state = state or {}
    if state.get("running") is not None:
        w.kv(level, key, "Running")
        w.kv(level + 1, "Started", rfc1123(state["running"].get("startedAt")))
    elif state.get("waiting") is not None:
        w.kv(level, key, "Waiting")
        w.kv(level + 1, "Reason", state["waiting"].get("reason", ""))
        if state["waiting"].get("message"):
            w.kv(level + 1, "Message", state["waiting"]["message"])
    elif state.get("terminated") is not None:
        t = state["terminated"]
        w.kv(level, key, "Terminated")
        w.kv(level + 1, "Reason", t.get("reason", ""))
        if t.get("message"):
            w.kv(level + 1, "Message", t["message"])
        w.kv(level + 1, "Exit Code", t.get("exitCode", 0))
        if t.get("signal"):
            w.kv(level + 1, "Signal", t["signal"])
        w.kv(level + 1, "Started", rfc1123(t.get("startedAt")))
        w.kv(level + 1, "Finished", rfc1123(t.get("finishedAt")))
    else:
        w.kv(level, key, "Waiting")


def _container(w: Writer, c: dict[str, Any], status: dict[str, Any] | None) -> None:
    w.head(1, f"{c.get('name', '')}:")
    status = status or {}
    if status.get("containerID"):
        w.kv(2, "Container ID", status["containerID"])
    w.kv(2, "Image", c.get("image", ""))
    w.kv(2, "Image ID", status.get("imageID", ""))
    ports = c.get("ports") or []
    if not ports:
        w.kv(2, "Port", "<none>")
        w.kv(2, "Host Port", "<none>")
    else:
        w.kv(2, "Port" if len(ports) == 1 else "Ports",
             ", ".join(f"{p.get('containerPort')}/{p.get('protocol', 'TCP')}" for p in ports))
        w.kv(2, "Host Port" if len(ports) == 1 else "Host Ports",
             ", ".join(f"{p.get('hostPort', 0)}/{p.get('protocol', 'TCP')}" for p in ports))
    for key, field in (("Command", "command"), ("Args", "args")):
        if c.get(field):
            w.head(2, f"{key}:")
            for part in c[field]:
                w.head(3, str(part))
    _state(w, 2, "State", status.get("state"))
    if status.get("lastState") and any(status["lastState"].values()):
        _state(w, 2, "Last State", status["lastState"])
    w.kv(2, "Ready", "True" if status.get("ready") else "False")
    w.kv(2, "Restart Count", status.get("restartCount", 0))
    for key in ("limits", "requests"):
        values = dig(c, "resources", key, default={})
        if values:
            w.head(2, f"{key.capitalize()}:")
            for name, q in sorted(values.items()):
                w.kv(3, name, q)
    for key, field in (("Liveness", "livenessProbe"), ("Readiness", "readinessProbe"), ("Startup", "startupProbe")):
        if c.get(field):
            w.kv(2, key, _probe(c[field]))
    env = c.get("env") or []
    if not env and not c.get("envFrom"):
        w.kv(2, "Environment", "<none>")
    else:
        w.head(2, "Environment:")
        for e in env:
            if "valueFrom" in e:
                src = e["valueFrom"]
                if src.get("configMapKeyRef"):
                    r = src["configMapKeyRef"]
                    value = f"<set to the key '{r.get('key')}' of config map '{r.get('name')}'>"
                elif src.get("secretKeyRef"):
                    r = src["secretKeyRef"]
                    value = f"<set to the key '{r.get('key')}' in secret '{r.get('name')}'>"
                elif src.get("fieldRef"):
                    value = f"({src['fieldRef'].get('apiVersion', 'v1')}:{src['fieldRef'].get('fieldPath')})"
                else:
                    value = "<set from a source>"
            else:
                value = e.get("value", "")
            w.kv(3, e.get("name", ""), value)
        for src in c.get("envFrom") or []:
            if src.get("configMapRef"):
                w.kv(3, f"{src['configMapRef'].get('name')}", "ConfigMap  Optional: false")
            elif src.get("secretRef"):
                w.kv(3, f"{src['secretRef'].get('name')}", "Secret  Optional: false")
    mounts = c.get("volumeMounts") or []
    if not mounts:
        w.kv(2, "Mounts", "<none>")
    else:
        w.head(2, "Mounts:")
        for m in mounts:
            mode = "ro" if m.get("readOnly") else "rw"
            sub = f",path=\"{m['subPath']}\"" if m.get("subPath") else ""
            w.head(3, f"{m.get('mountPath')} from {m.get('name')} ({mode}{sub})")


def _volume(w: Writer, v: dict[str, Any]) -> None:
    w.head(1, f"{v.get('name', '')}:")
    if "emptyDir" in v:
        ed = v.get("emptyDir") or {}
        w.kv(2, "Type", "EmptyDir (a temporary directory that shares a pod's lifetime)")
        w.kv(2, "Medium", ed.get("medium", ""))
        w.kv(2, "SizeLimit", ed.get("sizeLimit", "<unset>"))
    elif "hostPath" in v:
        hp = v.get("hostPath") or {}
        w.kv(2, "Type", "HostPath (bare host directory volume)")
        w.kv(2, "Path", hp.get("path", ""))
        w.kv(2, "HostPathType", hp.get("type", ""))
    elif "configMap" in v:
        cm = v.get("configMap") or {}
        w.kv(2, "Type", "ConfigMap (a volume populated by a ConfigMap)")
        w.kv(2, "Name", cm.get("name", ""))
        w.kv(2, "Optional", bool(cm.get("optional")))
    elif "secret" in v:
        sec = v.get("secret") or {}
        w.kv(2, "Type", "Secret (a volume populated by a Secret)")
        w.kv(2, "SecretName", sec.get("secretName", ""))
        w.kv(2, "Optional", bool(sec.get("optional")))
    elif "projected" in v:
        w.kv(2, "Type", "Projected (a volume that contains injected data from multiple sources)")
    else:
        kinds = [k for k in v if k != "name"]
        w.kv(2, "Type", kinds[0] if kinds else "<unknown>")


def _qos(pod: dict[str, Any]) -> str:
    qos = dig(pod, "status", "qosClass")
    if qos:
        return str(qos)
    containers = dig(pod, "spec", "containers", default=[])
    requests = [dig(c, "resources", "requests", default={}) for c in containers]
    limits = [dig(c, "resources", "limits", default={}) for c in containers]
    if not any(requests) and not any(limits):
        return "BestEffort"
    guaranteed = all(
        lim.get(r) and (req.get(r, lim.get(r)) == lim.get(r))
        for req, lim in zip(requests, limits, strict=True)
        for r in ("cpu", "memory")
    )
    return "Guaranteed" if guaranteed else "Burstable"


def _tolerations(tols: list[dict[str, Any]]) -> list[str]:
    out = []
    for t in tols:
        text = str(t.get("key", ""))
        if t.get("value"):
            text += f"={t['value']}"
        if t.get("effect"):
            text += f":{t['effect']}"
        if t.get("operator") == "Exists" and not t.get("value"):
            text += " op=Exists"
        if t.get("tolerationSeconds") is not None:
            text += f" for {t['tolerationSeconds']}s"
        out.append(text)
    return out


def describe_pod(w: Writer, pod: dict[str, Any], ctx: Context) -> None:
    meta = _common_meta(w, pod)
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    w.kv(0, "Priority", spec.get("priority", 0))
    if spec.get("priorityClassName"):
        w.kv(0, "Priority Class Name", spec["priorityClassName"])
    w.kv(0, "Service Account", spec.get("serviceAccountName", ""))
    node = spec.get("nodeName")
    w.kv(0, "Node", f"{node}/{status.get('hostIP', '')}" if node and status.get("hostIP") else node or "<none>")
    if status.get("startTime"):
        w.kv(0, "Start Time", rfc1123(status["startTime"]))
    w.multiline(0, "Labels", _pairs(meta.get("labels")))
    _annotations(w, 0, meta)
    if meta.get("deletionTimestamp"):
        w.kv(0, "Status", f"Terminating (lasts {_age(meta['deletionTimestamp'], ctx.now)})")
        w.kv(0, "Termination Grace Period", f"{meta.get('deletionGracePeriodSeconds', 0)}s")
    else:
        w.kv(0, "Status", status.get("phase", "Pending"))
    if status.get("reason"):
        w.kv(0, "Reason", status["reason"])
    if status.get("message"):
        w.kv(0, "Message", status["message"])
    w.kv(0, "IP", status.get("podIP", ""))
    ips = [p.get("ip") for p in status.get("podIPs") or [] if p.get("ip")]
    if ips:
        w.head(0, "IPs:")
        for ip in ips:
            w.kv(1, "IP", ip)
    else:
        w.kv(0, "IPs", "<none>")
    owner = _controlled_by(pod)
    if owner:
        w.kv(0, "Controlled By", owner)
    statuses = {s.get("name"): s for s in status.get("containerStatuses") or []}
    init_statuses = {s.get("name"): s for s in status.get("initContainerStatuses") or []}
    if spec.get("initContainers"):
        w.head(0, "Init Containers:")
        for c in spec["initContainers"]:
            _container(w, c, init_statuses.get(c.get("name")))
    w.head(0, "Containers:")
    for c in spec.get("containers") or []:
        _container(w, c, statuses.get(c.get("name")))
    conditions = status.get("conditions") or []
    if conditions:
        w.head(0, "Conditions:")
        w.row(1, "Type", "Status")
        for cond in conditions:
            w.row(1, cond.get("type", ""), cond.get("status", ""))
    volumes = spec.get("volumes") or []
    if volumes:
        w.head(0, "Volumes:")
        for v in volumes:
            _volume(w, v)
    else:
        w.kv(0, "Volumes", "<none>")
    w.kv(0, "QoS Class", _qos(pod))
    w.multiline(0, "Node-Selectors", _pairs(spec.get("nodeSelector")))
    w.multiline(0, "Tolerations", _tolerations(spec.get("tolerations") or []))
    events_section(w, ctx.events, ctx.now)


# ---- nodes ----------------------------------------------------------------------------------


def _percent(part: int, whole: int) -> str:
    return f"{int(part * 100 / whole)}%" if whole else "0%"


def _cpu(milli: int) -> str:
    return f"{milli}m" if milli % 1000 else str(milli // 1000)


def _mem(n: int) -> str:
    return str(quantity.from_value(n, binary=True)) if n % 1024 == 0 and n else str(n)


def _pod_totals(pod: dict[str, Any]) -> dict[str, int]:
    """Requests and limits of a pod: cpu in milli, memory in bytes (sum of containers)."""
    out = {"cpu_req": 0, "cpu_lim": 0, "mem_req": 0, "mem_lim": 0}
    for c in dig(pod, "spec", "containers", default=[]):
        req = dig(c, "resources", "requests", default={})
        lim = dig(c, "resources", "limits", default={})
        try:
            out["cpu_req"] += quantity.milli_value(req.get("cpu", "0"))
            out["cpu_lim"] += quantity.milli_value(lim.get("cpu", "0"))
            out["mem_req"] += quantity.value(req.get("memory", "0"))
            out["mem_lim"] += quantity.value(lim.get("memory", "0"))
        except quantity.QuantityError:
            continue
    return out


def describe_node(w: Writer, node: dict[str, Any], ctx: Context) -> None:
    meta = _common_meta(w, node, namespace=False)
    spec, status = node.get("spec") or {}, node.get("status") or {}
    labels = meta.get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    w.kv(0, "Roles", ",".join(roles) or "<none>")
    w.multiline(0, "Labels", _pairs(labels))
    _annotations(w, 0, meta)
    w.kv(0, "CreationTimestamp", rfc1123(meta.get("creationTimestamp")))
    taints = [f"{t.get('key')}{'=' + t['value'] if t.get('value') else ''}:{t.get('effect')}"
              for t in spec.get("taints") or []]
    w.multiline(0, "Taints", taints)
    w.kv(0, "Unschedulable", bool(spec.get("unschedulable")))
    lease = next(iter(ctx.related.get("lease") or []), None)
    if lease is not None:
        w.head(0, "Lease:")
        w.kv(1, "HolderIdentity", dig(lease, "spec", "holderIdentity", default="<unset>"))
        w.kv(1, "AcquireTime", rfc1123(dig(lease, "spec", "acquireTime")))
        w.kv(1, "RenewTime", rfc1123(dig(lease, "spec", "renewTime")))
    conditions = status.get("conditions") or []
    if conditions:
        w.head(0, "Conditions:")
        w.row(1, "Type", "Status", "LastHeartbeatTime", "LastTransitionTime", "Reason", "Message")
        w.row(1, "----", "------", "-----------------", "------------------", "------", "-------")
        for c in conditions:
            w.row(1, c.get("type", ""), c.get("status", ""), rfc1123(c.get("lastHeartbeatTime")),
                  rfc1123(c.get("lastTransitionTime")), c.get("reason", ""), c.get("message", ""))
    w.head(0, "Addresses:")
    for a in status.get("addresses") or []:
        w.kv(1, a.get("type", ""), a.get("address", ""))
    for key, field in (("Capacity", "capacity"), ("Allocatable", "allocatable")):
        values = status.get(field) or {}
        if values:
            w.head(0, f"{key}:")
            for name, q in sorted(values.items()):
                w.kv(1, name, q)
    info = status.get("nodeInfo") or {}
    if info:
        w.head(0, "System Info:")
        for key, field in (("Machine ID", "machineID"), ("System UUID", "systemUUID"), ("Boot ID", "bootID"),
                           ("Kernel Version", "kernelVersion"), ("OS Image", "osImage"),
                           ("Operating System", "operatingSystem"), ("Architecture", "architecture"),
                           ("Container Runtime Version", "containerRuntimeVersion"),
                           ("Kubelet Version", "kubeletVersion"), ("Kube-Proxy Version", "kubeProxyVersion")):
            w.kv(1, key, info.get(field, ""))
    if spec.get("podCIDR"):
        w.kv(0, "PodCIDR", spec["podCIDR"])
        w.kv(0, "PodCIDRs", ",".join(spec.get("podCIDRs") or [spec["podCIDR"]]))
    allocatable = status.get("allocatable") or {}
    try:
        cpu_total = quantity.milli_value(allocatable.get("cpu", "0"))
        mem_total = quantity.value(allocatable.get("memory", "0"))
    except quantity.QuantityError:
        cpu_total = mem_total = 0
    pods = [p for p in ctx.related.get("pods", [])
            if dig(p, "status", "phase") not in ("Succeeded", "Failed")]
    w.kv(0, "Non-terminated Pods", f"({len(pods)} in total)")
    totals = {"cpu_req": 0, "cpu_lim": 0, "mem_req": 0, "mem_lim": 0}
    if pods:
        w.row(1, "Namespace", "Name", "CPU Requests", "CPU Limits", "Memory Requests", "Memory Limits", "Age")
        w.row(1, "---------", "----", "------------", "----------", "---------------", "-------------", "---")
        for p in pods:
            t = _pod_totals(p)
            for k in totals:
                totals[k] += t[k]
            pm = p.get("metadata") or {}
            w.row(1, pm.get("namespace", ""), pm.get("name", ""),
                  f"{_cpu(t['cpu_req'])} ({_percent(t['cpu_req'], cpu_total)})",
                  f"{_cpu(t['cpu_lim'])} ({_percent(t['cpu_lim'], cpu_total)})",
                  f"{_mem(t['mem_req'])} ({_percent(t['mem_req'], mem_total)})",
                  f"{_mem(t['mem_lim'])} ({_percent(t['mem_lim'], mem_total)})",
                  _age(pm.get("creationTimestamp"), ctx.now))
    w.head(0, "Allocated resources:")
    w.head(1, "(Total limits may be over 100 percent, i.e., overcommitted.)")
    w.row(1, "Resource", "Requests", "Limits")
    w.row(1, "--------", "--------", "------")
    w.row(1, "cpu", f"{_cpu(totals['cpu_req'])} ({_percent(totals['cpu_req'], cpu_total)})",
          f"{_cpu(totals['cpu_lim'])} ({_percent(totals['cpu_lim'], cpu_total)})")
    w.row(1, "memory", f"{_mem(totals['mem_req'])} ({_percent(totals['mem_req'], mem_total)})",
          f"{_mem(totals['mem_lim'])} ({_percent(totals['mem_lim'], mem_total)})")
    events_section(w, ctx.events, ctx.now)


# ---- workloads ------------------------------------------------------------------------------


def _pod_template(w: Writer, template: dict[str, Any]) -> None:
    w.head(0, "Pod Template:")
    meta = template.get("metadata") or {}
    w.multiline(1, "Labels", _pairs(meta.get("labels")))
    if meta.get("annotations"):
        w.multiline(1, "Annotations", _pairs(meta.get("annotations"), ": "))
    spec = template.get("spec") or {}
    if spec.get("serviceAccountName"):
        w.kv(1, "Service Account", spec["serviceAccountName"])
    if spec.get("initContainers"):
        w.head(1, "Init Containers:")
        for c in spec["initContainers"]:
            _template_container(w, c)
    w.head(1, "Containers:")
    for c in spec.get("containers") or []:
        _template_container(w, c)
    volumes = spec.get("volumes") or []
    if volumes:
        w.head(1, "Volumes:")
        for v in volumes:
            w.head(2, f"{v.get('name', '')}:")
    else:
        w.kv(1, "Volumes", "<none>")
    w.multiline(1, "Node-Selectors", _pairs(spec.get("nodeSelector")))
    w.multiline(1, "Tolerations", _tolerations(spec.get("tolerations") or []))


def _template_container(w: Writer, c: dict[str, Any]) -> None:
    w.head(2, f"{c.get('name', '')}:")
    w.kv(3, "Image", c.get("image", ""))
    ports = c.get("ports") or []
    w.kv(3, "Port", ", ".join(f"{p.get('containerPort')}/{p.get('protocol', 'TCP')}" for p in ports) or "<none>")
    w.kv(3, "Host Port", ", ".join(f"{p.get('hostPort', 0)}/{p.get('protocol', 'TCP')}" for p in ports) or "<none>")
    for key, field in (("Command", "command"), ("Args", "args")):
        if c.get(field):
            w.head(3, f"{key}:")
            for part in c[field]:
                w.head(4, str(part))
    for key in ("limits", "requests"):
        values = dig(c, "resources", key, default={})
        if values:
            w.head(3, f"{key.capitalize()}:")
            for name, q in sorted(values.items()):
                w.kv(4, name, q)
    env = c.get("env") or []
    if env:
        w.head(3, "Environment:")
        for e in env:
            w.kv(4, e.get("name", ""), e.get("value", "<set from a source>" if "valueFrom" in e else ""))
    else:
        w.kv(3, "Environment", "<none>")
    mounts = c.get("volumeMounts") or []
    if mounts:
        w.head(3, "Mounts:")
        for m in mounts:
            w.head(4, f"{m.get('mountPath')} from {m.get('name')} ({'ro' if m.get('readOnly') else 'rw'})")
    else:
        w.kv(3, "Mounts", "<none>")


def _pods_status(pods: list[dict[str, Any]]) -> str:
    counts = {"Running": 0, "Pending": 0, "Succeeded": 0, "Failed": 0}
    for p in pods:
        phase = dig(p, "status", "phase", default="Pending")
        if phase in counts:
            counts[phase] += 1
    return (f"{counts['Running']} Running / {counts['Pending']} Waiting / {counts['Succeeded']} Succeeded / "
            f"{counts['Failed']} Failed")


def _conditions_table(w: Writer, conditions: list[dict[str, Any]]) -> None:
    if not conditions:
        return
    w.head(0, "Conditions:")
    w.row(1, "Type", "Status", "Reason")
    w.row(1, "----", "------", "------")
    for c in conditions:
        w.row(1, c.get("type", ""), c.get("status", ""), c.get("reason", ""))


def _rs_line(rs: dict[str, Any]) -> str:
    meta = rs.get("metadata") or {}
    st = rs.get("status") or {}
    return f"{meta.get('name')} ({st.get('replicas', 0)}/{dig(rs, 'spec', 'replicas', default=0)} replicas created)"


def describe_deployment(w: Writer, d: dict[str, Any], ctx: Context) -> None:
    meta = _common_meta(w, d)
    spec, st = d.get("spec") or {}, d.get("status") or {}
    w.kv(0, "CreationTimestamp", rfc1123(meta.get("creationTimestamp")))
    w.multiline(0, "Labels", _pairs(meta.get("labels")))
    _annotations(w, 0, meta)
    w.kv(0, "Selector", _selector(spec.get("selector")))
    want = spec.get("replicas", 1)
    w.kv(0, "Replicas", f"{want} desired | {st.get('updatedReplicas', 0)} updated | {st.get('replicas', 0)} total | "
                        f"{st.get('availableReplicas', 0)} available | {st.get('unavailableReplicas', 0)} unavailable")
    strategy = spec.get("strategy") or {}
    w.kv(0, "StrategyType", strategy.get("type", "RollingUpdate"))
    w.kv(0, "MinReadySeconds", spec.get("minReadySeconds", 0))
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        ru = strategy.get("rollingUpdate") or {}
        w.kv(0, "RollingUpdateStrategy",
             f"{ru.get('maxUnavailable', '25%')} max unavailable, {ru.get('maxSurge', '25%')} max surge")
    _pod_template(w, spec.get("template") or {})
    _conditions_table(w, st.get("conditions") or [])
    rss = ctx.related.get("replicasets", [])
    new = ctx.related.get("new_replicaset", [])
    new_names = {(r.get("metadata") or {}).get("name") for r in new}
    old = [r for r in rss if (r.get("metadata") or {}).get("name") not in new_names
           and (dig(r, "spec", "replicas", default=0) or dig(r, "status", "replicas", default=0))]
    w.kv(0, "OldReplicaSets", ", ".join(_rs_line(r) for r in old) or "<none>")
    w.kv(0, "NewReplicaSet", ", ".join(_rs_line(r) for r in new) or "<none>")
    events_section(w, ctx.events, ctx.now)


def describe_replicaset(w: Writer, rs: dict[str, Any], ctx: Context) -> None:
    meta = _common_meta(w, rs)
    spec, st = rs.get("spec") or {}, rs.get("status") or {}
    w.kv(0, "Selector", _selector(spec.get("selector")))
    w.multiline(0, "Labels", _pairs(meta.get("labels")))
    _annotations(w, 0, meta)
    owner = _controlled_by(rs)
    if owner:
        w.kv(0, "Controlled By", owner)
    w.kv(0, "Replicas", f"{st.get('replicas', 0)} current / {spec.get('replicas', 1)} desired")
    w.kv(0, "Pods Status", _pods_status(ctx.related.get("pods", [])))
    _pod_template(w, spec.get("template") or {})
    _conditions_table(w, st.get("conditions") or [])
    events_section(w, ctx.events, ctx.now)


def describe_daemonset(w: Writer, ds: dict[str, Any], ctx: Context) -> None:
    meta = _common_meta(w, ds)
    spec, st = ds.get("spec") or {}, ds.get("status") or {}
    w.kv(0, "Selector", _selector(spec.get("selector")))
    w.kv(0, "Node-Selector", ",".join(_pairs(dig(spec, "template", "spec", "nodeSelector"))) or "<none>")
    w.multiline(0, "Labels", _pairs(meta.get("labels")))
    _annotations(w, 0, meta)
    w.kv(0, "Desired Number of Nodes Scheduled", st.get("desiredNumberScheduled", 0))
    w.kv(0, "Current Number of Nodes Scheduled", st.get("currentNumberScheduled", 0))
    w.kv(0, "Number of Nodes Scheduled with Up-to-date Pods", st.get("updatedNumberScheduled", 0))
    w.kv(0, "Number of Nodes Scheduled with Available Pods", st.get("numberAvailable", 0))
    w.kv(0, "Number of Nodes Misscheduled", st.get("numberMisscheduled", 0))
    w.kv(0, "Pods Status", _pods_status(ctx.related.get("pods", [])))
    _pod_template(w, spec.get("template") or {})
    events_section(w, ctx.events, ctx.now)


# ---- services, namespaces, config -----------------------------------------------------------


def describe_service(w: Writer, svc: dict[str, Any], ctx: Context) -> None:
    meta = _common_meta(w, svc)
    spec = svc.get("spec") or {}
    w.multiline(0, "Labels", _pairs(meta.get("labels")))
    _annotations(w, 0, meta)
    w.kv(0, "Selector", ",".join(_pairs(spec.get("selector"))) or "<none>")
    w.kv(0, "Type", spec.get("type", "ClusterIP"))
    if spec.get("ipFamilyPolicy"):
        w.kv(0, "IP Family Policy", spec["ipFamilyPolicy"])
    if spec.get("ipFamilies"):
        w.kv(0, "IP Families", ",".join(spec["ipFamilies"]))
    if spec.get("type") == "ExternalName":
        w.kv(0, "External Name", spec.get("externalName", ""))
    else:
        w.kv(0, "IP", spec.get("clusterIP", ""))
        w.kv(0, "IPs", ",".join(spec.get("clusterIPs") or []) or "<none>")
    if spec.get("externalIPs"):
        w.kv(0, "External IPs", ",".join(spec["externalIPs"]))
    endpoints = next(iter(ctx.related.get("endpoints") or []), None)
    for p in spec.get("ports") or []:
        name = p.get("name") or "<unset>"
        w.kv(0, "Port", f"{name}  {p.get('port')}/{p.get('protocol', 'TCP')}")
        target = p.get("targetPort", p.get("port"))
        w.kv(0, "TargetPort", f"{target}/{p.get('protocol', 'TCP')}")
        if p.get("nodePort"):
            w.kv(0, "NodePort", f"{name}  {p['nodePort']}/{p.get('protocol', 'TCP')}")
        w.kv(0, "Endpoints", _endpoints_for(endpoints, p))
    w.kv(0, "Session Affinity", spec.get("sessionAffinity", "None"))
    if spec.get("externalTrafficPolicy"):
        w.kv(0, "External Traffic Policy", spec["externalTrafficPolicy"])
    w.kv(0, "Internal Traffic Policy", spec.get("internalTrafficPolicy", "Cluster"))
    events_section(w, ctx.events, ctx.now)


def _endpoints_for(ep: dict[str, Any] | None, port: dict[str, Any]) -> str:
    if not ep:
        return "<none>"
    out: list[str] = []
    for subset in ep.get("subsets") or []:
        ports = [p for p in subset.get("ports") or []
                 if (p.get("name") or "") == (port.get("name") or "") or len(subset.get("ports") or []) == 1]
        for a in subset.get("addresses") or []:
            out.extend(f"{a.get('ip')}:{p.get('port')}" for p in ports)
    return ",".join(out) or "<none>"


def describe_namespace(w: Writer, ns: dict[str, Any], ctx: Context) -> None:
    meta = _common_meta(w, ns, namespace=False)
    w.multiline(0, "Labels", _pairs(meta.get("labels")))
    _annotations(w, 0, meta)
    w.kv(0, "Status", dig(ns, "status", "phase", default="Active"))
    w.head(0, "")
    w.head(0, "No resource quota.")
    w.head(0, "")
    w.head(0, "No LimitRange resource.")


def describe_configmap(w: Writer, cm: dict[str, Any], ctx: Context) -> None:
    meta = _common_meta(w, cm)
    w.multiline(0, "Labels", _pairs(meta.get("labels")))
    _annotations(w, 0, meta)
    w.head(0, "")
    w.head(0, "Data")
    w.head(0, "====")
    for key, value in sorted((cm.get("data") or {}).items()):
        w.head(0, f"{key}:")
        w.head(0, "----")
        for line in str(value).splitlines() or [""]:
            w.head(0, line)
        w.head(0, "")
    w.head(0, "")
    w.head(0, "BinaryData")
    w.head(0, "====")
    for key, value in sorted((cm.get("binaryData") or {}).items()):
        w.head(0, f"{key}: {len(base64.b64decode(value))} bytes" if _b64ok(value) else f"{key}: <invalid>")
    w.head(0, "")
    events_section(w, ctx.events, ctx.now)


def _b64ok(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except ValueError:
        return False
    return True


def describe_secret(w: Writer, sec: dict[str, Any], ctx: Context) -> None:
    meta = _common_meta(w, sec)
    w.multiline(0, "Labels", _pairs(meta.get("labels")))
    _annotations(w, 0, meta)
    w.head(0, "")
    w.kv(0, "Type", sec.get("type", "Opaque"))
    w.head(0, "")
    w.head(0, "Data")
    w.head(0, "====")
    for key, value in sorted((sec.get("data") or {}).items()):
        size = len(base64.b64decode(value)) if _b64ok(value) else 0
        w.kv(0, key, f"{size} bytes")
    events_section(w, ctx.events, ctx.now)


# ---- anything else --------------------------------------------------------------------------


def _title(key: str) -> str:
    """``apiVersion`` -> ``API Version``, ``holderIdentity`` -> ``Holder Identity``."""
    words, cur = [], ""
    for ch in key:
        if ch.isupper() and cur and not cur[-1].isupper():
            words.append(cur)
            cur = ch
        else:
            cur += ch
    words.append(cur)
    return " ".join(w[:1].upper() + w[1:] for w in words if w)


def _generic_value(w: Writer, level: int, key: str, value: Any) -> None:
    if isinstance(value, dict):
        if not value:
            w.kv(level, key, "<none>")
            return
        w.head(level, f"{key}:")
        for k, v in value.items():
            _generic_value(w, level + 1, _title(k), v)
    elif isinstance(value, list):
        if not value:
            w.kv(level, key, "<none>")
            return
        if all(not isinstance(v, dict | list) for v in value):
            w.head(level, f"{key}:")
            for v in value:
                w.head(level + 1, _text(v))
            return
        w.head(level, f"{key}:")
        for v in value:
            if isinstance(v, dict):
                for k, x in v.items():
                    _generic_value(w, level + 1, _title(k), x)
            else:
                _generic_value(w, level + 1, "-", v)
    else:
        w.kv(level, key, value)


def generic(w: Writer, obj: dict[str, Any], ctx: Context) -> None:
    meta = obj.get("metadata") or {}
    w.kv(0, "Name", meta.get("name", ""))
    if meta.get("namespace"):
        w.kv(0, "Namespace", meta["namespace"])
    w.multiline(0, "Labels", _pairs(meta.get("labels")))
    _annotations(w, 0, meta)
    w.kv(0, "API Version", obj.get("apiVersion", ""))
    w.kv(0, "Kind", obj.get("kind", ""))
    w.head(0, "Metadata:")
    w.kv(1, "Creation Timestamp", meta.get("creationTimestamp", ""))
    w.kv(1, "Resource Version", meta.get("resourceVersion", ""))
    w.kv(1, "UID", meta.get("uid", ""))
    for key, value in obj.items():
        if key in ("apiVersion", "kind", "metadata"):
            continue
        _generic_value(w, 0, _title(key), value)
    events_section(w, ctx.events, ctx.now)


Describer = Callable[[Writer, dict[str, Any], Context], None]

DESCRIBERS: dict[str, Describer] = {
    "pods": describe_pod,
    "nodes": describe_node,
    "deployments": describe_deployment,
    "replicasets": describe_replicaset,
    "daemonsets": describe_daemonset,
    "services": describe_service,
    "namespaces": describe_namespace,
    "configmaps": describe_configmap,
    "secrets": describe_secret,
}


def describe(plural: str, obj: dict[str, Any], ctx: Context) -> str:
    w = Writer()
    DESCRIBERS.get(plural, generic)(w, obj, ctx)
    return w.render()
