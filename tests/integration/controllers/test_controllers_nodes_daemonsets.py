"""DaemonSets on every node (and rolling updates), and node failure -> taint -> eviction -> replacements."""

from __future__ import annotations

import msgspec

from hw.testbed.hollow import HollowCluster
from master.api import apps, core, meta
from master.api import helpers as api_helpers
from master.client.rest import ApiClient
from master.controllers import taints
from master.controllers.daemonset import HASH_LABEL
from master.scheduler.scheduler import Scheduler
from tests.integration.controllers.conftest import StartManager, deployment, pods_of, template, wait_for


def daemonset(name: str, image: str = "agent:1", **spec: object) -> apps.DaemonSet:
    lbls = {"ds": name}
    return apps.DaemonSet(
        metadata=meta.ObjectMeta(name=name, namespace="default"),
        spec=apps.DaemonSetSpec(selector=meta.LabelSelector(match_labels=lbls), template=template(lbls, image),
                                **spec),  # type: ignore[arg-type]
    )


async def live_pods(client: ApiClient, selector: str) -> list[core.Pod]:
    return [p for p in await pods_of(client, selector) if not p.metadata.deletion_timestamp]


async def test_daemonset_every_node_selector_taints_and_rollout(
    client: ApiClient, hollow: HollowCluster, scheduler: Scheduler, start_manager: StartManager
) -> None:
    await hollow.add_nodes(3)
    await hollow.add_node("tainted", taints=[core.Taint(key="dedicated", value="x", effect="NoSchedule")])
    await start_manager(controllers=("daemonset",))
    await client.create(daemonset("agent"))

    async def on_nodes(image: str, expect: set[str]) -> bool:
        pods = await live_pods(client, "ds=agent")
        running = {p.spec.node_name for p in pods if p.status.phase == "Running" and p.spec.containers[0].image == image}
        return running == expect and len(pods) == len(expect)

    untainted = {"hollow-0", "hollow-1", "hollow-2"}
    await wait_for(lambda: on_nodes("agent:1", untainted))
    pod = (await live_pods(client, "ds=agent"))[0]
    terms = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution  # type: ignore[union-attr]
    assert terms is not None and terms.node_selector_terms[0].match_fields[0].key == "metadata.name"
    assert any(t.key == taints.UNREACHABLE and t.toleration_seconds is None for t in pod.spec.tolerations)

    async def status_ok() -> bool:
        st = (await client.get(apps.DaemonSet, "agent")).status
        return st.desired_number_scheduled == 3 and st.number_ready == 3 and st.updated_number_scheduled == 3

    await wait_for(status_ok)

    # A new node gets a pod.
    await hollow.add_node("late")
    await wait_for(lambda: on_nodes("agent:1", {*untainted, "late"}))

    # Rolling update: every pod replaced by one of the new template (maxUnavailable 1).
    ds = await client.get(apps.DaemonSet, "agent")
    c = ds.spec.template.spec.containers[0]
    spec = msgspec.structs.replace(ds.spec, template=msgspec.structs.replace(
        ds.spec.template, spec=msgspec.structs.replace(ds.spec.template.spec,
                                                        containers=[msgspec.structs.replace(c, image="agent:2")])))
    await client.update(msgspec.structs.replace(ds, spec=spec))
    await wait_for(lambda: on_nodes("agent:2", {*untainted, "late"}), within=60)
    hashes = {p.metadata.labels[HASH_LABEL] for p in await live_pods(client, "ds=agent")}
    assert len(hashes) == 1


async def test_node_failure_taints_evicts_and_replaces(
    client: ApiClient, hollow: HollowCluster, scheduler: Scheduler, start_manager: StartManager
) -> None:
    await hollow.add_nodes(3)
    await start_manager(controllers=("replicaset", "deployment", "nodelifecycle"))
    d = deployment("web", 4)
    d.spec.template.spec.tolerations = [
        core.Toleration(key=taints.UNREACHABLE, operator="Exists", effect="NoExecute", toleration_seconds=2),
        core.Toleration(key=taints.NOT_READY, operator="Exists", effect="NoExecute", toleration_seconds=2),
    ]
    await client.create(d)

    async def running(n: int) -> list[core.Pod] | None:
        pods = [p for p in await live_pods(client, "app=web") if p.status.phase == "Running"]
        return pods if len(pods) == n else None

    pods = await wait_for(lambda: running(4))
    victim = next(n for n in ("hollow-0", "hollow-1", "hollow-2") if any(p.spec.node_name == n for p in pods))
    hollow.node(victim).stop()

    async def tainted() -> core.Node | None:
        node = await client.get(core.Node, victim)
        keys = {(t.key, t.effect) for t in node.spec.taints}
        if {(taints.UNREACHABLE, "NoExecute"), (taints.UNREACHABLE, "NoSchedule")} <= keys:
            return node
        return None

    node = await wait_for(tainted)
    ready = api_helpers.get_node_condition(node, "Ready")
    assert ready is not None and ready.status == "Unknown" and ready.message == "Kubelet stopped posting node status."

    async def replaced() -> bool:
        live = [p for p in await live_pods(client, "app=web") if p.status.phase == "Running"]
        return len(live) == 4 and all(p.spec.node_name != victim for p in live)

    await wait_for(replaced, within=60)
    # The evicted pods are terminating on the dead node (nobody confirms their deletion).
    terminating = [p for p in await pods_of(client, "app=web") if p.metadata.deletion_timestamp]
    assert terminating and all(p.spec.node_name == victim for p in terminating)

    # The node comes back: conditions and taints clear.
    hollow.node(victim).start()

    async def healthy() -> bool:
        node = await client.get(core.Node, victim)
        return api_helpers.is_node_ready(node) and not any(
            t.key in (taints.UNREACHABLE, taints.NOT_READY) for t in node.spec.taints
        )

    await wait_for(healthy)
