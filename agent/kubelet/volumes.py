"""Pod volumes on the node, and the bind mounts that put them into containers.

Every volume a pod declares is made ready before its sandbox starts, under the pod's directory::

    <data dir>/pods/<uid>/volumes/kubernetes.io~empty-dir/<name>/      an empty directory
    <data dir>/pods/<uid>/volumes/kubernetes.io~configmap/<name>/      keys as files (atomicdir)
    <data dir>/pods/<uid>/volumes/kubernetes.io~secret/<name>/         decoded keys
    <data dir>/pods/<uid>/volumes/kubernetes.io~downward-api/<name>/   fieldRef / resourceFieldRef
    <data dir>/pods/<uid>/volumes/kubernetes.io~projected/<name>/      configMap, secret, downwardAPI
    <data dir>/pods/<uid>/containers/<container>/<restart count>       termination message file

The pod's directory is 0750 (root only on the node); inside, directories are 0755 and files
have the volume's modes, so containers running as other users can read them. ``hostPath`` is
used as it is, after its ``type`` check (DirectoryOrCreate makes the directory,
File requires a file ...). configMap, secret, downwardAPI and projected volumes are re-written on
every ``setup`` (atomically, only when their content changed), so running containers see
updates; they are mounted read-only. emptyDir with ``medium: Memory`` is an ordinary directory
here (no tmpfs), and ``sizeLimit`` is not enforced. PersistentVolumeClaims are not supported.

Failures raise ``VolumeError`` (the kubelet's FailedMount): the pod waits in ContainerCreating
and its worker tries again.
"""

from __future__ import annotations

import base64
import os
import shutil
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

from agent.kubelet import atomicdir
from agent.kubelet.configsource import ConfigSource, ConfigUnavailable
from agent.kubelet.cri.types import Mount
from agent.kubelet.envvars import EnvError, field_value, resource_value
from master.api.core import (
    Container,
    DownwardAPIVolumeFile,
    HostPathVolumeSource,
    KeyToPath,
    Pod,
    ServiceAccountTokenProjection,
    Volume,
)

__all__ = ["TokenSource", "VolumeError", "VolumeManager"]

_DEFAULT_MODE = 0o644


class VolumeError(Exception):
    """FailedMount: a volume cannot be made ready."""


class TokenSource(Protocol):
    """Where serviceAccountToken projections come from (``satokens.ServiceAccountTokens``)."""

    async def token(self, pod: Pod, projection: ServiceAccountTokenProjection) -> bytes: ...


def _items(data: Mapping[str, bytes], items: list[KeyToPath], default_mode: int, what: str,
           optional: bool) -> dict[str, tuple[bytes, int]]:
    if not items:
        return {k: (v, default_mode) for k, v in data.items()}
    out = {}
    for item in items:
        if item.key not in data:
            if optional:
                continue
            raise VolumeError(f"configuration error: {what} has no key {item.key!r}")
        out[item.path] = (data[item.key], item.mode if item.mode is not None else default_mode)
    return out


class VolumeManager:
    def __init__(
        self,
        pods_dir: Path,
        source: ConfigSource,
        *,
        allocatable: Mapping[str, str] | None = None,
        tokens: TokenSource | None = None,
    ) -> None:
        self.pods_dir = pods_dir
        self._source = source
        self._allocatable = allocatable or {}
        # serviceAccountToken projections (agent/kubelet/satokens.py); None: not supported
        self._tokens = tokens

    def pod_dir(self, uid: str) -> Path:
        return self.pods_dir / uid

    def _volume_dir(self, uid: str, plugin: str, name: str) -> Path:
        return self.pod_dir(uid) / "volumes" / f"kubernetes.io~{plugin}" / name

    # -- setup ----------------------------------------------------------------------------

    async def setup(self, pod: Pod, *, host_ip: str, pod_ip: str = "") -> None:
        """Make every volume of ``pod`` ready (idempotent; refreshes configMaps and secrets)."""
        uid = pod.metadata.uid
        self.pod_dir(uid).mkdir(parents=True, exist_ok=True, mode=0o750)
        for v in pod.spec.volumes:
            await self._setup_volume(pod, v, host_ip=host_ip, pod_ip=pod_ip)

    async def _setup_volume(self, pod: Pod, v: Volume, *, host_ip: str, pod_ip: str) -> None:
        uid = pod.metadata.uid
        ns = pod.metadata.namespace or "default"
        try:
            if v.host_path is not None:
                _check_host_path(v.name, v.host_path)
            elif v.config_map is not None:
                cm = v.config_map
                files = await self._config_map_files(ns, cm.name, cm.items, cm.default_mode, bool(cm.optional))
                atomicdir.write(self._volume_dir(uid, "configmap", v.name), files)
            elif v.secret is not None:
                s = v.secret
                files = await self._secret_files(ns, s.secret_name, s.items, s.default_mode, bool(s.optional))
                atomicdir.write(self._volume_dir(uid, "secret", v.name), files)
            elif v.downward_api is not None:
                files = self._downward_files(pod, v.downward_api.items, v.downward_api.default_mode,
                                             host_ip=host_ip, pod_ip=pod_ip)
                atomicdir.write(self._volume_dir(uid, "downward-api", v.name), files)
            elif v.projected is not None:
                files = await self._projected_files(pod, v, host_ip=host_ip, pod_ip=pod_ip)
                atomicdir.write(self._volume_dir(uid, "projected", v.name), files)
            elif v.persistent_volume_claim is not None:
                raise VolumeError(f"volume {v.name!r}: persistentVolumeClaim volumes are not supported")
            else:
                self._volume_dir(uid, "empty-dir", v.name).mkdir(parents=True, exist_ok=True, mode=0o777)
                os.chmod(self._volume_dir(uid, "empty-dir", v.name), 0o777)
        except ConfigUnavailable as exc:
            raise VolumeError(f"MountVolume.SetUp failed for volume {v.name!r}: {exc}") from exc
        except (EnvError, ValueError) as exc:
            raise VolumeError(f"MountVolume.SetUp failed for volume {v.name!r}: {exc}") from exc
        except OSError as exc:
            raise VolumeError(f"MountVolume.SetUp failed for volume {v.name!r}: {exc.strerror or exc}") from exc

    async def _config_map_files(self, ns: str, name: str, items: list[KeyToPath], mode: int | None,
                                optional: bool) -> dict[str, tuple[bytes, int]]:
        cm = await self._source.config_map(ns, name)
        if cm is None:
            if optional:
                return {}
            raise VolumeError(f'configmap "{name}" not found')
        data = {k: v.encode() for k, v in cm.data.items()}
        for k, b64 in cm.binary_data.items():
            data[k] = base64.b64decode(b64)
        return _items(data, items, mode if mode is not None else _DEFAULT_MODE, f"configmap {ns}/{name}", optional)

    async def _secret_files(self, ns: str, name: str, items: list[KeyToPath], mode: int | None,
                            optional: bool) -> dict[str, tuple[bytes, int]]:
        secret = await self._source.secret(ns, name)
        if secret is None:
            if optional:
                return {}
            raise VolumeError(f'secret "{name}" not found')
        data = {}
        for k, b64 in secret.data.items():
            try:
                data[k] = base64.b64decode(b64)
            except ValueError:
                raise VolumeError(f"secret {ns}/{name}: key {k} is not valid base64") from None
        for k, text in secret.string_data.items():
            data[k] = text.encode()
        return _items(data, items, mode if mode is not None else _DEFAULT_MODE, f"secret {ns}/{name}", optional)

    def _downward_files(self, pod: Pod, items: list[DownwardAPIVolumeFile], mode: int | None, *,
                        host_ip: str, pod_ip: str) -> dict[str, tuple[bytes, int]]:
        out = {}
        for item in items:
            if item.field_ref is not None:
                value = field_value(pod, item.field_ref.field_path, host_ip=host_ip, pod_ip=pod_ip)
            elif item.resource_field_ref is not None:
                r = item.resource_field_ref
                value = resource_value(pod, r.container_name, r.resource, r.divisor, self._allocatable)
            else:
                continue
            file_mode = item.mode if item.mode is not None else (mode if mode is not None else _DEFAULT_MODE)
            out[item.path] = (value.encode(), file_mode)
        return out

    async def _projected_files(self, pod: Pod, v: Volume, *, host_ip: str, pod_ip: str) -> dict[str, tuple[bytes, int]]:
        assert v.projected is not None
        ns = pod.metadata.namespace or "default"
        mode = v.projected.default_mode
        files: dict[str, tuple[bytes, int]] = {}
        for src in v.projected.sources:
            if src.config_map is not None:
                c = src.config_map
                files.update(await self._config_map_files(ns, c.name, c.items, mode, bool(c.optional)))
            elif src.secret is not None:
                s = src.secret
                files.update(await self._secret_files(ns, s.name, s.items, mode, bool(s.optional)))
            elif src.downward_api is not None:
                files.update(self._downward_files(pod, src.downward_api.items, mode, host_ip=host_ip, pod_ip=pod_ip))
            elif src.service_account_token is not None:
                t = src.service_account_token
                if self._tokens is None:
                    raise VolumeError("serviceAccountToken projections are not supported by this agent")
                try:
                    token = await self._tokens.token(pod, t)
                except Exception as exc:  # TokenUnavailable, or the apiserver unreachable
                    raise VolumeError(f"MountVolume.SetUp failed for volume {v.name!r}: {exc}") from exc
                files[t.path] = (token, mode if mode is not None else _DEFAULT_MODE)
        return files

    # -- mounts ---------------------------------------------------------------------------

    def mounts(self, pod: Pod, container: Container, *, restart_count: int = 0) -> list[Mount]:
        """The bind mounts for ``container``: its volumeMounts and its termination message file."""
        uid = pod.metadata.uid
        volumes = {v.name: v for v in pod.spec.volumes}
        out = []
        for vm in container.volume_mounts:
            v = volumes.get(vm.name)
            if v is None:
                raise VolumeError(f"volumeMount {vm.name!r}: no volume of that name in the pod")
            readonly = vm.read_only
            if v.host_path is not None:
                host = Path(v.host_path.path)
            elif v.config_map is not None:
                host, readonly = self._volume_dir(uid, "configmap", v.name), True
            elif v.secret is not None:
                host, readonly = self._volume_dir(uid, "secret", v.name), True
            elif v.downward_api is not None:
                host, readonly = self._volume_dir(uid, "downward-api", v.name), True
            elif v.projected is not None:
                host, readonly = self._volume_dir(uid, "projected", v.name), True
            else:
                host = self._volume_dir(uid, "empty-dir", v.name)
            if vm.sub_path:
                sub = Path(vm.sub_path)
                if sub.is_absolute() or ".." in sub.parts:
                    raise VolumeError(f"volumeMount {vm.name!r}: subPath {vm.sub_path!r} must be a relative path "
                                      "without '..'")
                host = host / sub
                if v.empty_dir is not None or (v.host_path is not None and not host.exists()):
                    host.mkdir(parents=True, exist_ok=True)
            out.append(Mount(container_path=vm.mount_path, host_path=str(host), readonly=readonly))
        path = container.termination_message_path
        if path and not any(m.container_path == path for m in out):
            msg = self.termination_message_file(uid, container.name, restart_count)
            msg.parent.mkdir(parents=True, exist_ok=True)
            msg.touch(mode=0o666, exist_ok=True)
            out.append(Mount(container_path=path, host_path=str(msg)))
        return out

    def termination_message_file(self, uid: str, container: str, restart_count: int) -> Path:
        return self.pod_dir(uid) / "containers" / container / str(restart_count)

    def termination_message(self, uid: str, container: str, restart_count: int, *, limit: int = 4096) -> str:
        try:
            with open(self.termination_message_file(uid, container, restart_count), "rb") as f:
                return f.read(limit).decode("utf-8", "replace")
        except OSError:
            return ""

    # -- cleanup --------------------------------------------------------------------------

    def cleanup(self, uid: str) -> None:
        """Remove the pod's directory (its volumes and message files). hostPath data is untouched:
        only our own directories are removed, never what a symlink or mount points at."""
        d = self.pod_dir(uid)
        if d.is_dir():
            shutil.rmtree(d, ignore_errors=True)

    def pod_uids_on_disk(self) -> list[str]:
        try:
            return sorted(e for e in os.listdir(self.pods_dir) if (self.pods_dir / e).is_dir())
        except OSError:
            return []

    def forget_except(self, keep: Iterable[str]) -> list[str]:
        """Remove the directories of pods not in ``keep``; the uids removed."""
        wanted = set(keep)
        gone = [uid for uid in self.pod_uids_on_disk() if uid not in wanted]
        for uid in gone:
            self.cleanup(uid)
        return gone


def _check_host_path(name: str, hp: HostPathVolumeSource) -> None:
    p = Path(hp.path)
    kind = hp.type or ""
    if not p.is_absolute():
        raise VolumeError(f"hostPath {hp.path!r} of volume {name!r} must be absolute")
    try:
        st = os.stat(p)
    except FileNotFoundError:
        st = None
    if kind == "DirectoryOrCreate":
        if st is None:
            p.mkdir(mode=0o755, parents=True, exist_ok=True)
        elif not stat.S_ISDIR(st.st_mode):
            raise VolumeError(f"hostPath type check failed: {hp.path} is not a directory")
    elif kind == "FileOrCreate":
        if st is None:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.touch(mode=0o644)
        elif not stat.S_ISREG(st.st_mode):
            raise VolumeError(f"hostPath type check failed: {hp.path} is not a file")
    elif kind:
        checks = {
            "Directory": stat.S_ISDIR,
            "File": stat.S_ISREG,
            "Socket": stat.S_ISSOCK,
            "CharDevice": stat.S_ISCHR,
            "BlockDevice": stat.S_ISBLK,
        }
        check = checks.get(kind)
        if check is None:
            raise VolumeError(f"hostPath type {kind!r} of volume {name!r} is not supported")
        if st is None:
            raise VolumeError(f"hostPath type check failed: {hp.path} does not exist")
        if not check(st.st_mode):
            raise VolumeError(f"hostPath type check failed: {hp.path} is not a {kind}")
