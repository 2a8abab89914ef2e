"""The official Python client (``kubernetes`` package) against a real ``pictl master``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from tests.fixtures.apiserver import MasterProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def core(master_process: MasterProcess) -> Iterator[client.CoreV1Api]:
    api_client = config.new_client_from_config(str(master_process.kubeconfig))
    try:
        yield client.CoreV1Api(api_client)
    finally:
        api_client.close()


def _pod(name: str) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels={"app": "py"}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]),
    )


def test_create_list_patch_delete(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_pod("default", _pod("py-a"))
    assert created.metadata.uid and created.status.phase in (None, "Pending")
    names = [p.metadata.name for p in core.list_namespaced_pod("default", label_selector="app=py").items]
    assert "py-a" in names
    patched = core.patch_namespaced_pod("py-a", "default", {"metadata": {"labels": {"extra": "yes"}}})
    assert patched.metadata.labels["extra"] == "yes"
    core.delete_namespaced_pod("py-a", "default")
    with pytest.raises(ApiException) as info:
        core.read_namespaced_pod("py-a", "default")
    assert info.value.status == 404


def test_watch_streams_events(core: client.CoreV1Api) -> None:
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    events: list[tuple[str, str]] = []
    w = watch.Watch()

    def consume() -> None:
        for ev in w.stream(core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=20):
            events.append((ev["type"], ev["object"].metadata.name))
            if ev["type"] == "DELETED":
                w.stop()

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.5)
    core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-w"),
                                                                     data={"a": "1"}))
    core.patch_namespaced_config_map("py-w", "default", {"data": {"a": "2"}})
    core.delete_namespaced_config_map("py-w", "default")
    t.join(timeout=30)
    assert events == [("ADDED", "py-w"), ("MODIFIED", "py-w"), ("DELETED", "py-w")]


def test_conflict_and_invalid_are_api_exceptions(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-c")))
    cm = core.read_namespaced_config_map("py-c", "default")
    cm.metadata.resource_version = "1"
    with pytest.raises(ApiException) as info:
        core.replace_namespaced_config_map("py-c", "default", cm)
    assert info.value.status == 409
    with pytest.raises(ApiException) as info:
        core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="Bad_Name")))
    assert info.value.status == 422
    core.delete_namespaced_config_map("py-c", "default")
