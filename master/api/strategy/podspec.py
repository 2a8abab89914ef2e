"""Defaults and validation of PodSpec, shared by Pods and the templates of workloads.

Defaults are the real apiserver's (``SetDefaults_PodSpec``, ``SetDefaults_Container`` ...): a
pod written with only a name and an image comes back with restartPolicy Always, dnsPolicy
ClusterFirst, terminationGracePeriodSeconds 30, schedulerName default-scheduler,
imagePullPolicy from the image tag, TCP ports, and probe timings 1s/10s/1/3.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence

from master.api import field, quantity, validation
from master.api.core.pod import (
    Container,
    EmptyDirVolumeSource,
    EnvVar,
    HTTPGetAction,
    KeyToPath,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    PodAffinityTerm,
    PodSpec,
    PodTemplateSpec,
    Probe,
    Toleration,
    Volume,
)
from master.api.field import FieldError
from master.api.labels import validate_label_selector
from master.api.meta import ObjectMeta
from master.api.schema import IntOrString

__all__ = [
    "DEFAULT_SCHEDULER",
    "default_container",
    "default_pod_spec",
    "default_pod_template",
    "default_probe",
    "default_requests_from_limits",
    "validate_pod_spec",
    "validate_pod_template",
    "validate_tolerations",
]

DEFAULT_SCHEDULER = "default-scheduler"
DEFAULT_TERMINATION_GRACE_SECONDS = 30
DEFAULT_MODE = 0o644
TERMINATION_MESSAGE_PATH = "/dev/termination-log"

RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
PROTOCOLS = ("TCP", "UDP", "SCTP")
TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
HOST_PATH_TYPES = ("", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice")
STANDARD_RESOURCES = ("cpu", "memory", "ephemeral-storage")
FIELD_REF_PATHS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.labels",
    "metadata.annotations",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)
_NODE_SELECTOR_OPS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")


# Defaults


def image_pull_policy_for(image: str) -> str:
    """Always for ":latest" or an untagged image, IfNotPresent for a tag or digest."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.rpartition(":")[2] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def default_probe(p: Probe | None) -> None:
    if p is None:
        return
    if p.timeout_seconds == 0:
        p.timeout_seconds = 1
    if p.period_seconds == 0:
        p.period_seconds = 10
    if p.success_threshold == 0:
        p.success_threshold = 1
    if p.failure_threshold == 0:
        p.failure_threshold = 3
    _default_http_get(p.http_get)


def _default_http_get(h: HTTPGetAction | None) -> None:
    if h is not None:
        if not h.path:
            h.path = "/"
        if not h.scheme:
            h.scheme = "HTTP"


def default_container(c: Container, *, host_network: bool = False) -> None:
    if not c.image_pull_policy and c.image:
        c.image_pull_policy = image_pull_policy_for(c.image)
    if not c.termination_message_path:
        c.termination_message_path = TERMINATION_MESSAGE_PATH
    if not c.termination_message_policy:
        c.termination_message_policy = "File"
    for port in c.ports:
        if not port.protocol:
            port.protocol = "TCP"
        if host_network and port.host_port == 0:
            port.host_port = port.container_port
    for env in c.env:
        ref = env.value_from.field_ref if env.value_from is not None else None
        if ref is not None and not ref.api_version:
            ref.api_version = "v1"
    for probe in (c.liveness_probe, c.readiness_probe, c.startup_probe):
        default_probe(probe)
    if c.lifecycle is not None:
        for handler in (c.lifecycle.post_start, c.lifecycle.pre_stop):
            if handler is not None:
                _default_http_get(handler.http_get)
    c.resources.limits = _canonical_resources(c.resources.limits)
    c.resources.requests = _canonical_resources(c.resources.requests)


def _canonical_resources(rl: dict[str, str]) -> dict[str, str]:
    out = {}
    for name, value in rl.items():
        try:
            out[name] = quantity.canonical(value)
        except quantity.QuantityError:
            out[name] = value  # validation reports it
    return out


def _default_volume(v: Volume) -> None:
    if (
        v.empty_dir is None
        and v.host_path is None
        and v.config_map is None
        and v.secret is None
        and v.projected is None
        and v.downward_api is None
        and v.persistent_volume_claim is None
    ):
        v.empty_dir = EmptyDirVolumeSource()
    if v.host_path is not None and v.host_path.type is None:
        v.host_path.type = ""
    for src in (v.config_map, v.secret, v.projected, v.downward_api):
        if src is not None and src.default_mode is None:
            src.default_mode = DEFAULT_MODE
    if v.projected is not None:
        for proj in v.projected.sources:
            sat = proj.service_account_token
            if sat is not None and sat.expiration_seconds is None:
                sat.expiration_seconds = 3600
            if proj.downward_api is not None:
                for item in proj.downward_api.items:
                    if item.field_ref is not None and not item.field_ref.api_version:
                        item.field_ref.api_version = "v1"
    if v.downward_api is not None:
        for item in v.downward_api.items:
            if item.field_ref is not None and not item.field_ref.api_version:
                item.field_ref.api_version = "v1"


def default_pod_spec(spec: PodSpec) -> None:
    """Kubernetes' PodSpec defaults, in place."""
    if not spec.dns_policy:
        spec.dns_policy = "ClusterFirst"
    if not spec.restart_policy:
        spec.restart_policy = "Always"
    if spec.termination_grace_period_seconds is None:
        spec.termination_grace_period_seconds = DEFAULT_TERMINATION_GRACE_SECONDS
    if not spec.scheduler_name:
        spec.scheduler_name = DEFAULT_SCHEDULER
    if spec.enable_service_links is None:
        spec.enable_service_links = True
    if not spec.service_account_name and spec.service_account:
        spec.service_account_name = spec.service_account
    spec.service_account = spec.service_account_name
    for c in spec.init_containers:
        default_container(c, host_network=spec.host_network)
    for c in spec.containers:
        default_container(c, host_network=spec.host_network)
    for v in spec.volumes:
        _default_volume(v)


def default_requests_from_limits(spec: PodSpec) -> None:
    """A container's request for a resource it only limits is the limit (pods only: templates
    keep what was written, as in Kubernetes)."""
    for c in [*spec.init_containers, *spec.containers]:
        missing = {k: v for k, v in c.resources.limits.items() if k not in c.resources.requests}
        if missing:
            c.resources.requests = {**c.resources.requests, **missing}


def default_pod_template(template: PodTemplateSpec) -> None:
    default_pod_spec(template.spec)


# Validation


def _validate_name_list(names: Iterable[tuple[str, str]]) -> list[FieldError]:
    """(path, name) pairs that must be unique DNS-1123 labels."""
    errs: list[FieldError] = []
    seen: set[str] = set()
    for path, name in names:
        if not name:
            errs.append(field.required(path))
            continue
        errs.extend(field.invalid(path, name, m) for m in validation.is_dns1123_label(name))
        if name in seen:
            errs.append(field.duplicate(path, name))
        seen.add(name)
    return errs


def _validate_mode(mode: int | None, path: str) -> list[FieldError]:
    if mode is None or 0 <= mode <= 0o777:
        return []
    return [field.invalid(path, mode, "must be a number between 0 and 0777 (octal), both inclusive")]


def _validate_local_path(path_value: str, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if posixpath.isabs(path_value):
        errs.append(field.invalid(path, path_value, "must be a relative path"))
    if ".." in path_value.split("/"):
        errs.append(field.invalid(path, path_value, "must not contain '..'"))
    return errs


def _validate_key_to_paths(items: Sequence[KeyToPath], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, item in enumerate(items):
        p = field.index(path, i)
        if not item.key:
            errs.append(field.required(field.child(p, "key")))
        if not item.path:
            errs.append(field.required(field.child(p, "path")))
        else:
            errs.extend(_validate_local_path(item.path, field.child(p, "path")))
        errs.extend(_validate_mode(item.mode, field.child(p, "mode")))
    return errs


def _validate_volumes(volumes: list[Volume], path: str) -> tuple[list[FieldError], set[str]]:
    errs = _validate_name_list((field.child(field.index(path, i), "name"), v.name) for i, v in enumerate(volumes))
    names = {v.name for v in volumes}
    for i, v in enumerate(volumes):
        p = field.index(path, i)
        sources = [
            s
            for s in (v.empty_dir, v.host_path, v.config_map, v.secret, v.projected, v.downward_api,
                      v.persistent_volume_claim)
            if s is not None
        ]
        if not sources:
            errs.append(field.required(p, "must specify a volume type"))
        elif len(sources) > 1:
            errs.append(field.forbidden(p, "may not specify more than 1 volume type"))
        if v.host_path is not None:
            hp = field.child(p, "hostPath")
            if not v.host_path.path:
                errs.append(field.required(field.child(hp, "path")))
            if (v.host_path.type or "") not in HOST_PATH_TYPES:
                errs.append(field.not_supported(field.child(hp, "type"), v.host_path.type, HOST_PATH_TYPES))
        if v.empty_dir is not None:
            ed = field.child(p, "emptyDir")
            if v.empty_dir.medium not in ("", "Memory", "HugePages"):
                errs.append(field.not_supported(field.child(ed, "medium"), v.empty_dir.medium, ("", "Memory")))
            if v.empty_dir.size_limit is not None:
                errs.extend(_validate_quantity(v.empty_dir.size_limit, field.child(ed, "sizeLimit")))
        if v.config_map is not None:
            cp = field.child(p, "configMap")
            if not v.config_map.name:
                errs.append(field.required(field.child(cp, "name")))
            errs.extend(_validate_key_to_paths(v.config_map.items, field.child(cp, "items")))
            errs.extend(_validate_mode(v.config_map.default_mode, field.child(cp, "defaultMode")))
        if v.secret is not None:
            sp = field.child(p, "secret")
            if not v.secret.secret_name:
                errs.append(field.required(field.child(sp, "secretName")))
            errs.extend(_validate_key_to_paths(v.secret.items, field.child(sp, "items")))
            errs.extend(_validate_mode(v.secret.default_mode, field.child(sp, "defaultMode")))
        if v.persistent_volume_claim is not None and not v.persistent_volume_claim.claim_name:
            errs.append(field.required(field.child(p, "persistentVolumeClaim", "claimName")))
        if v.projected is not None:
            pp = field.child(p, "projected")
            errs.extend(_validate_mode(v.projected.default_mode, field.child(pp, "defaultMode")))
            for j, src in enumerate(v.projected.sources):
                sp = field.index(field.child(pp, "sources"), j)
                if sum(x is not None for x in (src.secret, src.config_map, src.downward_api,
                                               src.service_account_token)) != 1:
                    errs.append(field.forbidden(sp, "may not specify more than 1 volume type per source"))
                if src.service_account_token is not None:
                    sat = src.service_account_token
                    if not sat.path:
                        errs.append(field.required(field.child(sp, "serviceAccountToken", "path")))
                    if sat.expiration_seconds is not None and sat.expiration_seconds < 600:
                        errs.append(field.invalid(field.child(sp, "serviceAccountToken", "expirationSeconds"),
                                                  sat.expiration_seconds, "may not specify a duration less than 10 minutes"))
                for kind, sub in (("secret", src.secret), ("configMap", src.config_map)):
                    if sub is not None:
                        errs.extend(_validate_key_to_paths(sub.items, field.child(sp, kind, "items")))
    return errs, names


def _validate_quantity(value: str, path: str, *, nonnegative: bool = True) -> list[FieldError]:
    try:
        q = quantity.parse(value)
    except quantity.QuantityError as exc:
        return [field.invalid(path, value, str(exc))]
    if nonnegative and q.amount < 0:
        return [field.invalid(path, value, "must be greater than or equal to 0")]
    return []


def _validate_resource_name(name: str, path: str) -> list[FieldError]:
    if name in STANDARD_RESOURCES or name.startswith("hugepages-"):
        return []
    msgs = validation.is_qualified_name(name)
    if msgs:
        return [field.invalid(path, name, m) for m in msgs]
    if "/" not in name:
        return [field.invalid(path, name, "must be a standard resource type or fully qualified")]
    return []


def _validate_resources(c: Container, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for kind, rl in (("limits", c.resources.limits), ("requests", c.resources.requests)):
        for name, value in rl.items():
            p = field.key(field.child(path, kind), name)
            errs.extend(_validate_resource_name(name, p))
            errs.extend(_validate_quantity(value, p))
    for name, req in c.resources.requests.items():
        lim = c.resources.limits.get(name)
        if lim is None:
            continue
        try:
            if quantity.parse(req).amount > quantity.parse(lim).amount:
                errs.append(
                    field.invalid(
                        field.key(field.child(path, "requests"), name), req, f"must be less than or equal to {name} limit of {lim}"
                    )
                )
        except quantity.QuantityError:
            pass
    return errs


def _validate_port_ref(port: IntOrString, path: str) -> list[FieldError]:
    if isinstance(port, int):
        return validation.validate_port(port, path)
    if port.isdigit():
        return validation.validate_port(int(port), path)
    return [field.invalid(path, port, m) for m in validation.is_port_name(port)]


def _validate_handler(h: object, path: str, *, what: str) -> list[FieldError]:
    errs: list[FieldError] = []
    handlers = [
        (name, getattr(h, attr))
        for name, attr in (("exec", "exec"), ("httpGet", "http_get"), ("tcpSocket", "tcp_socket"), ("grpc", "grpc"),
                           ("sleep", "sleep"))
        if getattr(h, attr, None) is not None
    ]
    if not handlers:
        errs.append(field.required(path, f"must specify a {what} type"))
    elif len(handlers) > 1:
        errs.append(field.forbidden(field.child(path, handlers[1][0]), f"may not specify more than 1 {what} type"))
    for name, hv in handlers:
        p = field.child(path, name)
        if name == "exec" and not hv.command:
            errs.append(field.required(field.child(p, "command")))
        elif name == "httpGet":
            errs.extend(_validate_port_ref(hv.port, field.child(p, "port")))
            if hv.scheme and hv.scheme not in ("HTTP", "HTTPS"):
                errs.append(field.not_supported(field.child(p, "scheme"), hv.scheme, ("HTTP", "HTTPS")))
            for j, hdr in enumerate(hv.http_headers):
                hp = field.child(field.index(field.child(p, "httpHeaders"), j), "name")
                errs.extend(field.invalid(hp, hdr.name, m) for m in validation.is_http_header_name(hdr.name))
        elif name == "tcpSocket":
            errs.extend(_validate_port_ref(hv.port, field.child(p, "port")))
        elif name == "grpc":
            errs.extend(validation.validate_port(hv.port, field.child(p, "port")))
        elif name == "sleep" and hv.seconds < 0:
            errs.append(field.invalid(field.child(p, "seconds"), hv.seconds, "must be greater than or equal to 0"))
    return errs


def _validate_probe(p: Probe | None, path: str, *, success_must_be_one: bool) -> list[FieldError]:
    if p is None:
        return []
    errs = _validate_handler(p, path, what="handler")
    for name, v in (
        ("initialDelaySeconds", p.initial_delay_seconds),
        ("timeoutSeconds", p.timeout_seconds),
        ("periodSeconds", p.period_seconds),
        ("successThreshold", p.success_threshold),
        ("failureThreshold", p.failure_threshold),
    ):
        errs.extend(validation.validate_nonnegative(v, field.child(path, name)))
    if success_must_be_one and p.success_threshold not in (0, 1):
        errs.append(field.invalid(field.child(path, "successThreshold"), p.success_threshold, "must be 1"))
    if p.termination_grace_period_seconds is not None and p.termination_grace_period_seconds <= 0:
        errs.append(
            field.invalid(
                field.child(path, "terminationGracePeriodSeconds"), p.termination_grace_period_seconds, "must be greater than 0"
            )
        )
    return errs


def _validate_env(env: list[EnvVar], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, e in enumerate(env):
        p = field.index(path, i)
        if not e.name:
            errs.append(field.required(field.child(p, "name")))
        else:
            errs.extend(field.invalid(field.child(p, "name"), e.name, m) for m in validation.is_env_var_name(e.name))
        vf = e.value_from
        if vf is None:
            continue
        vp = field.child(p, "valueFrom")
        sources = [s for s in (vf.field_ref, vf.resource_field_ref, vf.config_map_key_ref, vf.secret_key_ref) if s is not None]
        if not sources:
            errs.append(field.invalid(vp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
        elif len(sources) > 1:
            errs.append(field.invalid(vp, "", "may not have more than one field specified at a time"))
        if e.value:
            errs.append(field.invalid(vp, "", "may not be specified when `value` is not empty"))
        if vf.field_ref is not None:
            fp = vf.field_ref.field_path
            base = fp.split("[", 1)[0]
            if not fp:
                errs.append(field.required(field.child(vp, "fieldRef", "fieldPath")))
            elif base not in FIELD_REF_PATHS or ("[" in fp and base not in ("metadata.labels", "metadata.annotations")):
                errs.append(field.not_supported(field.child(vp, "fieldRef", "fieldPath"), fp, FIELD_REF_PATHS))
        if vf.resource_field_ref is not None and vf.resource_field_ref.resource not in (
            "limits.cpu", "limits.memory", "limits.ephemeral-storage", "requests.cpu", "requests.memory",
            "requests.ephemeral-storage",
        ):
            errs.append(
                field.not_supported(
                    field.child(vp, "resourceFieldRef", "resource"),
                    vf.resource_field_ref.resource,
                    ("limits.cpu", "limits.memory", "limits.ephemeral-storage", "requests.cpu", "requests.memory",
                     "requests.ephemeral-storage"),
                )
            )
        for name, ref in (("configMapKeyRef", vf.config_map_key_ref), ("secretKeyRef", vf.secret_key_ref)):
            if ref is None:
                continue
            rp = field.child(vp, name)
            if not ref.name:
                errs.append(field.required(field.child(rp, "name")))
            if not ref.key:
                errs.append(field.required(field.child(rp, "key")))
            else:
                errs.extend(field.invalid(field.child(rp, "key"), ref.key, m) for m in validation.is_config_map_key(ref.key))
    return errs


def _validate_container(
    c: Container, path: str, volumes: set[str], port_names: set[str], *, init: bool
) -> list[FieldError]:
    errs: list[FieldError] = []
    if not c.image.strip():
        errs.append(field.required(field.child(path, "image")))
    if c.image_pull_policy and c.image_pull_policy not in PULL_POLICIES:
        errs.append(field.not_supported(field.child(path, "imagePullPolicy"), c.image_pull_policy, PULL_POLICIES))
    if c.termination_message_policy and c.termination_message_policy not in TERMINATION_MESSAGE_POLICIES:
        errs.append(
            field.not_supported(
                field.child(path, "terminationMessagePolicy"), c.termination_message_policy, TERMINATION_MESSAGE_POLICIES
            )
        )
    for i, port in enumerate(c.ports):
        p = field.index(field.child(path, "ports"), i)
        if port.name:
            errs.extend(field.invalid(field.child(p, "name"), port.name, m) for m in validation.is_port_name(port.name))
            if port.name in port_names:
                errs.append(field.duplicate(field.child(p, "name"), port.name))
            port_names.add(port.name)
        if port.container_port == 0:
            errs.append(field.required(field.child(p, "containerPort")))
        else:
            errs.extend(validation.validate_port(port.container_port, field.child(p, "containerPort")))
        if port.host_port:
            errs.extend(validation.validate_port(port.host_port, field.child(p, "hostPort")))
        if port.protocol and port.protocol not in PROTOCOLS:
            errs.append(field.not_supported(field.child(p, "protocol"), port.protocol, PROTOCOLS))
        if port.host_ip:
            errs.extend(field.invalid(field.child(p, "hostIP"), port.host_ip, m) for m in validation.is_ip(port.host_ip))
    errs.extend(_validate_env(c.env, field.child(path, "env")))
    for i, ef in enumerate(c.env_from):
        p = field.index(field.child(path, "envFrom"), i)
        if ef.prefix:
            errs.extend(field.invalid(field.child(p, "prefix"), ef.prefix, m) for m in validation.is_env_var_name(ef.prefix))
        refs = [r for r in (ef.config_map_ref, ef.secret_ref) if r is not None]
        if len(refs) != 1:
            errs.append(field.invalid(p, "", "must specify one of: `configMapRef` or `secretRef`"))
        for name, ref in (("configMapRef", ef.config_map_ref), ("secretRef", ef.secret_ref)):
            if ref is not None and not ref.name:
                errs.append(field.required(field.child(p, name, "name")))
    mount_paths: set[str] = set()
    for i, m in enumerate(c.volume_mounts):
        p = field.index(field.child(path, "volumeMounts"), i)
        if not m.name:
            errs.append(field.required(field.child(p, "name")))
        elif m.name not in volumes:
            errs.append(field.not_found(field.child(p, "name"), m.name))
        if not m.mount_path:
            errs.append(field.required(field.child(p, "mountPath")))
        elif m.mount_path in mount_paths:
            errs.append(field.invalid(field.child(p, "mountPath"), m.mount_path, "must be unique"))
        mount_paths.add(m.mount_path)
        if m.sub_path:
            errs.extend(_validate_local_path(m.sub_path, field.child(p, "subPath")))
        if m.mount_propagation not in (None, "None", "HostToContainer", "Bidirectional"):
            errs.append(field.not_supported(field.child(p, "mountPropagation"), m.mount_propagation,
                                            ("Bidirectional", "HostToContainer", "None")))
    errs.extend(_validate_resources(c, field.child(path, "resources")))
    if init:
        for name, probe in (("livenessProbe", c.liveness_probe), ("readinessProbe", c.readiness_probe),
                            ("startupProbe", c.startup_probe)):
            if probe is not None:
                errs.append(field.forbidden(field.child(path, name), "may not be set for init containers"))
    else:
        errs.extend(_validate_probe(c.liveness_probe, field.child(path, "livenessProbe"), success_must_be_one=True))
        errs.extend(_validate_probe(c.readiness_probe, field.child(path, "readinessProbe"), success_must_be_one=False))
        errs.extend(_validate_probe(c.startup_probe, field.child(path, "startupProbe"), success_must_be_one=True))
    if c.lifecycle is not None:
        for name, handler in (("postStart", c.lifecycle.post_start), ("preStop", c.lifecycle.pre_stop)):
            if handler is not None:
                errs.extend(_validate_handler(handler, field.child(path, "lifecycle", name), what="handler"))
    if c.security_context is not None:
        sc = c.security_context
        for name, uid in (("runAsUser", sc.run_as_user), ("runAsGroup", sc.run_as_group)):
            errs.extend(validation.validate_nonnegative(uid, field.child(path, "securityContext", name)))
        if sc.privileged and sc.allow_privilege_escalation is False:
            errs.append(field.invalid(field.child(path, "securityContext"), "",
                                      "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
    return errs


def validate_tolerations(tolerations: list[Toleration], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, t in enumerate(tolerations):
        p = field.index(path, i)
        if t.key:
            errs.extend(field.invalid(field.child(p, "key"), t.key, m) for m in validation.is_qualified_name(t.key))
        elif t.operator != "Exists":
            errs.append(field.invalid(field.child(p, "operator"), t.operator,
                                      'operator must be Exists when `key` is empty, which means "match all values and all keys"'))
        if t.toleration_seconds is not None and t.effect != "NoExecute":
            errs.append(field.invalid(field.child(p, "effect"), t.effect,
                                      "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        if t.operator in ("", "Equal"):
            errs.extend(field.invalid(field.child(p, "value"), t.value, m) for m in validation.is_valid_label_value(t.value))
        elif t.operator == "Exists":
            if t.value:
                errs.append(field.invalid(field.child(p, "operator"), t.value,
                                          "value must be empty when `operator` is 'Exists'"))
        else:
            errs.append(field.not_supported(field.child(p, "operator"), t.operator, ("Equal", "Exists")))
        if t.effect and t.effect not in TAINT_EFFECTS:
            errs.append(field.not_supported(field.child(p, "effect"), t.effect, TAINT_EFFECTS))
    return errs


def _validate_node_selector_requirement(r: NodeSelectorRequirement, path: str, *, is_field: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    if is_field:
        if r.key != "metadata.name":
            errs.append(field.invalid(field.child(path, "key"), r.key, "not a valid field selector key"))
    else:
        errs.extend(field.invalid(field.child(path, "key"), r.key, m) for m in validation.is_qualified_name(r.key))
    if r.operator in ("In", "NotIn"):
        if not r.values:
            errs.append(field.required(field.child(path, "values"), "must be specified when `operator` is 'In' or 'NotIn'"))
    elif r.operator in ("Exists", "DoesNotExist"):
        if r.values:
            errs.append(field.forbidden(field.child(path, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
    elif r.operator in ("Gt", "Lt"):
        if len(r.values) != 1:
            errs.append(field.required(field.child(path, "values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
        elif not r.values[0].lstrip("-").isdigit():
            errs.append(field.invalid(field.child(path, "values"), r.values, "must be an integer"))
    else:
        errs.append(field.not_supported(field.child(path, "operator"), r.operator, _NODE_SELECTOR_OPS))
    return errs


def _validate_node_selector_term(term: NodeSelectorTerm, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for j, r in enumerate(term.match_expressions):
        errs.extend(_validate_node_selector_requirement(r, field.index(field.child(path, "matchExpressions"), j), is_field=False))
    for j, r in enumerate(term.match_fields):
        errs.extend(_validate_node_selector_requirement(r, field.index(field.child(path, "matchFields"), j), is_field=True))
    return errs


def _validate_pod_affinity_terms(terms: list[PodAffinityTerm], path: str) -> list[FieldError]:
    return [e for i, t in enumerate(terms) for e in _validate_pod_affinity_term(t, field.index(path, i))]


def _validate_pod_affinity_term(t: PodAffinityTerm, p: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if not t.topology_key:
        errs.append(field.required(field.child(p, "topologyKey"), "can not be empty"))
    else:
        errs.extend(field.invalid(field.child(p, "topologyKey"), t.topology_key, m)
                    for m in validation.is_qualified_name(t.topology_key))
    if t.label_selector is not None:
        errs.extend(validate_label_selector(t.label_selector, field.child(p, "labelSelector")))
    if t.namespace_selector is not None:
        errs.extend(validate_label_selector(t.namespace_selector, field.child(p, "namespaceSelector")))
    return errs


def _validate_affinity(spec: PodSpec, path: str) -> list[FieldError]:
    a = spec.affinity
    if a is None:
        return []
    errs: list[FieldError] = []
    if a.node_affinity is not None:
        na = field.child(path, "nodeAffinity")
        req = a.node_affinity.required_during_scheduling_ignored_during_execution
        if req is not None:
            rp = field.child(na, "requiredDuringSchedulingIgnoredDuringExecution")
            if not req.node_selector_terms:
                errs.append(field.required(field.child(rp, "nodeSelectorTerms"), "must have at least one node selector term"))
            for i, term in enumerate(req.node_selector_terms):
                errs.extend(_validate_node_selector_term(term, field.index(field.child(rp, "nodeSelectorTerms"), i)))
        for i, pref in enumerate(a.node_affinity.preferred_during_scheduling_ignored_during_execution):
            pp = field.index(field.child(na, "preferredDuringSchedulingIgnoredDuringExecution"), i)
            if not 1 <= pref.weight <= 100:
                errs.append(field.invalid(field.child(pp, "weight"), pref.weight, "must be in the range 1-100"))
            errs.extend(_validate_node_selector_term(pref.preference, field.child(pp, "preference")))
    for name, pa in (("podAffinity", a.pod_affinity), ("podAntiAffinity", a.pod_anti_affinity)):
        if pa is None:
            continue
        p = field.child(path, name)
        errs.extend(_validate_pod_affinity_terms(pa.required_during_scheduling_ignored_during_execution,
                                                 field.child(p, "requiredDuringSchedulingIgnoredDuringExecution")))
        for i, w in enumerate(pa.preferred_during_scheduling_ignored_during_execution):
            wp = field.index(field.child(p, "preferredDuringSchedulingIgnoredDuringExecution"), i)
            if not 1 <= w.weight <= 100:
                errs.append(field.invalid(field.child(wp, "weight"), w.weight, "must be in the range 1-100"))
            errs.extend(_validate_pod_affinity_term(w.pod_affinity_term, field.child(wp, "podAffinityTerm")))
    return errs


def validate_pod_spec(spec: PodSpec, path: str = "spec") -> list[FieldError]:
    errs, volume_names = _validate_volumes(spec.volumes, field.child(path, "volumes"))
    if not spec.containers:
        errs.append(field.required(field.child(path, "containers")))
    all_names = [(field.child(field.index(field.child(path, "initContainers"), i), "name"), c.name)
                 for i, c in enumerate(spec.init_containers)]
    all_names += [(field.child(field.index(field.child(path, "containers"), i), "name"), c.name)
                  for i, c in enumerate(spec.containers)]
    errs.extend(_validate_name_list(all_names))
    port_names: set[str] = set()
    for i, c in enumerate(spec.init_containers):
        errs.extend(_validate_container(c, field.index(field.child(path, "initContainers"), i), volume_names,
                                        port_names, init=True))
    for i, c in enumerate(spec.containers):
        errs.extend(_validate_container(c, field.index(field.child(path, "containers"), i), volume_names,
                                        port_names, init=False))
    if spec.restart_policy not in RESTART_POLICIES:
        if spec.restart_policy:
            errs.append(field.not_supported(field.child(path, "restartPolicy"), spec.restart_policy, RESTART_POLICIES))
        else:
            errs.append(field.required(field.child(path, "restartPolicy")))
    if spec.dns_policy and spec.dns_policy not in DNS_POLICIES:
        errs.append(field.not_supported(field.child(path, "dnsPolicy"), spec.dns_policy, DNS_POLICIES))
    if spec.dns_policy == "None" and (spec.dns_config is None or not spec.dns_config.nameservers):
        errs.append(field.required(field.child(path, "dnsConfig"),
                                   "must provide `dnsConfig` when `dnsPolicy` is None"))
    if spec.termination_grace_period_seconds is not None and spec.termination_grace_period_seconds < 0:
        errs.append(field.invalid(field.child(path, "terminationGracePeriodSeconds"),
                                  spec.termination_grace_period_seconds, "must be greater than or equal to 0"))
    ads = spec.active_deadline_seconds
    if ads is not None and not 1 <= ads <= 2147483647:
        errs.append(field.invalid(field.child(path, "activeDeadlineSeconds"), ads,
                                  "must be between 1 and 2147483647, inclusive"))
    errs.extend(validation.validate_labels(spec.node_selector, field.child(path, "nodeSelector")))
    for name, value, check in (
        ("nodeName", spec.node_name, validation.is_dns1123_subdomain),
        ("serviceAccountName", spec.service_account_name, validation.is_dns1123_subdomain),
        ("hostname", spec.hostname, validation.is_dns1123_label),
        ("subdomain", spec.subdomain, validation.is_dns1123_label),
        ("priorityClassName", spec.priority_class_name, validation.is_dns1123_subdomain),
    ):
        if value:
            errs.extend(field.invalid(field.child(path, name), value, m) for m in check(value, False))
    errs.extend(validate_tolerations(spec.tolerations, field.child(path, "tolerations")))
    errs.extend(_validate_affinity(spec, field.child(path, "affinity")))
    seen_spread: set[tuple[str, str]] = set()
    for i, tsc in enumerate(spec.topology_spread_constraints):
        p = field.index(field.child(path, "topologySpreadConstraints"), i)
        if tsc.max_skew <= 0:
            errs.append(field.invalid(field.child(p, "maxSkew"), tsc.max_skew, "must be greater than zero"))
        if not tsc.topology_key:
            errs.append(field.required(field.child(p, "topologyKey"), "can not be empty"))
        if tsc.when_unsatisfiable not in ("DoNotSchedule", "ScheduleAnyway"):
            errs.append(field.not_supported(field.child(p, "whenUnsatisfiable"), tsc.when_unsatisfiable,
                                            ("DoNotSchedule", "ScheduleAnyway")))
        pair = (tsc.topology_key, tsc.when_unsatisfiable)
        if pair in seen_spread:
            errs.append(field.duplicate(p, f"{{{tsc.topology_key}, {tsc.when_unsatisfiable}}}"))
        seen_spread.add(pair)
        if tsc.label_selector is not None:
            errs.extend(validate_label_selector(tsc.label_selector, field.child(p, "labelSelector")))
    for i, gate in enumerate(spec.readiness_gates):
        p = field.child(field.index(field.child(path, "readinessGates"), i), "conditionType")
        errs.extend(field.invalid(p, gate.condition_type, m) for m in validation.is_qualified_name(gate.condition_type))
    for i, ha in enumerate(spec.host_aliases):
        p = field.child(field.index(field.child(path, "hostAliases"), i), "ip")
        errs.extend(field.invalid(p, ha.ip, m) for m in validation.is_ip(ha.ip))
    if spec.security_context.fs_group is not None:
        errs.extend(validation.validate_nonnegative(spec.security_context.fs_group,
                                                    field.child(path, "securityContext", "fsGroup")))
    for k, v in spec.overhead.items():
        errs.extend(_validate_quantity(v, field.key(field.child(path, "overhead"), k)))
    return errs


def validate_pod_template(template: PodTemplateSpec, path: str = "spec.template") -> list[FieldError]:
    errs = _validate_template_meta(template.metadata, field.child(path, "metadata"))
    errs.extend(validate_pod_spec(template.spec, field.child(path, "spec")))
    return errs


def _validate_template_meta(meta: ObjectMeta, path: str) -> list[FieldError]:
    errs = validation.validate_labels(meta.labels, field.child(path, "labels"))
    errs.extend(validation.validate_annotations(meta.annotations, field.child(path, "annotations")))
    return errs
