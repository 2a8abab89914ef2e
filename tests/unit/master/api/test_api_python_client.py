"""Objects we encode are what the official Python client expects (its required fields)."""

import pytest

from master.api import apps, autoscaling, codec, coordination, core, discovery, meta
from master.api.registry import DEFAULT

kubernetes = pytest.importorskip("kubernetes")


@pytest.fixture(scope="module")
def api_client():  # type: ignore[no-untyped-def]
    return kubernetes.client.ApiClient()


_STATUS = core.ContainerStatus(name="c", ready=False, restart_count=0, image="i", image_id="")


@pytest.mark.parametrize(
    ("obj", "model"),
    [
        pytest.param(core.Pod(spec=core.PodSpec(containers=[core.Container(name="c")]),
                              status=core.PodStatus(container_statuses=[_STATUS])), "V1Pod", id="pod"),
        pytest.param(core.Node(), "V1Node", id="node"),
        pytest.param(core.Namespace(), "V1Namespace", id="namespace"),
        pytest.param(core.Service(spec=core.ServiceSpec(ports=[core.ServicePort(port=80)])), "V1Service", id="service"),
        pytest.param(core.Event(), "CoreV1Event", id="event"),
        pytest.param(apps.Deployment(), "V1Deployment", id="deployment"),
        pytest.param(apps.ReplicaSet(), "V1ReplicaSet", id="replicaset"),
        pytest.param(apps.DaemonSet(), "V1DaemonSet", id="daemonset"),
        pytest.param(autoscaling.Scale(), "V1Scale", id="scale"),
        pytest.param(coordination.Lease(), "V1Lease", id="lease"),
        pytest.param(discovery.EndpointSlice(address_type="IPv4"), "V1EndpointSlice", id="endpointslice"),
        pytest.param(meta.Status(status="Failure", code=404), "V1Status", id="status"),
        pytest.param(DEFAULT.api_resource_list("apps", "v1"), "V1APIResourceList", id="discovery"),
    ],
)
def test_official_client_deserializes_our_objects(api_client, obj, model) -> None:  # type: ignore[no-untyped-def]
    out = api_client.deserialize(codec.encode(obj).decode(), model, "application/json")
    assert type(out).__name__ == model


def test_official_client_objects_decode_into_ours(api_client) -> None:  # type: ignore[no-untyped-def]
    c = kubernetes.client
    dep = c.V1Deployment(
        metadata=c.V1ObjectMeta(name="web", labels={"app": "web"}),
        spec=c.V1DeploymentSpec(
            replicas=2,
            selector=c.V1LabelSelector(match_labels={"app": "web"}),
            template=c.V1PodTemplateSpec(
                metadata=c.V1ObjectMeta(labels={"app": "web"}),
                spec=c.V1PodSpec(containers=[c.V1Container(name="web", image="nginx",
                                                           ports=[c.V1ContainerPort(container_port=80)])]),
            ),
        ),
    )
    ours = codec.convert(api_client.sanitize_for_serialization(dep), apps.Deployment)
    assert ours.spec.replicas == 2
    assert ours.spec.template.spec.containers[0].ports[0].container_port == 80
