"""ServiceAccount tokens in pods: the admission plugin mounts them, an agent gets pod-bound tokens
for its own pods only (agent/kubelet/satokens.py against the real apiserver)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.kubelet.satokens import ServiceAccountTokens, TokenUnavailable
from master.api import codec
from master.api.core import Pod, ServiceAccountTokenProjection
from master.client import kubeconfig
from master.client.config import ClientConfig
from master.client.rest import ApiClient
from master.util import pki
from master.util.clock import FakeClock
from tests.fixtures.apiserver import Api
from tests.unit.master.apiserver.auth.auth_helpers import pod

PODS = "/api/v1/namespaces/default/pods"


async def _create(api: Api, obj: dict[str, Any]) -> dict[str, Any]:
    code, out = await api.post(PODS, json=obj)
    assert code == 201, out
    return dict(out)


async def test_token_volume_is_mounted_unless_declined(apiserver: Api) -> None:
    out = await _create(apiserver, pod("auto", "pi-1"))
    vols = [v for v in out["spec"]["volumes"] if v["name"].startswith("kube-api-access-")]
    assert len(vols) == 1
    kinds = [next(iter(s)) for s in vols[0]["projected"]["sources"]]
    assert kinds == ["serviceAccountToken", "configMap", "downwardAPI"]
    mount = out["spec"]["containers"][0]["volumeMounts"][0]
    assert mount == {"name": vols[0]["name"], "readOnly": True,
                     "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}
    declined = pod("declined", "pi-1")
    declined["spec"]["automountServiceAccountToken"] = False
    assert not (await _create(apiserver, declined))["spec"].get("volumes")
    await apiserver.post("/api/v1/namespaces/default/serviceaccounts", json={
        "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "quiet"},
        "automountServiceAccountToken": False})
    assert not (await _create(apiserver, pod("quiet", "pi-1", sa="quiet")))["spec"].get("volumes")
    mirror = pod("static-pi-1", "pi-1")
    mirror["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "x"}
    out = await _create(apiserver, mirror)
    assert not out["spec"].get("volumes") and not out["spec"].get("serviceAccountName")


def _node_client(api: Api, node: str, tmp: Path) -> ClientConfig:
    d = Path(api.data_dir) / "pki"
    ca = pki.read_cert_key(d / "ca.crt", d / "ca.key")
    pair = pki.client_cert(ca, f"system:node:{node}", groups=["system:nodes"])
    base = kubeconfig.load_client_config(str(Path(api.data_dir) / "admin.kubeconfig"))
    return ClientConfig(server=base.server, ca_data=base.ca_data, cert_data=pair.cert_pem, key_data=pair.key_pem)


async def test_agent_tokens_are_bound_to_its_own_pods(apiserver: Api, tmp_path: Path) -> None:
    mine = codec.convert(await _create(apiserver, pod("mine", "pi-1")), Pod)
    theirs = codec.convert(await _create(apiserver, pod("theirs", "pi-2")), Pod)
    projection = ServiceAccountTokenProjection(path="token", expiration_seconds=3607)
    clock = FakeClock()
    async with ApiClient(_node_client(apiserver, "pi-1", tmp_path)) as api:
        tokens = ServiceAccountTokens(api, clock=clock)
        token = await tokens.token(mine, projection)
        assert await tokens.token(mine, projection) == token  # cached while fresh
        await clock.advance(3607 * 0.85)
        renewed = await tokens.token(mine, projection)
        assert renewed != token
        with pytest.raises(TokenUnavailable):
            await tokens.token(theirs, projection)
    code, review = await apiserver.post("/apis/authentication.k8s.io/v1/tokenreviews", json={
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": renewed.decode()}})
    assert code == 201 and review["status"]["authenticated"]
    extra = review["status"]["user"]["extra"]
    assert extra["authentication.kubernetes.io/pod-name"] == ["mine"]
    assert extra["authentication.kubernetes.io/node-name"] == ["pi-1"]
