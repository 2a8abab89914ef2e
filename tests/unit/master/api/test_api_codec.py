import json

import msgspec
import pytest

from master.api import apps, codec, coordination, core, discovery, meta
from master.api.codec import DecodeError
from master.api.registry import DEFAULT


def _pod_json(**spec: object) -> bytes:
    doc = {"metadata": {"name": "p", "namespace": "default"}, "spec": {"containers": [{"name": "c", "image": "i"}], **spec}}
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("obj", "api_version", "kind"),
    [
        pytest.param(core.Pod(), "v1", "Pod", id="pod"),
        pytest.param(core.Namespace(), "v1", "Namespace", id="namespace"),
        pytest.param(core.ConfigMap(), "v1", "ConfigMap", id="configmap"),
        pytest.param(apps.Deployment(), "apps/v1", "Deployment", id="deployment"),
        pytest.param(coordination.Lease(), "coordination.k8s.io/v1", "Lease", id="lease"),
        pytest.param(discovery.EndpointSlice(address_type="IPv4"), "discovery.k8s.io/v1", "EndpointSlice", id="slice"),
        pytest.param(meta.Status(), "v1", "Status", id="status"),
    ],
)
def test_encoded_objects_always_carry_api_version_and_kind(obj: meta.TypeMeta, api_version: str, kind: str) -> None:
    doc = json.loads(codec.encode(obj))
    assert doc["apiVersion"] == api_version
    assert doc["kind"] == kind


@pytest.mark.parametrize("resource", [pytest.param(r, id=r.plural) for r in DEFAULT.all()])
def test_every_registered_type_round_trips(resource) -> None:  # type: ignore[no-untyped-def]
    obj = codec.convert({"metadata": {"name": "x"}}, resource.type)
    again = codec.decode(codec.encode(obj), resource.type)
    assert again == obj
    assert again.api_version == resource.api_version
    assert again.kind == resource.kind


def test_unknown_fields_are_pruned() -> None:
    data = b'{"metadata":{"name":"p","selfLink":"/x","managedFields":[{"manager":"kubectl"}]},"spec":{"containers":[{"name":"c","image":"i","bogus":1}],"nope":{}},"extra":true}'
    pod = codec.decode(data, core.Pod)
    out = json.loads(codec.encode(pod))
    assert "selfLink" not in out["metadata"]
    assert "managedFields" not in out["metadata"]
    assert "nope" not in out["spec"]
    assert "bogus" not in out["spec"]["containers"][0]
    assert "extra" not in out


@pytest.mark.parametrize(
    ("data", "check"),
    [
        pytest.param(
            b'{"metadata":{"name":"p","creationTimestamp":null},"spec":{"containers":[{"name":"c","image":null}]}}',
            lambda p: p.spec.containers[0].image == "" and p.metadata.creation_timestamp is None,
            id="null-means-unset",
        ),
        pytest.param(
            b'{"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":1,"memory":0.5}}}]}}',
            lambda p: p.spec.containers[0].resources.limits == {"cpu": "1", "memory": "0.5"},
            id="numeric-quantities",
        ),
        pytest.param(
            b'{"status":{"containerStatuses":[{"name":"c"}]}}',
            lambda p: p.status.container_statuses[0].ready is False
            and p.status.container_statuses[0].restart_count == 0,
            id="missing-required-fields-are-zero",
        ),
        pytest.param(
            b'{"spec":{"containers":[{}]}}',
            lambda p: p.spec.containers[0].name == "",
            id="missing-container-name-is-empty",
        ),
        pytest.param(
            b'{"metadata":{"labels":{"a":null}}}',
            lambda p: p.metadata.labels == {"a": ""},
            id="null-map-value",
        ),
    ],
)
def test_lenient_decoding_like_go(data: bytes, check) -> None:  # type: ignore[no-untyped-def]
    assert check(codec.decode(data, core.Pod))


@pytest.mark.parametrize(
    ("data", "path", "detail"),
    [
        pytest.param(b'{"spec":{"containers":[{"name":1}]}}', "spec.containers[0].name", "Expected `str`, got `int`", id="type"),
        pytest.param(b'{"spec":{"containers":{}}}', "spec.containers", "Expected `array`, got `object`", id="shape"),
        pytest.param(b'{"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":true}}}]}}',
                     "spec.containers[0].resources.limits[...]", "Expected `str`, got `bool`", id="quantity-bool"),
        pytest.param(b"[]", "", "Expected `object`, got `array`", id="not-an-object"),
        pytest.param(b'{"metadata":', "", "invalid JSON", id="truncated"),
    ],
)
def test_decode_errors_name_the_json_path(data: bytes, path: str, detail: str) -> None:
    with pytest.raises(DecodeError) as info:
        codec.decode(data, core.Pod)
    assert info.value.path == path
    assert detail in info.value.detail


def test_yaml_timestamps_become_strings() -> None:
    import datetime as dt

    doc = {"metadata": {"name": "x", "creationTimestamp": dt.datetime(2026, 11, 27, 4, 34, tzinfo=dt.UTC)}}
    assert codec.convert(doc, core.Pod).metadata.creation_timestamp == "2026-11-27T04:34:00Z"


def test_encode_list_of_structs_and_raw_items() -> None:
    raw = msgspec.Raw(codec.encode(core.ConfigMap(metadata=meta.ObjectMeta(name="a"))))
    data = codec.encode_list([raw, core.ConfigMap(metadata=meta.ObjectMeta(name="b"))], kind="ConfigMapList",
                             api_version="v1", resource_version="7", continue_="tok")
    doc = json.loads(data)
    assert doc["kind"] == "ConfigMapList"
    assert doc["metadata"] == {"resourceVersion": "7", "continue": "tok"}
    assert [i["metadata"]["name"] for i in doc["items"]] == ["a", "b"]
    lst = codec.decode_list(data, core.ConfigMap)
    assert [i.metadata.name for i in lst.items] == ["a", "b"]


def test_empty_list_still_has_items() -> None:
    doc = json.loads(codec.encode_list([], kind="PodList", api_version="v1"))
    assert doc["items"] == []


def test_watch_event_embeds_raw_object() -> None:
    obj = codec.encode(core.Pod(metadata=meta.ObjectMeta(name="p")))
    line = codec.encode(meta.WatchEvent(type="ADDED", object=msgspec.Raw(obj)))
    ev = codec.decode(line, meta.WatchEvent)
    assert ev.type == "ADDED"
    assert codec.decode(ev.object, core.Pod).metadata.name == "p"


def test_peek_type_meta() -> None:
    assert codec.peek_type_meta(b'{"kind":"Deployment","apiVersion":"apps/v1","spec":{"x":1}}') == ("apps/v1", "Deployment")
    with pytest.raises(DecodeError):
        codec.peek_type_meta(b"{")


def test_clone_is_deep() -> None:
    pod = codec.decode(_pod_json(), core.Pod)
    copy = codec.clone(pod)
    copy.spec.containers[0].image = "other"
    assert pod.spec.containers[0].image == "i"


def test_field_spellings_match_kubernetes() -> None:
    pod = core.Pod(
        status=core.PodStatus(pod_ip="10.0.0.1", pod_ips=[core.PodIP(ip="10.0.0.1")], host_ip="1.1.1.1",
                              qos_class="BestEffort"),
        spec=core.PodSpec(containers=[core.Container(name="c", ports=[core.ContainerPort(container_port=80, host_ip="0.0.0.0")])]),
    )
    doc = json.loads(codec.encode(pod))
    assert set(doc["status"]) == {"podIP", "podIPs", "hostIP", "qosClass"}
    assert "hostIP" in doc["spec"]["containers"][0]["ports"][0]
    node = json.loads(codec.encode(core.Node(spec=core.NodeSpec(pod_cidr="10.244.1.0/24", pod_cidrs=["10.244.1.0/24"], provider_id="x"))))
    assert set(node["spec"]) == {"podCIDR", "podCIDRs", "providerID"}
    assert node["status"]["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 0}}
    assert "machineID" in node["status"]["nodeInfo"]
    svc = json.loads(codec.encode(core.Service(spec=core.ServiceSpec(cluster_ip="10.96.0.1", cluster_ips=["10.96.0.1"]))))
    assert set(svc["spec"]) == {"clusterIP", "clusterIPs"}
    assert json.loads(codec.encode(meta.ListMeta(continue_="x"))) == {"continue": "x"}
