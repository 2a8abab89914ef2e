"""The event recorder against the in-process fake apiserver (a test double)."""

from collections.abc import AsyncIterator

import pytest

from master.api import core, meta
from master.client.config import ClientConfig
from master.client.events import NORMAL, WARNING, EventRecorder, RecorderSettings
from master.client.rest import ApiClient
from master.util.clock import FakeClock
from tests.fixtures.fake_apiserver import FakeApiServer
from tests.fixtures.waiting import eventually


@pytest.fixture
async def api(fake_apiserver: FakeApiServer) -> AsyncIterator[ApiClient]:
    async with ApiClient(ClientConfig(server=fake_apiserver.url)) as client:
        yield client


@pytest.fixture
async def recorder(api: ApiClient) -> AsyncIterator[tuple[EventRecorder, FakeClock]]:
    clock = FakeClock(start=1_800_000_000.0)
    rec = EventRecorder(
        api,
        component="default-scheduler",
        host="master",
        clock=clock,
        settings=RecorderSettings(burst=3, refill_seconds=60),
    )
    yield rec, clock
    await rec.aclose()


def pod(name: str = "web") -> core.Pod:
    return core.Pod(metadata=meta.ObjectMeta(name=name, namespace="prod", uid="u-1", resource_version="7"))


async def events(api: ApiClient, namespace: str = "prod") -> list[core.Event]:
    return (await api.list(core.Event, namespace=namespace)).items


async def test_event_is_written_with_kubernetes_fields(
    api: ApiClient, recorder: tuple[EventRecorder, FakeClock]
) -> None:
    rec, _ = recorder
    rec.event(pod(), NORMAL, "Scheduled", "Successfully assigned prod/web to pi-1")
    await rec.flush()
    [ev] = await events(api)
    assert ev.metadata.name.startswith("web.")
    assert (ev.type, ev.reason, ev.message, ev.count) == (
        "Normal",
        "Scheduled",
        "Successfully assigned prod/web to pi-1",
        1,
    )
    io = ev.involved_object
    assert (io.kind, io.namespace, io.name, io.uid, io.api_version) == ("Pod", "prod", "web", "u-1", "v1")
    assert (ev.source.component, ev.source.host) == ("default-scheduler", "master")
    assert ev.first_timestamp == ev.last_timestamp == "2027-01-15T08:00:00Z"


async def test_repeats_are_aggregated(api: ApiClient, recorder: tuple[EventRecorder, FakeClock]) -> None:
    rec, clock = recorder
    rec.event(pod(), WARNING, "FailedScheduling", "0/3 nodes are available")
    await rec.flush()
    await clock.advance(30)
    rec.event(pod(), WARNING, "FailedScheduling", "0/3 nodes are available")
    rec.event(pod(), WARNING, "FailedScheduling", "something else")
    await rec.flush()
    evs = sorted(await events(api), key=lambda e: e.message)
    assert [(e.message, e.count) for e in evs] == [("0/3 nodes are available", 2), ("something else", 1)]
    assert (
        evs[0].first_timestamp == "2027-01-15T08:00:00Z" and evs[0].last_timestamp == "2027-01-15T08:00:30Z"
    )


async def test_aggregated_event_deleted_meanwhile_is_recreated(
    api: ApiClient, recorder: tuple[EventRecorder, FakeClock]
) -> None:
    rec, _ = recorder
    rec.event(pod(), NORMAL, "Pulled", "image pulled")
    await rec.flush()
    [ev] = await events(api)
    await api.delete(core.Event, ev.metadata.name, namespace="prod")
    rec.event(pod(), NORMAL, "Pulled", "image pulled")
    await rec.flush()
    [again] = await events(api)
    assert again.count == 1 and again.metadata.uid != ev.metadata.uid


async def test_spam_filter_per_object(api: ApiClient, recorder: tuple[EventRecorder, FakeClock]) -> None:
    rec, clock = recorder
    for i in range(5):
        rec.event(pod(), NORMAL, "R", f"m{i}")
    rec.event(pod("other"), NORMAL, "R", "m")
    await rec.flush()
    assert rec.dropped == 2
    assert len(await events(api)) == 4
    await clock.advance(60)  # one token back
    rec.event(pod(), NORMAL, "R", "later")
    await rec.flush()
    assert rec.dropped == 2 and len(await events(api)) == 5


async def test_cluster_scoped_objects_go_to_default(
    api: ApiClient, recorder: tuple[EventRecorder, FakeClock]
) -> None:
    rec, _ = recorder
    rec.event(
        core.Node(metadata=meta.ObjectMeta(name="pi-1")),
        NORMAL,
        "NodeReady",
        "Node pi-1 status is now: NodeReady",
    )
    await rec.flush()
    [ev] = await events(api, "default")
    assert ev.involved_object.kind == "Node" and ev.involved_object.namespace == ""


async def test_server_errors_are_retried(
    api: ApiClient, fake_apiserver: FakeApiServer, recorder: tuple[EventRecorder, FakeClock]
) -> None:
    rec, clock = recorder
    fake_apiserver.fail_next("POST", 500, "InternalError", "boom")
    rec.event(pod(), NORMAL, "A", "first")
    # The failed POST, then the recorder waits 0.5 s on the clock.
    await eventually(lambda: any(not f.done() for _, _, f in clock._sleepers))
    assert await events(api) == []
    await clock.advance(0.5)
    await rec.flush()
    assert [e.message for e in await events(api)] == ["first"]


async def test_bad_requests_are_not_retried(
    api: ApiClient, fake_apiserver: FakeApiServer, recorder: tuple[EventRecorder, FakeClock]
) -> None:
    rec, _ = recorder
    fake_apiserver.fail_next("POST", 403, "Forbidden", "events is forbidden")
    rec.event(pod(), NORMAL, "A", "first")
    await rec.flush()
    assert await events(api) == []
    rec.event(pod(), NORMAL, "A", "second")
    await rec.flush()
    assert [e.message for e in await events(api)] == ["second"]
