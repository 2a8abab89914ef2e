"""Environment expansion, Service link variables, resource fields; volumes and atomic writes."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import msgspec
import pytest

from agent.kubelet import atomicdir
from agent.kubelet.configsource import StaticConfigSource
from agent.kubelet.envvars import EnvError, expand, make_env, resource_value, service_env
from agent.kubelet.volumes import VolumeError, VolumeManager
from master.api import meta
from master.api.core import ConfigMap, Secret, Service
from tests.unit.agent.kubelet.kubelet_helpers import container, make_pod


@pytest.mark.parametrize(
    ("text", "want"),
    [
        pytest.param("$(A)-$(B)", "x-$(B)", id="undefined-stays"),
        pytest.param("$$(A)", "$(A)", id="escaped"),
        pytest.param("$A $(A)", "$A x", id="shell-style-untouched"),
        pytest.param("$$", "$", id="dollar"),
    ],
)
def test_expand(text: str, want: str) -> None:
    assert expand(text, {"A": "x"}) == want


def test_service_links() -> None:
    svc = msgspec.convert({"metadata": {"name": "my-web", "namespace": "default"},
                           "spec": {"clusterIP": "10.96.0.20", "ports": [
                               {"name": "http", "port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}},
                          Service)
    headless = msgspec.convert({"metadata": {"name": "db", "namespace": "default"},
                                "spec": {"clusterIP": "None", "ports": [{"port": 5432}]}}, Service)
    env = service_env([svc, headless], "default")
    assert env["MY_WEB_SERVICE_HOST"] == "10.96.0.20" and env["MY_WEB_SERVICE_PORT"] == "80"
    assert env["MY_WEB_SERVICE_PORT_HTTP"] == "80"
    assert env["MY_WEB_PORT"] == "tcp://10.96.0.20:80"
    assert env["MY_WEB_PORT_53_UDP_PROTO"] == "udp" and env["MY_WEB_PORT_53_UDP_ADDR"] == "10.96.0.20"
    assert not any(k.startswith("DB_") for k in env)
    assert service_env([svc], "other") == {}


@pytest.mark.parametrize(
    ("resource", "divisor", "want"),
    [
        pytest.param("limits.cpu", "", "2", id="cpu-rounded-up"),
        pytest.param("limits.cpu", "1m", "1500", id="millicores"),
        pytest.param("requests.memory", "1Mi", "64", id="mebibytes"),
        pytest.param("limits.memory", "", str(3 << 30), id="node-allocatable-when-unset"),
    ],
)
def test_resource_field_values(resource: str, divisor: str, want: str) -> None:
    c = container(resources={"limits": {"cpu": "1500m"}, "requests": {"memory": "64Mi"}})
    pod = make_pod(containers=[c])
    assert resource_value(pod, "app", resource, divisor, {"memory": "3Gi"}) == want


def test_resource_field_errors() -> None:
    pod = make_pod()
    with pytest.raises(EnvError, match="unsupported resource"):
        resource_value(pod, "app", "limits.gpu", "", {})
    with pytest.raises(EnvError, match="not found"):
        resource_value(pod, "nope", "limits.cpu", "", {})


async def test_env_precedence_env_from_then_env() -> None:
    src = StaticConfigSource()
    src.add(ConfigMap(metadata=meta.ObjectMeta(name="cfg", namespace="default"),
                      data={"A": "from-cm", "bad key": "skipped"}))
    c = container(envFrom=[{"configMapRef": {"name": "cfg"}}], env=[{"name": "A", "value": "explicit"}])
    env = await make_env(make_pod(containers=[c]), c, source=src, host_ip="10.77.0.11", pod_ip="10.244.0.2")
    assert env["A"] == "explicit" and "bad key" not in env


async def test_env_missing_key_and_unavailable_source() -> None:
    src = StaticConfigSource()
    src.add(ConfigMap(metadata=meta.ObjectMeta(name="cfg", namespace="default"), data={}))
    c = container(env=[{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}}])
    with pytest.raises(EnvError, match="couldn't find key k in ConfigMap default/cfg"):
        await make_env(make_pod(containers=[c]), c, source=src, host_ip="", pod_ip="")
    src.unavailable = True
    with pytest.raises(EnvError, match="cannot read configmap"):
        await make_env(make_pod(containers=[c]), c, source=src, host_ip="", pod_ip="")


def test_atomic_writes_swap_versions(tmp_path: Path) -> None:
    d = tmp_path / "vol"
    assert atomicdir.write(d, {"a": (b"1", 0o644), "conf/b": (b"2", 0o600)})
    assert (d / "a").read_bytes() == b"1" and (d / "conf" / "b").read_bytes() == b"2"
    assert os.path.islink(d / "a") and os.path.islink(d / atomicdir.DATA)
    first = os.readlink(d / atomicdir.DATA)
    assert not atomicdir.write(d, {"a": (b"1", 0o644), "conf/b": (b"2", 0o600)})  # unchanged
    assert atomicdir.write(d, {"a": (b"3", 0o644)})
    assert (d / "a").read_bytes() == b"3" and not (d / "conf").exists()
    assert os.readlink(d / atomicdir.DATA) != first and not (d / first).exists()
    assert (d / "a").stat().st_mode & 0o777 == 0o644
    with pytest.raises(ValueError, match="invalid file path"):
        atomicdir.write(d, {"../escape": (b"x", 0o644)})


async def test_configmap_volume_items_and_updates(tmp_path: Path) -> None:
    src = StaticConfigSource()
    src.add(ConfigMap(metadata=meta.ObjectMeta(name="cfg", namespace="default"), data={"k1": "v1", "k2": "v2"}))
    vm = VolumeManager(tmp_path, src)
    pod = make_pod(volumes=[{"name": "cfg", "configMap": {"name": "cfg", "items": [{"key": "k2", "path": "sub/two",
                                                                                     "mode": 0o600}]}}])
    await vm.setup(pod, host_ip="10.77.0.11")
    root = tmp_path / pod.metadata.uid / "volumes" / "kubernetes.io~configmap" / "cfg"
    assert (root / "sub" / "two").read_text() == "v2" and not (root / "k1").exists()
    assert (root / "sub" / "two").stat().st_mode & 0o777 == 0o600
    src.add(ConfigMap(metadata=meta.ObjectMeta(name="cfg", namespace="default"), data={"k2": "new"}))
    await vm.setup(pod, host_ip="10.77.0.11")
    assert (root / "sub" / "two").read_text() == "new"
    vm.cleanup(pod.metadata.uid)
    assert not (tmp_path / pod.metadata.uid).exists()


async def test_secret_and_downward_api_volumes(tmp_path: Path) -> None:
    src = StaticConfigSource()
    src.add(Secret(metadata=meta.ObjectMeta(name="s", namespace="default"),
                   data={"token": base64.b64encode(b"t0k").decode()}))
    vm = VolumeManager(tmp_path, src)
    pod = make_pod(volumes=[
        {"name": "s", "secret": {"secretName": "s"}},
        {"name": "info", "downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}},
        {"name": "all", "projected": {"sources": [{"secret": {"name": "s"}},
                                                  {"downwardAPI": {"items": [{"path": "ns", "fieldRef": {
                                                      "fieldPath": "metadata.namespace"}}]}}]}},
    ])
    await vm.setup(pod, host_ip="10.77.0.11", pod_ip="10.244.0.9")
    vols = tmp_path / pod.metadata.uid / "volumes"
    assert (vols / "kubernetes.io~secret" / "s" / "token").read_bytes() == b"t0k"
    assert (vols / "kubernetes.io~secret" / "s" / "token").stat().st_mode & 0o777 == 0o644
    assert (vols / "kubernetes.io~downward-api" / "info" / "name").read_text() == "web"
    assert (vols / "kubernetes.io~projected" / "all" / "ns").read_text() == "default"
    assert (vols / "kubernetes.io~projected" / "all" / "token").read_bytes() == b"t0k"


@pytest.mark.parametrize(
    ("volume", "message"),
    [
        pytest.param({"name": "v", "configMap": {"name": "absent"}}, 'configmap "absent" not found', id="configmap"),
        pytest.param({"name": "v", "secret": {"secretName": "absent"}}, 'secret "absent" not found', id="secret"),
        pytest.param({"name": "v", "hostPath": {"path": "/definitely/not/here", "type": "Directory"}},
                     "does not exist", id="hostpath-directory"),
        pytest.param({"name": "v", "hostPath": {"path": "/etc/hostname", "type": "Directory"}},
                     "is not a Directory", id="hostpath-not-a-directory"),
        pytest.param({"name": "v", "persistentVolumeClaim": {"claimName": "c"}}, "not supported", id="pvc"),
    ],
)
async def test_volume_errors(tmp_path: Path, volume: dict, message: str) -> None:
    with pytest.raises(VolumeError, match=message):
        await VolumeManager(tmp_path, StaticConfigSource()).setup(make_pod(volumes=[volume]), host_ip="")


async def test_optional_sources_give_empty_volumes(tmp_path: Path) -> None:
    vm = VolumeManager(tmp_path, StaticConfigSource())
    pod = make_pod(volumes=[{"name": "v", "configMap": {"name": "absent", "optional": True}}])
    await vm.setup(pod, host_ip="")
    assert (tmp_path / pod.metadata.uid / "volumes" / "kubernetes.io~configmap" / "v" / atomicdir.DATA).exists()


def test_mounts_sub_path_and_unknown_volume(tmp_path: Path) -> None:
    vm = VolumeManager(tmp_path, StaticConfigSource())
    c = container(volumeMounts=[{"name": "scratch", "mountPath": "/x", "subPath": "deep/dir"}])
    pod = make_pod(containers=[c], volumes=[{"name": "scratch", "emptyDir": {}}])
    mounts = vm.mounts(pod, c)
    assert mounts[0].host_path.endswith("kubernetes.io~empty-dir/scratch/deep/dir") and Path(mounts[0].host_path).is_dir()
    bad = container(volumeMounts=[{"name": "nope", "mountPath": "/x"}])
    with pytest.raises(VolumeError, match="no volume of that name"):
        vm.mounts(make_pod(containers=[bad]), bad)
    escape = container(volumeMounts=[{"name": "scratch", "mountPath": "/x", "subPath": "../../etc"}])
    with pytest.raises(VolumeError, match=r"without '\.\.'"):
        vm.mounts(make_pod(containers=[escape], volumes=[{"name": "scratch", "emptyDir": {}}]), escape)
