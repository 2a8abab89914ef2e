"""/metrics/resource: node, pod and container usage in the kubelet's text, as ``pictl top`` parses it."""

from __future__ import annotations

from agent.kubelet import keys, resourcemetrics
from agent.kubelet.cri import UnavailableError
from agent.kubelet.cri.fake import FakeRuntime
from agent.kubelet.cri.types import ContainerConfig, SandboxConfig
from master.cli.kube import metrics
from master.util.clock import FakeClock


async def _container(rt: FakeRuntime, ns: str, pod: str, name: str, *, start: bool = True) -> str:
    labels = {keys.POD_NAMESPACE: ns, keys.POD_NAME: pod, keys.POD_UID: f"uid-{pod}"}
    sandbox = SandboxConfig(name=pod, uid=f"uid-{pod}", namespace=ns, labels=labels)
    sid = next((s.id for s in await rt.list_sandboxes() if s.name == pod), None) or await rt.run_sandbox(sandbox)
    cid = await rt.create_container(
        sid, ContainerConfig(name=name, image="localhost/web:1", labels={**labels, keys.CONTAINER_NAME: name}),
        sandbox)
    if start:
        await rt.start_container(cid)
    return cid


def node() -> resourcemetrics.NodeUsage:
    return resourcemetrics.NodeUsage(cpu_seconds=100.5, memory_working_set_bytes=1 << 30)


async def test_node_pod_and_container_values() -> None:
    clock = FakeClock(start=1_700_000_000.0)
    rt = FakeRuntime(clock=clock)
    try:
        a = await _container(rt, "default", "web", "app")
        b = await _container(rt, "default", "web", "sidecar")
        c = await _container(rt, "kube-system", "dns", "dns")
        await _container(rt, "default", "web", "created-only", start=False)
        rt.set_stats(a, cpu_core_nanoseconds=2_000_000_000, memory_working_set_bytes=10 << 20)
        rt.set_stats(b, cpu_core_nanoseconds=500_000_000, memory_working_set_bytes=2 << 20)
        rt.set_stats(c, cpu_core_nanoseconds=1_000_000, memory_working_set_bytes=1 << 20)
        text = (await resourcemetrics.render(rt, node=node, now=clock.time)).decode()
    finally:
        await rt.close()
    sample = metrics.parse(text, 0.0)
    assert sample.get(metrics.NODE_CPU) == (100.5, 1_700_000_000.0)
    assert sample.get(metrics.NODE_MEMORY) == (float(1 << 30), 1_700_000_000.0)
    assert sample.get(metrics.POD_CPU, namespace="default", pod="web")[0] == 2.5  # type: ignore[index]
    assert sample.get(metrics.POD_MEMORY, namespace="default", pod="web")[0] == 12 << 20  # type: ignore[index]
    assert sample.get(metrics.CONTAINER_CPU, container="sidecar", namespace="default", pod="web")[0] == 0.5  # type: ignore[index]
    assert sample.get(metrics.CONTAINER_MEMORY, container="dns", namespace="kube-system", pod="dns")[0] == 1 << 20  # type: ignore[index]
    assert sample.get(metrics.CONTAINER_CPU, container="created-only", namespace="default", pod="web") is None
    assert sample.get("scrape_error") == (0.0, None)
    assert "# TYPE container_cpu_usage_seconds_total counter" in text


async def test_two_samples_give_millicores() -> None:
    clock = FakeClock(start=1_700_000_000.0)
    rt = FakeRuntime(clock=clock)
    try:
        cid = await _container(rt, "default", "web", "app")
        rt.set_stats(cid, cpu_core_nanoseconds=1_000_000_000, memory_working_set_bytes=5 << 20)
        first = metrics.parse((await resourcemetrics.render(rt, node=node, now=clock.time)).decode(), 0.0)
        await clock.advance(2.0)
        rt.set_stats(cid, cpu_core_nanoseconds=1_500_000_000)
        second = metrics.parse((await resourcemetrics.render(rt, node=node, now=clock.time)).decode(), 2.0)
    finally:
        await rt.close()
    usage = metrics.usage(first, second)
    assert usage.pods[("default", "web")] == (250, 5 << 20)
    assert usage.containers[("default", "web", "app")] == (250, 5 << 20)


async def test_a_runtime_that_does_not_answer_is_a_scrape_error() -> None:
    rt = FakeRuntime()
    rt.fail_next("list_container_stats", UnavailableError("containerd is down"))
    try:
        text = (await resourcemetrics.render(rt, node=node)).decode()
    finally:
        await rt.close()
    sample = metrics.parse(text, 0.0)
    assert sample.get("scrape_error") == (1.0, None)
    assert sample.get(metrics.NODE_CPU) is not None
    assert not sample.series(metrics.POD_CPU)


def test_label_values_are_escaped() -> None:
    assert resourcemetrics._labels(pod='a"b\\c\nd') == '{pod="a\\"b\\\\c\\nd"}'


def test_real_node_usage_is_plausible() -> None:
    usage = resourcemetrics.node_usage()
    assert usage.cpu_seconds > 0 and usage.memory_working_set_bytes > 0
