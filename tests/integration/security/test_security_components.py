"""The control plane under authorization: ``pictl master`` with the controller-manager and the
scheduler as their own least-privilege identities (system:kube-controller-manager,
system:kube-scheduler), driving a workload through its whole life on hollow nodes. Nothing they
need may be forbidden, and they must not hold more than their roles."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hw.testbed.hollow import HollowCluster, HollowSettings
from master.api import apps, core, meta
from master.client import errors, kubeconfig
from master.client.rest import ApiClient
from tests.fixtures.apiserver import start_master

pytestmark = pytest.mark.slow

FAST = HollowSettings(heartbeat_period=1.0, lease_duration=5, status_period=1.0)


async def eventually(check: object, within: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            if await check():  # type: ignore[operator]
                return
        except errors.NotFound:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.3)


async def test_workload_lifecycle_with_component_identities(tmp_path: Path) -> None:
    m = start_master(tmp_path / "m", "--node-monitor-period=1s", "--no-leader-elect",
                     components="apiserver,controller-manager,scheduler")
    try:
        cfg = kubeconfig.load_client_config(str(m.kubeconfig))
        async with ApiClient(cfg) as api, HollowCluster(api, FAST) as hollow:
            await hollow.add_nodes(2)
            await api.create(core.Namespace(metadata=meta.ObjectMeta(name="work")))
            template = core.PodTemplateSpec(
                metadata=meta.ObjectMeta(labels={"app": "web"}),
                spec=core.PodSpec(containers=[core.Container(name="c", image="busybox")]))
            await api.create(apps.Deployment(
                metadata=meta.ObjectMeta(name="web", namespace="work"),
                spec=apps.DeploymentSpec(replicas=3, selector=meta.LabelSelector(match_labels={"app": "web"}),
                                         template=template)))
            await api.create(core.Service(metadata=meta.ObjectMeta(name="web", namespace="work"),
                                          spec=core.ServiceSpec(selector={"app": "web"},
                                                                ports=[core.ServicePort(port=80)])))

            async def available() -> bool:
                d = await api.get(apps.Deployment, "web", namespace="work")
                return d.status.available_replicas == 3

            await eventually(available)

            async def endpoints() -> bool:
                ep = await api.get(core.Endpoints, "web", namespace="work")
                return sum(len(s.addresses) for s in ep.subsets) == 3

            await eventually(endpoints)
            pods = await api.list(core.Pod, namespace="work")
            assert {p.spec.node_name for p in pods.items} <= set(hollow.nodes)
            # The namespace controller empties and removes the namespace (RBAC objects included).
            await api.create(core.ConfigMap(metadata=meta.ObjectMeta(name="cfg", namespace="work")))
            await api.delete(core.Namespace, "work")

            async def gone() -> bool:
                try:
                    await api.get(core.Namespace, "work")
                except errors.NotFound:
                    return True
                return False

            await eventually(gone, 90)
            sa = await api.get(core.ServiceAccount, "default", namespace="default")
            assert sa.metadata.name == "default"
    finally:
        m.stop()
    # Refusals by authorization read 'is forbidden: User "..." cannot ...' (admission's differ).
    denied = [line for line in m.log.read_text().splitlines() if "is forbidden: User" in line]
    assert not denied, denied[:5]
    assert (tmp_path / "m" / "controller-manager.kubeconfig").exists()


async def test_components_cannot_exceed_their_roles(tmp_path: Path) -> None:
    m = start_master(tmp_path / "m")
    try:
        for component, forbidden in (("scheduler", core.Secret), ("controller-manager", None)):
            cfg = kubeconfig.load_client_config(str(tmp_path / "m" / f"{component}.kubeconfig"))
            async with ApiClient(cfg) as api:
                if forbidden is not None:
                    with pytest.raises(errors.Forbidden):
                        await api.list(forbidden, namespace="kube-system")
                with pytest.raises(errors.Forbidden):
                    await api.create(core.Namespace(metadata=meta.ObjectMeta(name=f"by-{component}")))
    finally:
        m.stop()
