"""Every controller's sync leaves the objects of its informer caches exactly as they were."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from master.api import core, meta
from master.controllers import taints
from master.controllers.daemonset import DaemonSetController
from master.controllers.deployment.controller import DeploymentController
from master.controllers.endpoints import EndpointsController
from master.controllers.endpointslice import EndpointSliceController
from master.controllers.garbagecollector.collector import GarbageCollector
from master.controllers.namespace import NamespaceController
from master.controllers.nodeipam import NodeIpamController
from master.controllers.nodelifecycle.controller import NodeLifecycleController
from master.controllers.podgc import PodGCController
from master.controllers.replicaset import ReplicaSetController
from master.controllers.serviceaccount import ServiceAccountController
from tests.unit.master.controllers.harness import Harness, harness, node, pod
from tests.unit.master.controllers.test_controllers_daemonset import ds
from tests.unit.master.controllers.test_controllers_deployment import deploy, rs_for
from tests.unit.master.controllers.test_controllers_endpoints import svc, web_pod
from tests.unit.master.controllers.test_controllers_replicaset import rs
from tests.unit.master.controllers.test_controllers_small import namespace

Scenario = Callable[[Harness], Awaitable[object]]


async def replicaset(h: Harness) -> object:
    ctl = ReplicaSetController(h.ctx)
    (owner,) = h.load(rs(replicas=1))
    h.load(pod("orphan", labels={"app": "web"}), pod("extra", labels={"app": "web"}, owner=owner))
    return await ctl.sync("default/web")


async def deployment(h: Harness) -> object:
    ctl = DeploymentController(h.ctx)
    old = deploy(4, image="img:1", surge=1, unavailable=1)
    h.load(deploy(4, image="img:2", surge=1, unavailable=1), rs_for(old, 4))
    return await ctl.sync("default/web")


async def daemonset(h: Harness) -> object:
    ctl = DaemonSetController(h.ctx)
    owner, *_ = h.load(ds(image="agent:2"), node("a"), node("b"))
    h.load(pod("old", labels={"app": "agent"}, node="a", phase="Running", ready=True, owner=owner))
    return await ctl.sync("default/agent")


async def endpoints(h: Harness) -> object:
    ctl = EndpointsController(h.ctx)
    sctl = EndpointSliceController(h.ctx)
    h.load(svc(), web_pod("a", "10.0.0.1"), web_pod("b", "10.0.0.2", ready=False))
    await ctl.sync("default/web")
    return await sctl.sync("default/web")


async def nodelifecycle(h: Harness) -> object:
    ctl = NodeLifecycleController(h.ctx)
    h.load(node("a"), node("b"), pod("p", node="a", phase="Running", ready=True),
           node("c", ready="Unknown", taints=[core.Taint(key=taints.UNREACHABLE, effect="NoExecute")]),
           pod("q", node="c", phase="Running"))
    await ctl.monitor_pass()
    await h.clock.advance(100)
    await ctl.monitor_pass()
    await ctl.tainting_pass()
    await ctl.sync_no_schedule("a")
    return await ctl.eviction.sync("default/q")


async def garbagecollector(h: Harness) -> object:
    gc = GarbageCollector(h.ctx)
    owner = core.ConfigMap(metadata=meta.ObjectMeta(name="o", namespace="default", uid="uid-o"))
    ref = meta.OwnerReference(api_version="v1", kind="ConfigMap", name="o", uid="uid-o")
    ghost = meta.OwnerReference(api_version="v1", kind="ConfigMap", name="g", uid="uid-g")
    h.load(owner, core.ConfigMap(metadata=meta.ObjectMeta(name="d", namespace="default",
                                                          owner_references=[ref, ghost])))
    for uid in ("uid-g", "uid-configmap-d", "uid-o"):
        await gc.sync_delete(uid)
    return await gc.sync_orphan("uid-o")


async def others(h: Harness) -> object:
    ns, sa, ipam, podgc = (NamespaceController(h.ctx), ServiceAccountController(h.ctx), NodeIpamController(h.ctx),
                           PodGCController(h.ctx))
    h.load(namespace("gone", deleting=True), namespace("live"), node("n"), pod("p", namespace="gone"),
           pod("done", node="n", phase="Succeeded"), pod("lost", node="nowhere"))
    await ns.sync("gone")
    await sa.sync("live")
    await ipam.sync("n")
    return await podgc.sync("pass")


@pytest.mark.parametrize(
    "scenario",
    [replicaset, deployment, daemonset, endpoints, nodelifecycle, garbagecollector, others],
    ids=lambda f: f.__name__,
)
async def test_sync_never_mutates_cached_objects(scenario: Scenario) -> None:
    h = harness(terminated_pod_gc_threshold=0)
    snap: list[tuple[meta.Object, bytes]] = []

    original_load = h.load

    def load(*objs: meta.Object) -> list[object]:
        loaded = original_load(*objs)
        snap.extend(h.snapshot())
        return loaded

    h.load = load  # type: ignore[method-assign]
    await scenario(h)
    assert snap
    h.assert_untouched(snap)
