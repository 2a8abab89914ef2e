"""Joining with a token, against an in-process apiserver and the certificate controllers running
as the controller-manager's own identity (system:kube-controller-manager, its default role).

The join itself is agent/kubelet/bootstrap.py (what ``pictl agent --token`` runs); each test is
a machine presenting a token: the right one, one pinned to another CA, an expired or deleted
one, and the same token again from a second machine that wants an existing node's name.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent.kubelet import bootstrap
from master.api import core, meta
from master.client import errors, kubeconfig
from master.client.rest import ApiClient
from master.controllers.component import ControllerManagerComponent
from master.controllers.settings import ControllerManagerSettings
from master.util import jointoken
from tests.fixtures.apiserver import Api

TOKEN = jointoken.BootstrapToken("j0in3d", "0123456789abcdef")


@pytest.fixture
async def controllers(apiserver: Api) -> AsyncIterator[ControllerManagerComponent]:
    d = Path(apiserver.data_dir)
    cfg = kubeconfig.load_client_config(str(d / "controller-manager.kubeconfig"))
    settings = ControllerManagerSettings(controllers=("csrapproving", "csrsigning", "tokencleaner"),
                                         cluster_signing_cert_file=str(d / "pki" / "ca.crt"),
                                         cluster_signing_key_file=str(d / "pki" / "ca.key"))
    cm = ControllerManagerComponent(cfg, settings, leader_elect=False)
    await cm.start()
    try:
        yield cm
    finally:
        await cm.stop()


async def add_token(api: Api, token: jointoken.BootstrapToken = TOKEN, **kw: Any) -> str:
    kw.setdefault("expires", datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1))
    code, out = await api.post("/api/v1/namespaces/kube-system/secrets", json={
        "apiVersion": "v1", "kind": "Secret", "type": jointoken.SECRET_TYPE,
        "metadata": {"name": token.secret_name}, "data": jointoken.secret_data(token, **kw)})
    assert code == 201, out
    ca = (Path(api.data_dir) / "pki" / "ca.crt").read_bytes()
    return str(jointoken.JoinToken(jointoken.ca_hash(ca), token))


def machine(api: Api, tmp: Path, name: str, token: str, node: str = "pi-7") -> bootstrap.JoinSettings:
    return dataclasses.replace(
        bootstrap.join_settings(token, server=api.base, node_name=node, node_ip="127.0.0.1", data_dir=tmp / name,
                                cert_dir=tmp / name / "pki"),
        timeout=30.0, poll=0.2)


async def register_node(cfg: Any, name: str = "pi-7") -> None:
    async with ApiClient(cfg) as api:
        await api.create(core.Node(metadata=meta.ObjectMeta(name=name)))


async def test_join_then_the_node_acts_as_itself(apiserver: Api, controllers: object, tmp_path: Path) -> None:
    token = await add_token(apiserver)
    js = machine(apiserver, tmp_path, "a", token)
    cfg = await bootstrap.join(js)
    who = bootstrap.describe(cfg)
    assert who["user"] == "system:node:pi-7"
    assert (js.cert_dir / "kubelet.crt").exists() and js.kubeconfig.exists()
    assert oct(js.kubeconfig.stat().st_mode & 0o777) == "0o600"
    # The node registers itself; it may not touch another node.
    await register_node(cfg)
    async with ApiClient(cfg) as api:
        with pytest.raises(errors.Forbidden):
            await api.create(core.Node(metadata=meta.ObjectMeta(name="pi-8")))
    # A restart reuses the saved identity (the token may be gone by then).
    await apiserver.delete(f"/api/v1/namespaces/kube-system/secrets/{TOKEN.secret_name}")
    again = await bootstrap.join(js)
    assert again.cert_data == cfg.cert_data
    # Renewal: a CSR sent as the node itself is approved (selfnodeclient) and the client switches.
    manager = bootstrap.CertificateManager(js, cfg)
    renewed = await manager.rotate_client()
    assert renewed.cert_data != cfg.cert_data and bootstrap.describe(renewed)["user"] == "system:node:pi-7"
    async with ApiClient(cfg) as api:
        await api.use_credentials(renewed)
        node = await api.get(core.Node, "pi-7")
        assert node.metadata.name == "pi-7"
    _, csrs = await apiserver.get("/apis/certificates.k8s.io/v1/certificatesigningrequests")
    reasons = [c["reason"] for i in csrs["items"] for c in i["status"].get("conditions", [])]
    assert reasons.count("AutoApproved") == 3  # client, serving, renewal


async def test_second_machine_with_the_same_token_cannot_take_the_name(apiserver: Api, controllers: object,
                                                                      tmp_path: Path) -> None:
    token = await add_token(apiserver)
    first = await bootstrap.join(machine(apiserver, tmp_path, "first", token))
    # Before the first machine registered its Node: the name is already claimed by its CSR.
    with pytest.raises(bootstrap.JoinError, match="NodeNameTaken"):
        await bootstrap.join(machine(apiserver, tmp_path, "thief", token))
    await register_node(first)
    with pytest.raises(bootstrap.JoinError, match="NodeExists"):
        await bootstrap.join(machine(apiserver, tmp_path, "thief2", token))
    # The same token still joins a machine under a new name.
    other = await bootstrap.join(machine(apiserver, tmp_path, "second", token, node="pi-8"))
    assert bootstrap.describe(other)["user"] == "system:node:pi-8"


async def test_a_token_pinned_to_another_ca_sends_nothing(apiserver: Api, controllers: object,
                                                          tmp_path: Path) -> None:
    token = await add_token(apiserver)
    wrong = jointoken.JoinToken("f" * 64, jointoken.parse_join_token(token).token)
    with pytest.raises(bootstrap.JoinError, match="does not match the join token's pin"):
        await bootstrap.join(machine(apiserver, tmp_path, "m", str(wrong)))
    # Nothing reached the server: no CSR exists.
    code, csrs = await apiserver.get("/apis/certificates.k8s.io/v1/certificatesigningrequests")
    assert code == 200 and csrs["items"] == []


@pytest.mark.parametrize("case", ["expired", "deleted", "wrong-secret", "signing-only"])
async def test_unusable_tokens_are_refused(apiserver: Api, controllers: object, tmp_path: Path, case: str) -> None:
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
    if case == "expired":
        token = await add_token(apiserver, expires=past)
    elif case == "signing-only":
        token = await add_token(apiserver, usages=["signing"])
    else:
        token = await add_token(apiserver)
    if case == "deleted":
        await apiserver.delete(f"/api/v1/namespaces/kube-system/secrets/{TOKEN.secret_name}")
    if case == "wrong-secret":
        parsed = jointoken.parse_join_token(token)
        token = str(jointoken.JoinToken(parsed.ca_hash, jointoken.BootstrapToken(TOKEN.id, "f" * 16)))
    with pytest.raises(bootstrap.JoinError, match=r"Unauthorized|refused"):
        await bootstrap.join(machine(apiserver, tmp_path, "m", token))


async def test_tokencleaner_removes_expired_tokens(apiserver: Api, controllers: object) -> None:
    import asyncio

    soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1)
    await add_token(apiserver, expires=soon)
    path = f"/api/v1/namespaces/kube-system/secrets/{TOKEN.secret_name}"
    for _ in range(100):
        if (await apiserver.get(path))[0] == 404:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the expired token was not deleted")


async def test_node_serving_csr_for_another_nodes_ip_is_denied(apiserver: Api, controllers: object,
                                                               tmp_path: Path) -> None:
    token = await add_token(apiserver)
    cfg = await bootstrap.join(machine(apiserver, tmp_path, "a", token))
    code, out = await apiserver.post("/api/v1/nodes", json={
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "pi-9"},
        "status": {"addresses": [{"type": "InternalIP", "address": "10.77.0.19"}]}})
    assert code == 201, out
    js = dataclasses.replace(machine(apiserver, tmp_path, "a", token), node_ip="10.77.0.19")
    async with ApiClient(cfg) as api:
        with pytest.raises(bootstrap.JoinError, match="AddressTaken"):
            await bootstrap.request_certificate(api, js, signer="kubernetes.io/kubelet-serving",
                                                sans=["10.77.0.19"])


def test_rotation_deadline_is_70_to_90_percent_of_the_lifetime() -> None:
    import random

    start = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    end = start + datetime.timedelta(days=10)
    for seed in range(50):
        at = bootstrap.rotation_deadline(start, end, random.Random(seed))
        assert start + datetime.timedelta(days=7) <= at <= start + datetime.timedelta(days=9)


async def test_renewal_loop_switches_the_running_client(apiserver: Api, controllers: object, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    token = await add_token(apiserver)
    js = machine(apiserver, tmp_path, "a", token)
    cfg = await bootstrap.join(js)
    await register_node(cfg)
    rotated = asyncio.Event()
    async with ApiClient(cfg) as api:

        async def switch(new: Any) -> None:
            await api.use_credentials(new)
            rotated.set()

        manager = bootstrap.CertificateManager(js, cfg, on_rotated=switch)
        # Due now: the loop renews at once (a real deadline is 70-90 % into a year).
        monkeypatch.setattr(manager, "next_client_rotation", lambda: datetime.datetime.now(datetime.UTC))
        task = asyncio.create_task(manager.run())
        try:
            await asyncio.wait_for(rotated.wait(), 30)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert api.config.cert_data != cfg.cert_data
        assert (await api.get(core.Node, "pi-7")).metadata.name == "pi-7"
        saved = kubeconfig.load_client_config(str(js.kubeconfig))
        assert saved.cert_data == api.config.cert_data
