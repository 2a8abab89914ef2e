"""A container's environment, and its command and args with ``$(VAR)`` expanded.

Order and precedence follow the kubelet: Service link variables first (``enableServiceLinks``),
then ``envFrom`` sources in order, then ``env`` entries in order, later ones winning. A value
may refer to variables defined before it as ``$(NAME)``; ``$$(NAME)`` is a literal ``$(NAME)``
and an undefined ``$(NAME)`` stays as written::

    env: [{name: A, value: x}, {name: B, value: "$(A)-y"}, {name: C, value: "$$(A)"}]
    -> A=x  B=x-y  C=$(A)

``valueFrom``: ``configMapKeyRef`` / ``secretKeyRef`` (``optional`` skips a missing one),
``fieldRef`` (metadata.name, .namespace, .uid, .labels['k'], .annotations['k'], spec.nodeName,
spec.serviceAccountName, status.hostIP(s), status.podIP(s)) and ``resourceFieldRef``
(limits/requests of cpu, memory, ephemeral-storage, divided by ``divisor`` and rounded up; an
unset limit is the node's allocatable).

A reference that cannot be resolved raises ``EnvError``: the kubelet's
CreateContainerConfigError, with its message (``configmap "x" not found``).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterable, Mapping
from fractions import Fraction

from agent.kubelet.configsource import ConfigSource, ConfigUnavailable
from master.api import quantity
from master.api.core import Container, Pod, Service

__all__ = ["EnvError", "expand", "field_value", "make_env", "service_env"]


class EnvError(Exception):
    """CreateContainerConfigError: a reference in the container's env cannot be resolved."""


_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_FIELD_KEY = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion (``$$`` escapes a dollar)."""

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        return env[name] if name in env else m.group(0)

    return _REF.sub(sub, text)


def field_value(pod: Pod, path: str, *, host_ip: str, pod_ip: str) -> str:
    m = pod.metadata
    simple = {
        "metadata.name": m.name,
        "metadata.namespace": m.namespace,
        "metadata.uid": m.uid,
        "spec.nodeName": pod.spec.node_name,
        "spec.serviceAccountName": pod.spec.service_account_name,
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
    }
    if path in simple:
        return simple[path]
    keyed = _FIELD_KEY.match(path)
    if keyed:
        source = m.labels if keyed.group(1) == "labels" else m.annotations
        return source.get(keyed.group(2), "")
    if path in ("metadata.labels", "metadata.annotations"):
        source = m.labels if path == "metadata.labels" else m.annotations
        return "\n".join(f'{k}="{v}"' for k, v in sorted(source.items()))
    raise EnvError(f"unsupported fieldPath: {path}")


def resource_value(
    pod: Pod, container_name: str, resource: str, divisor: str, allocatable: Mapping[str, str]
) -> str:
    container = next((c for c in [*pod.spec.containers, *pod.spec.init_containers] if c.name == container_name), None)
    if container is None:
        raise EnvError(f"resourceFieldRef: container {container_name!r} not found in pod {pod.metadata.name}")
    kind, _, name = resource.partition(".")
    if kind not in ("limits", "requests") or name not in ("cpu", "memory", "ephemeral-storage"):
        raise EnvError(f"unsupported resource: {resource}")
    values = container.resources.limits if kind == "limits" else container.resources.requests
    raw = values.get(name) or (allocatable.get(name) if kind == "limits" else None) or "0"
    try:
        amount = Fraction(quantity.parse(raw).milli_value(), 1000)
        div = Fraction(quantity.parse(divisor or "1").milli_value(), 1000)
    except quantity.QuantityError as exc:
        raise EnvError(f"resourceFieldRef {resource}: {exc}") from None
    if div <= 0:
        raise EnvError(f"resourceFieldRef {resource}: divisor must be positive")
    return str(math.ceil(amount / div))


def _link_name(name: str) -> str:
    return name.upper().replace("-", "_")


def service_env(services: Iterable[Service], namespace: str) -> dict[str, str]:
    """The docker-link-style variables for the Services of ``namespace`` (and ``kubernetes``
    of ``default``), as the kubelet makes them: ``WEB_SERVICE_HOST``, ``WEB_PORT_80_TCP`` ..."""
    env: dict[str, str] = {}
    chosen: dict[str, Service] = {}
    for svc in services:
        ns = svc.metadata.namespace or "default"
        ip = svc.spec.cluster_ip
        if not ip or ip == "None" or not svc.spec.ports:
            continue
        wanted = ns == namespace or (ns == "default" and svc.metadata.name == "kubernetes")
        if wanted and (svc.metadata.name not in chosen or ns == namespace):
            chosen[svc.metadata.name] = svc
    for name in sorted(chosen):
        svc = chosen[name]
        prefix = _link_name(name)
        ip = svc.spec.cluster_ip
        first = svc.spec.ports[0]
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(first.port)
        for p in svc.spec.ports:
            if p.name:
                env[f"{prefix}_SERVICE_PORT_{_link_name(p.name)}"] = str(p.port)
        proto = (first.protocol or "TCP").lower()
        env[f"{prefix}_PORT"] = f"{proto}://{ip}:{first.port}"
        for p in svc.spec.ports:
            pr = (p.protocol or "TCP")
            base = f"{prefix}_PORT_{p.port}_{pr.upper()}"
            env[base] = f"{pr.lower()}://{ip}:{p.port}"
            env[f"{base}_PROTO"] = pr.lower()
            env[f"{base}_PORT"] = str(p.port)
            env[f"{base}_ADDR"] = ip
    return env


async def _config_map_data(source: ConfigSource, namespace: str, name: str) -> dict[str, str] | None:
    try:
        cm = await source.config_map(namespace, name)
    except ConfigUnavailable as exc:
        raise EnvError(str(exc)) from exc
    if cm is None:
        return None
    data = dict(cm.data)
    for k, v in cm.binary_data.items():
        data.setdefault(k, base64.b64decode(v).decode("utf-8", "replace"))
    return data


async def _secret_data(source: ConfigSource, namespace: str, name: str) -> dict[str, str] | None:
    try:
        secret = await source.secret(namespace, name)
    except ConfigUnavailable as exc:
        raise EnvError(str(exc)) from exc
    if secret is None:
        return None
    out = {}
    for k, v in secret.data.items():
        try:
            out[k] = base64.b64decode(v).decode("utf-8", "replace")
        except ValueError:
            raise EnvError(f"secret {namespace}/{name}: key {k} is not valid base64") from None
    for k, v in secret.string_data.items():
        out[k] = v
    return out


async def make_env(
    pod: Pod,
    container: Container,
    *,
    source: ConfigSource,
    host_ip: str,
    pod_ip: str,
    services: Iterable[Service] = (),
    allocatable: Mapping[str, str] | None = None,
) -> dict[str, str]:
    ns = pod.metadata.namespace or "default"
    env: dict[str, str] = {}
    if pod.spec.enable_service_links is not False:
        env.update(service_env(services, ns))
    elif services:
        env.update(service_env([s for s in services if s.metadata.name == "kubernetes"
                                and (s.metadata.namespace or "default") == "default"], "default"))
    for src in container.env_from:
        if src.config_map_ref is not None:
            ref = src.config_map_ref
            data = await _config_map_data(source, ns, ref.name)
            if data is None:
                if ref.optional:
                    continue
                raise EnvError(f'configmap "{ref.name}" not found')
        elif src.secret_ref is not None:
            sref = src.secret_ref
            data = await _secret_data(source, ns, sref.name)
            if data is None:
                if sref.optional:
                    continue
                raise EnvError(f'secret "{sref.name}" not found')
        else:
            continue
        for k, v in data.items():
            name = src.prefix + k
            if _ENV_NAME.match(name):
                env[name] = v
    for var in container.env:
        vf = var.value_from
        if vf is None:
            env[var.name] = expand(var.value, env)
            continue
        if vf.field_ref is not None:
            env[var.name] = field_value(pod, vf.field_ref.field_path, host_ip=host_ip, pod_ip=pod_ip)
        elif vf.resource_field_ref is not None:
            r = vf.resource_field_ref
            env[var.name] = resource_value(
                pod, r.container_name or container.name, r.resource, r.divisor, allocatable or {}
            )
        elif vf.config_map_key_ref is not None:
            cmk = vf.config_map_key_ref
            data = await _config_map_data(source, ns, cmk.name)
            if data is None or cmk.key not in data:
                if cmk.optional:
                    continue
                if data is None:
                    raise EnvError(f'configmap "{cmk.name}" not found')
                raise EnvError(f"couldn't find key {cmk.key} in ConfigMap {ns}/{cmk.name}")
            env[var.name] = data[cmk.key]
        elif vf.secret_key_ref is not None:
            sk = vf.secret_key_ref
            data = await _secret_data(source, ns, sk.name)
            if data is None or sk.key not in data:
                if sk.optional:
                    continue
                if data is None:
                    raise EnvError(f'secret "{sk.name}" not found')
                raise EnvError(f"couldn't find key {sk.key} in Secret {ns}/{sk.name}")
            env[var.name] = data[sk.key]
    return env
