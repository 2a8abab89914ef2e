"""Static pods: pods from manifest files on the node, and their mirror pods in the API.

The course's ``/etc/kubernetes/manifests``: every ``*.yaml``, ``*.yml`` or ``*.json`` file in
``--pod-manifest-path`` (hidden files skipped) holds one Pod. The directory is read again every
few seconds (no inotify); a file that changes becomes a new pod (its uid is a hash of the file,
so an edit restarts the pod), a file that disappears stops its pod.

Each static pod is defaulted and validated as the apiserver would (an invalid file is logged
and skipped), named ``<name>-<node>``, bound to this node, tolerates every NoExecute taint, and
is annotated ``kubernetes.io/config.source: file`` and ``kubernetes.io/config.hash: <uid>``.

Mirror pods make static pods visible in the API: a pod of the same name and spec with the
annotation ``kubernetes.io/config.mirror: <uid>``, owned by the Node. The agent never runs a
mirror pod; it keeps one per static pod (deleting one with the wrong hash, recreating one that
was deleted) and deletes mirrors whose static pod is gone. The static pod's status is written
to its mirror.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

import msgspec
import yaml

from agent.kubelet import keys
from master.api import codec, meta, timefmt
from master.api.core import Pod, PodStatus, Toleration
from master.api.strategy.pod import PodStrategy, qos_class
from master.api.strategy.podspec import validate_pod_spec
from master.client import errors
from master.client.rest import ApiClient

__all__ = ["ManifestError", "MirrorPods", "load_manifest", "scan"]

log = logging.getLogger("picluster.agent.kubelet")

_SUFFIXES = (".yaml", ".yml", ".json")
_MAX_BYTES = 1 << 20

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML without libyaml
    _Loader = yaml.SafeLoader


class ManifestError(ValueError):
    """A manifest that is not a valid Pod."""


def load_manifest(path: Path, data: bytes, *, node_name: str, now: float) -> Pod:
    try:
        doc = yaml.load(data, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, dict):
        raise ManifestError(f"{path}: want a Pod object, got {type(doc).__name__}")
    kind, version = doc.get("kind", "Pod"), doc.get("apiVersion", "v1")
    if kind != "Pod" or version != "v1":
        raise ManifestError(f"{path}: want kind Pod (apiVersion v1), got {kind} ({version})")
    try:
        pod = codec.convert(doc, Pod)
    except codec.DecodeError as exc:
        raise ManifestError(f"{path}: {exc}") from None
    if not pod.metadata.name:
        raise ManifestError(f"{path}: metadata.name is required")
    pod = PodStrategy().default(pod)
    problems = validate_pod_spec(pod.spec)
    if problems:
        raise ManifestError(f"{path}: invalid pod: {'; '.join(str(p) for p in problems[:5])}")
    digest = hashlib.md5(node_name.encode() + b"\0" + str(path).encode() + b"\0" + data).digest()
    uid = str(uuid.UUID(bytes=digest))
    m = pod.metadata
    annotations = {**m.annotations, keys.CONFIG_SOURCE: "file", keys.CONFIG_HASH: uid,
                   "kubernetes.io/config.seen": timefmt.format_micro_time(now)}
    tolerations = list(pod.spec.tolerations)
    if not any(t.operator == "Exists" and not t.key and t.effect in ("", "NoExecute") for t in tolerations):
        tolerations.append(Toleration(operator="Exists", effect="NoExecute"))
    return msgspec.structs.replace(
        pod,
        metadata=msgspec.structs.replace(
            m, name=f"{m.name}-{node_name}", namespace=m.namespace or "default", uid=uid, annotations=annotations,
            resource_version="", creation_timestamp=timefmt.format_time(now),
        ),
        spec=msgspec.structs.replace(pod.spec, node_name=node_name, tolerations=tolerations),
        status=PodStatus(phase="Pending", qos_class=qos_class(pod.spec)),
    )


def scan(directory: Path, *, node_name: str, now: float, seen_errors: set[str] | None = None) -> dict[str, Pod]:
    """The static pods of ``directory`` by uid (errors logged once per distinct message)."""
    out: dict[str, Pod] = {}
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return out
    except OSError as exc:
        log.warning("cannot read the pod manifest path %s: %s", directory, exc.strerror)
        return out
    names_seen: dict[tuple[str, str], Path] = {}
    for name in names:
        path = directory / name
        if name.startswith(".") or not name.endswith(_SUFFIXES) or not path.is_file():
            continue
        try:
            data = path.read_bytes()[:_MAX_BYTES + 1]
            if len(data) > _MAX_BYTES:
                raise ManifestError(f"{path}: larger than {_MAX_BYTES} bytes")
            pod = load_manifest(path, data, node_name=node_name, now=now)
        except (ManifestError, OSError) as exc:
            text = str(exc)
            if seen_errors is None or text not in seen_errors:
                log.warning("static pod manifest skipped: %s", text)
                if seen_errors is not None:
                    seen_errors.add(text)
            continue
        key = (pod.metadata.namespace, pod.metadata.name)
        if key in names_seen:
            log.warning("static pod manifest %s skipped: pod %s/%s is already defined by %s", path, *key, names_seen[key])
            continue
        names_seen[key] = path
        out[pod.metadata.uid] = pod
    return out


def mirror_of(pod: Pod, node_uid: str) -> Pod:
    m = pod.metadata
    owners = [meta.OwnerReference(api_version="v1", kind="Node", name=pod.spec.node_name, uid=node_uid,
                                  controller=True)] if node_uid else []
    return Pod(
        metadata=meta.ObjectMeta(
            name=m.name, namespace=m.namespace, labels=dict(m.labels),
            annotations={**m.annotations, keys.CONFIG_MIRROR: m.uid}, owner_references=owners,
        ),
        spec=pod.spec,
    )


class MirrorPods:
    def __init__(self, api: ApiClient, *, node_uid: Callable[[], str]) -> None:
        self._api = api
        self._node_uid = node_uid

    async def sync(self, static: Iterable[Pod], api_pods: Iterable[Pod]) -> None:
        """Make the API's mirror pods match ``static`` (``api_pods``: the pods on this node)."""
        by_name = {(p.metadata.namespace, p.metadata.name): p for p in api_pods}
        wanted = set()
        for pod in static:
            key = (pod.metadata.namespace, pod.metadata.name)
            wanted.add(key)
            have = by_name.get(key)
            if have is not None:
                if have.metadata.annotations.get(keys.CONFIG_MIRROR) == pod.metadata.uid and not have.metadata.deletion_timestamp:
                    continue
                await self._delete(have)
            try:
                await self._api.create(mirror_of(pod, self._node_uid()))
                log.info("created mirror pod %s/%s", *key)
            except errors.AlreadyExists:
                pass
            except errors.ClientError as exc:
                log.warning("creating mirror pod %s/%s failed: %s", *key, exc)
        for key, have in by_name.items():
            if key not in wanted and keys.is_mirror_pod(have):
                await self._delete(have)

    async def _delete(self, pod: Pod) -> None:
        try:
            await self._api.delete(Pod, pod.metadata.name, namespace=pod.metadata.namespace, grace_period_seconds=0,
                                   preconditions=meta.Preconditions(uid=pod.metadata.uid))
            log.info("deleted mirror pod %s/%s", pod.metadata.namespace, pod.metadata.name)
        except (errors.NotFound, errors.Conflict):
            pass
        except errors.ClientError as exc:
            log.warning("deleting mirror pod %s/%s failed: %s", pod.metadata.namespace, pod.metadata.name, exc)
