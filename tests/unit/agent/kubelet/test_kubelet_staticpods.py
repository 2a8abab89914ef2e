"""Static pod manifests and mirror pods."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.kubelet import keys
from agent.kubelet.staticpods import ManifestError, MirrorPods, load_manifest, scan
from master.api import codec
from master.api.core import Pod
from master.client.config import ClientConfig
from master.client.rest import ApiClient
from tests.fixtures.fake_apiserver import FakeApiServer

WEB = b"""apiVersion: v1
kind: Pod
metadata: {name: web, labels: {tier: front}}
spec:
  containers: [{name: app, image: 'localhost/web:1'}]
"""


def test_manifest_becomes_a_node_bound_defaulted_pod(tmp_path: Path) -> None:
    pod = load_manifest(tmp_path / "web.yaml", WEB, node_name="pi-1", now=1_700_000_000)
    m = pod.metadata
    assert (m.name, m.namespace) == ("web-pi-1", "default")
    assert m.annotations[keys.CONFIG_SOURCE] == "file" and m.annotations[keys.CONFIG_HASH] == m.uid
    assert pod.spec.node_name == "pi-1" and pod.spec.restart_policy == "Always"
    assert pod.spec.containers[0].image_pull_policy == "IfNotPresent"
    assert any(t.operator == "Exists" and t.effect == "NoExecute" for t in pod.spec.tolerations)
    assert keys.is_static_pod(pod) and not keys.is_mirror_pod(pod)


def test_uid_is_stable_and_changes_with_the_file(tmp_path: Path) -> None:
    a = load_manifest(tmp_path / "web.yaml", WEB, node_name="pi-1", now=1)
    b = load_manifest(tmp_path / "web.yaml", WEB, node_name="pi-1", now=2)
    c = load_manifest(tmp_path / "web.yaml", WEB.replace(b"web:1", b"web:2"), node_name="pi-1", now=1)
    d = load_manifest(tmp_path / "web.yaml", WEB, node_name="pi-2", now=1)
    assert a.metadata.uid == b.metadata.uid
    assert len({a.metadata.uid, c.metadata.uid, d.metadata.uid}) == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"{unclosed", "invalid YAML", id="yaml"),
        pytest.param(b"- a\n- b\n", "want a Pod object", id="list"),
        pytest.param(b"kind: Service\napiVersion: v1\nmetadata: {name: x}\n", "want kind Pod", id="kind"),
        pytest.param(b"kind: Pod\nspec: {containers: [{name: a, image: b}]}\n", "metadata.name is required", id="name"),
        pytest.param(b"kind: Pod\nmetadata: {name: x}\nspec: {containers: 3}\n", "spec.containers", id="types"),
        pytest.param(b"kind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: a}]}\n", "invalid pod", id="invalid"),
    ],
)
def test_bad_manifests_are_refused_with_a_reason(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        load_manifest(tmp_path / "bad.yaml", data, node_name="pi-1", now=1)


def test_scan_skips_bad_hidden_and_duplicate_files(tmp_path: Path) -> None:
    (tmp_path / "a-web.yaml").write_bytes(WEB)
    (tmp_path / "b-web-again.yml").write_bytes(WEB)
    (tmp_path / ".hidden.yaml").write_bytes(WEB.replace(b"name: web", b"name: hidden"))
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.json").write_text("{")
    errors: set[str] = set()
    pods = scan(tmp_path, node_name="pi-1", now=1, seen_errors=errors)
    assert [p.metadata.name for p in pods.values()] == ["web-pi-1"]
    assert any("broken.json" in e for e in errors)
    assert scan(tmp_path / "absent", node_name="pi-1", now=1) == {}


@pytest.fixture
async def api(fake_apiserver: FakeApiServer) -> AsyncIterator[ApiClient]:
    client = ApiClient(ClientConfig(server=fake_apiserver.url, retries=0))
    yield client
    await client.close()


def api_pods(fake: FakeApiServer) -> list[Pod]:
    return [codec.convert(o, Pod) for o in fake.objects.get(("", "pods"), {}).values()]


async def test_mirror_pods_follow_the_static_pods(fake_apiserver: FakeApiServer, api: ApiClient,
                                                  tmp_path: Path) -> None:
    mirrors = MirrorPods(api, node_uid=lambda: "node-uid")
    static = load_manifest(tmp_path / "web.yaml", WEB, node_name="pi-1", now=1)
    await mirrors.sync([static], [])
    doc = fake_apiserver.get("", "pods", "web-pi-1", "default")
    assert doc is not None
    assert doc["metadata"]["annotations"][keys.CONFIG_MIRROR] == static.metadata.uid
    assert doc["metadata"]["ownerReferences"][0] == {"apiVersion": "v1", "kind": "Node", "name": "pi-1",
                                                     "uid": "node-uid", "controller": True}
    assert doc["metadata"]["labels"] == {"tier": "front"}
    # In step: nothing to do.
    before = fake_apiserver.rv
    await mirrors.sync([static], api_pods(fake_apiserver))
    assert fake_apiserver.rv == before
    # The manifest changed: the mirror with the old hash is replaced.
    newer = load_manifest(tmp_path / "web.yaml", WEB.replace(b"web:1", b"web:2"), node_name="pi-1", now=2)
    await mirrors.sync([newer], api_pods(fake_apiserver))
    doc = fake_apiserver.get("", "pods", "web-pi-1", "default")
    assert doc["metadata"]["annotations"][keys.CONFIG_MIRROR] == newer.metadata.uid
    # The manifest is gone: so is the mirror.
    await mirrors.sync([], api_pods(fake_apiserver))
    assert fake_apiserver.get("", "pods", "web-pi-1", "default") is None


async def test_a_regular_pod_in_the_way_is_not_a_mirror(fake_apiserver: FakeApiServer, api: ApiClient,
                                                       tmp_path: Path) -> None:
    fake_apiserver.put("", "pods", {"apiVersion": "v1", "kind": "Pod",
                                    "metadata": {"name": "other", "namespace": "default"},
                                    "spec": {"nodeName": "pi-1", "containers": [{"name": "a", "image": "b"}]}})
    await MirrorPods(api, node_uid=lambda: "").sync([], api_pods(fake_apiserver))
    assert fake_apiserver.get("", "pods", "other", "default") is not None
