import msgspec
import pytest

from master.api import codec, core, meta
from master.api.core import Container, Pod, PodSpec
from master.api.registry import DEFAULT
from master.api.strategy.pod import apply_binding, qos_class

POD = DEFAULT.lookup("pods")
assert POD is not None
S = POD.strategy


def make_pod(**spec_fields: object) -> Pod:
    base = {
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}], **spec_fields},
    }
    pod = codec.convert(base, Pod)
    return S.default(pod)  # type: ignore[no-any-return]


def errors_of(pod: Pod) -> list[str]:
    return [str(e) for e in S.validate(pod)]


def fields_of(pod: Pod) -> list[str]:
    return [e.field for e in S.validate(pod)]


def test_defaults_match_the_real_apiserver() -> None:
    pod = make_pod(
        containers=[
            {
                "name": "web",
                "image": "nginx",
                "ports": [{"containerPort": 80}],
                "readinessProbe": {"httpGet": {"port": 80}},
                "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                "resources": {"limits": {"cpu": 1, "memory": "128Mi"}},
            }
        ],
        volumes=[{"name": "cfg", "configMap": {"name": "c"}}, {"name": "scratch"}],
    )
    s = pod.spec
    c = s.containers[0]
    assert (s.restart_policy, s.dns_policy, s.termination_grace_period_seconds, s.scheduler_name) == (
        "Always", "ClusterFirst", 30, "default-scheduler")
    assert s.enable_service_links is True
    assert (c.image_pull_policy, c.termination_message_path, c.termination_message_policy) == (
        "Always", "/dev/termination-log", "File")
    assert c.ports[0].protocol == "TCP"
    p = c.readiness_probe
    assert p is not None and p.http_get is not None
    assert (p.timeout_seconds, p.period_seconds, p.success_threshold, p.failure_threshold) == (1, 10, 1, 3)
    assert (p.http_get.path, p.http_get.scheme) == ("/", "HTTP")
    assert c.env[0].value_from is not None and c.env[0].value_from.field_ref is not None
    assert c.env[0].value_from.field_ref.api_version == "v1"
    assert c.resources.requests == {"cpu": "1", "memory": "128Mi"}
    assert s.volumes[0].config_map is not None and s.volumes[0].config_map.default_mode == 0o644
    assert s.volumes[1].empty_dir is not None
    assert S.validate(pod) == []


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        pytest.param("nginx", "Always", id="untagged"),
        pytest.param("nginx:latest", "Always", id="latest"),
        pytest.param("nginx:1.25", "IfNotPresent", id="tagged"),
        pytest.param("registry:5000/nginx", "Always", id="registry-port-untagged"),
        pytest.param("registry:5000/nginx:1", "IfNotPresent", id="registry-port-tagged"),
        pytest.param("nginx@sha256:abc", "IfNotPresent", id="digest"),
    ],
)
def test_image_pull_policy_default(image: str, policy: str) -> None:
    assert make_pod(containers=[{"name": "c", "image": image}]).spec.containers[0].image_pull_policy == policy


def test_host_network_ports_get_host_ports() -> None:
    pod = make_pod(hostNetwork=True, containers=[{"name": "c", "image": "i", "ports": [{"containerPort": 8080}]}])
    assert pod.spec.containers[0].ports[0].host_port == 8080


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        pytest.param({"containers": []}, "spec.containers", id="no-containers"),
        pytest.param({"containers": [{"name": "c"}]}, "spec.containers[0].image", id="no-image"),
        pytest.param({"containers": [{"image": "i"}]}, "spec.containers[0].name", id="no-name"),
        pytest.param({"containers": [{"name": "C_1", "image": "i"}]}, "spec.containers[0].name", id="bad-name"),
        pytest.param({"containers": [{"name": "a", "image": "i"}, {"name": "a", "image": "i"}]},
                     "spec.containers[1].name", id="duplicate-name"),
        pytest.param({"initContainers": [{"name": "a", "image": "i"}], "containers": [{"name": "a", "image": "i"}]},
                     "spec.containers[0].name", id="duplicate-across-init"),
        pytest.param({"restartPolicy": "Sometimes"}, "spec.restartPolicy", id="restart-policy"),
        pytest.param({"dnsPolicy": "Weird"}, "spec.dnsPolicy", id="dns-policy"),
        pytest.param({"activeDeadlineSeconds": 0}, "spec.activeDeadlineSeconds", id="deadline"),
        pytest.param({"terminationGracePeriodSeconds": -1}, "spec.terminationGracePeriodSeconds", id="grace"),
        pytest.param({"nodeSelector": {"bad key": "x"}}, "spec.nodeSelector", id="node-selector"),
        pytest.param({"nodeName": "Bad_Node"}, "spec.nodeName", id="node-name"),
        pytest.param({"hostname": "a.b"}, "spec.hostname", id="hostname"),
        pytest.param({"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 70000}]}]},
                     "spec.containers[0].ports[0].containerPort", id="port-range"),
        pytest.param({"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80, "protocol": "ICMP"}]}]},
                     "spec.containers[0].ports[0].protocol", id="port-protocol"),
        pytest.param({"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80, "name": "http"},
                                                                          {"containerPort": 81, "name": "http"}]}]},
                     "spec.containers[0].ports[1].name", id="port-name-duplicate"),
        pytest.param({"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80, "name": "HTTP"}]}]},
                     "spec.containers[0].ports[0].name", id="port-name-syntax"),
        pytest.param({"containers": [{"name": "c", "image": "i", "imagePullPolicy": "Sometimes"}]},
                     "spec.containers[0].imagePullPolicy", id="pull-policy"),
        pytest.param({"containers": [{"name": "c", "image": "i", "env": [{"name": "1X"}]}]},
                     "spec.containers[0].env[0].name", id="env-name"),
        pytest.param({"containers": [{"name": "c", "image": "i", "env": [{"name": "X", "value": "v",
                                                                          "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}]},
                     "spec.containers[0].env[0].valueFrom", id="env-value-and-from"),
        pytest.param({"containers": [{"name": "c", "image": "i", "env": [{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "spec.bogus"}}}]}]},
                     "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath", id="env-field-path"),
        pytest.param({"containers": [{"name": "c", "image": "i", "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "m", "key": "a/b"}}}]}]},
                     "spec.containers[0].env[0].valueFrom.configMapKeyRef.key", id="env-cm-key"),
        pytest.param({"containers": [{"name": "c", "image": "i", "envFrom": [{}]}]},
                     "spec.containers[0].envFrom[0]", id="env-from-empty"),
        pytest.param({"containers": [{"name": "c", "image": "i", "volumeMounts": [{"name": "v", "mountPath": "/x"}]}]},
                     "spec.containers[0].volumeMounts[0].name", id="mount-unknown-volume"),
        pytest.param({"volumes": [{"name": "v", "emptyDir": {}}],
                      "containers": [{"name": "c", "image": "i", "volumeMounts": [{"name": "v", "mountPath": "/x"},
                                                                                  {"name": "v", "mountPath": "/x"}]}]},
                     "spec.containers[0].volumeMounts[1].mountPath", id="mount-path-unique"),
        pytest.param({"volumes": [{"name": "v", "emptyDir": {}}, {"name": "v", "emptyDir": {}}]},
                     "spec.volumes[1].name", id="volume-duplicate"),
        pytest.param({"volumes": [{"name": "v", "emptyDir": {}, "hostPath": {"path": "/x"}}]},
                     "spec.volumes[0]", id="volume-two-sources"),
        pytest.param({"volumes": [{"name": "v", "hostPath": {"path": "/x", "type": "Weird"}}]},
                     "spec.volumes[0].hostPath.type", id="hostpath-type"),
        pytest.param({"volumes": [{"name": "v", "configMap": {"name": "c", "items": [{"key": "k", "path": "../x"}]}}]},
                     "spec.volumes[0].configMap.items[0].path", id="item-path-dotdot"),
        pytest.param({"volumes": [{"name": "v", "secret": {"secretName": "s", "defaultMode": 4096}}]},
                     "spec.volumes[0].secret.defaultMode", id="mode"),
        pytest.param({"volumes": [{"name": "v", "secret": {}}]}, "spec.volumes[0].secret.secretName", id="secret-name"),
        pytest.param({"containers": [{"name": "c", "image": "i", "resources": {"limits": {"cpu": "lots"}}}]},
                     "spec.containers[0].resources.limits[cpu]", id="quantity-syntax"),
        pytest.param({"containers": [{"name": "c", "image": "i", "resources": {"requests": {"memory": "-1"}}}]},
                     "spec.containers[0].resources.requests[memory]", id="quantity-negative"),
        pytest.param({"containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}]},
                     "spec.containers[0].resources.requests[cpu]", id="request-over-limit"),
        pytest.param({"containers": [{"name": "c", "image": "i", "resources": {"limits": {"gpu": "1"}}}]},
                     "spec.containers[0].resources.limits[gpu]", id="resource-name"),
        pytest.param({"containers": [{"name": "c", "image": "i", "livenessProbe": {"periodSeconds": 5}}]},
                     "spec.containers[0].livenessProbe", id="probe-no-handler"),
        pytest.param({"containers": [{"name": "c", "image": "i", "livenessProbe": {"exec": {"command": ["true"]},
                                                                                   "tcpSocket": {"port": 80}}}]},
                     "spec.containers[0].livenessProbe.tcpSocket", id="probe-two-handlers"),
        pytest.param({"containers": [{"name": "c", "image": "i", "livenessProbe": {"exec": {"command": ["true"]},
                                                                                   "successThreshold": 2}}]},
                     "spec.containers[0].livenessProbe.successThreshold", id="liveness-success-1"),
        pytest.param({"containers": [{"name": "c", "image": "i", "readinessProbe": {"httpGet": {"port": 0}}}]},
                     "spec.containers[0].readinessProbe.httpGet.port", id="probe-port"),
        pytest.param({"containers": [{"name": "c", "image": "i", "readinessProbe": {"tcpSocket": {"port": "HTTP"}}}]},
                     "spec.containers[0].readinessProbe.tcpSocket.port", id="probe-named-port"),
        pytest.param({"initContainers": [{"name": "i", "image": "i", "readinessProbe": {"exec": {"command": ["x"]}}}]},
                     "spec.initContainers[0].readinessProbe", id="init-probe"),
        pytest.param({"tolerations": [{"key": "k", "operator": "Exists", "value": "v"}]},
                     "spec.tolerations[0].operator", id="toleration-exists-value"),
        pytest.param({"tolerations": [{"operator": "Equal", "value": "v"}]}, "spec.tolerations[0].operator",
                     id="toleration-empty-key"),
        pytest.param({"tolerations": [{"key": "k", "effect": "NoSchedule", "tolerationSeconds": 5}]},
                     "spec.tolerations[0].effect", id="toleration-seconds-effect"),
        pytest.param({"tolerations": [{"key": "k", "effect": "Sometimes"}]}, "spec.tolerations[0].effect",
                     id="toleration-effect"),
        pytest.param({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}},
                     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
                     id="affinity-no-terms"),
        pytest.param({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "zone", "operator": "In"}]}]}}}},
                     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values",
                     id="affinity-in-values"),
        pytest.param({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 0, "preference": {}}]}}},
                     "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight", id="affinity-weight"),
        pytest.param({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": ""}]}}},
                     "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey",
                     id="pod-affinity-topology-key"),
        pytest.param({"topologySpreadConstraints": [{"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]},
                     "spec.topologySpreadConstraints[0].maxSkew", id="spread-skew"),
        pytest.param({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "Maybe"}]},
                     "spec.topologySpreadConstraints[0].whenUnsatisfiable", id="spread-when"),
        pytest.param({"dnsPolicy": "None"}, "spec.dnsConfig", id="dns-none-needs-config"),
    ],
)
def test_validation_rules(spec: dict[str, object], field: str) -> None:
    pod = make_pod(**spec)
    assert field in fields_of(pod), errors_of(pod)


@pytest.mark.parametrize(
    ("meta_fields", "field"),
    [
        pytest.param({"name": "Web"}, "metadata.name", id="name-syntax"),
        pytest.param({"name": ""}, "metadata.name", id="name-required"),
        pytest.param({"name": "", "generateName": "Web-"}, "metadata.generateName", id="generate-name"),
        pytest.param({"namespace": ""}, "metadata.namespace", id="namespace-required"),
        pytest.param({"namespace": "Bad_NS"}, "metadata.namespace", id="namespace-syntax"),
        pytest.param({"labels": {"app": "a b"}}, "metadata.labels[app]", id="label-value"),
        pytest.param({"annotations": {"bad key!": "x"}}, "metadata.annotations", id="annotation-key"),
        pytest.param({"finalizers": ["custom"]}, "metadata.finalizers[0]", id="finalizer-unqualified"),
        pytest.param({"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": ""}]},
                     "metadata.ownerReferences[0].uid", id="owner-uid"),
        pytest.param({"ownerReferences": [
            {"apiVersion": "v1", "kind": "A", "name": "a", "uid": "1", "controller": True},
            {"apiVersion": "v1", "kind": "B", "name": "b", "uid": "2", "controller": True}]},
                     "metadata.ownerReferences", id="two-controllers"),
    ],
)
def test_metadata_validation(meta_fields: dict[str, object], field: str) -> None:
    pod = make_pod()
    pod.metadata = codec.convert({"name": "web", "namespace": "default", **meta_fields}, meta.ObjectMeta)
    assert field in fields_of(pod), errors_of(pod)


def test_generate_name_alone_is_enough() -> None:
    pod = make_pod()
    pod.metadata = meta.ObjectMeta(generate_name="web-", namespace="default")
    assert S.validate(pod) == []


def test_create_resets_status_and_sets_generation() -> None:
    pod = make_pod()
    pod.status = core.PodStatus(phase="Running", pod_ip="10.0.0.1")
    pod.metadata.deletion_timestamp = "2026-01-01T00:00:00Z"
    S.prepare_for_create(pod)
    assert pod.status == core.PodStatus(phase="Pending", qos_class="BestEffort")
    assert pod.metadata.generation == 1
    assert pod.metadata.deletion_timestamp is None


def stored_pod() -> Pod:
    pod = make_pod(tolerations=[{"key": "a", "operator": "Exists"}], activeDeadlineSeconds=100)
    S.prepare_for_create(pod)
    pod.metadata.uid = "u1"
    pod.metadata.creation_timestamp = "2026-01-01T00:00:00Z"
    pod.metadata.resource_version = "5"
    pod.status = core.PodStatus(phase="Running", pod_ip="10.0.0.1")
    return pod


def update(new: Pod, old: Pod) -> list[str]:
    S.default(new)
    S.prepare_for_update(new, old)
    return [str(e) for e in S.validate_update(new, old)]


def test_update_keeps_status_uid_and_timestamps() -> None:
    old = stored_pod()
    new = codec.clone(old)
    new.status = core.PodStatus(phase="Failed")
    new.metadata.uid = ""
    new.metadata.creation_timestamp = None
    new.metadata.labels = {"x": "y"}
    assert update(new, old) == []
    assert new.status.phase == "Running"
    assert new.metadata.uid == "u1"
    assert new.metadata.creation_timestamp == "2026-01-01T00:00:00Z"
    assert new.metadata.generation == old.metadata.generation


@pytest.mark.parametrize(
    ("change", "ok"),
    [
        pytest.param(lambda s: setattr(s.containers[0], "image", "nginx:1.27"), True, id="image"),
        pytest.param(lambda s: setattr(s, "active_deadline_seconds", 50), True, id="deadline-shorter"),
        pytest.param(lambda s: setattr(s, "active_deadline_seconds", 500), False, id="deadline-longer"),
        pytest.param(lambda s: s.tolerations.append(core.Toleration(key="b", operator="Exists")), True,
                     id="toleration-added"),
        pytest.param(lambda s: s.tolerations.clear(), False, id="toleration-removed"),
        pytest.param(lambda s: setattr(s, "node_name", "pi-1"), False, id="node-name"),
        pytest.param(lambda s: s.containers.append(Container(name="x", image="y")), False, id="container-added"),
        pytest.param(lambda s: setattr(s.containers[0], "command", ["sh"]), False, id="command"),
        pytest.param(lambda s: setattr(s, "restart_policy", "Never"), False, id="restart-policy"),
    ],
)
def test_pod_spec_is_immutable_except_images_deadline_tolerations(change, ok: bool) -> None:  # type: ignore[no-untyped-def]
    old = stored_pod()
    new = codec.clone(old)
    change(new.spec)
    errs = update(new, old)
    assert (errs == []) is ok, errs
    if not ok and any(e.startswith("spec: Forbidden") for e in errs):
        assert "pod updates may not change fields other than `spec.containers[*].image`" in errs[-1]


def test_update_cannot_rename() -> None:
    old = stored_pod()
    new = codec.clone(old)
    new.metadata.name = "other"
    assert 'metadata.name: Invalid value: "other": field is immutable' in update(new, old)


def test_status_update_keeps_spec_and_metadata() -> None:
    old = stored_pod()
    new = codec.clone(old)
    new.spec.containers[0].image = "changed"
    new.metadata.labels = {"changed": "yes"}
    new.status = core.PodStatus(phase="Succeeded", pod_ip="10.0.0.2", pod_ips=[core.PodIP(ip="10.0.0.2")])
    S.prepare_for_status_update(new, old)
    assert S.validate_status_update(new, old) == []
    assert new.spec == old.spec
    assert new.metadata.labels == old.metadata.labels
    assert new.status.phase == "Succeeded"


@pytest.mark.parametrize(
    ("st", "field"),
    [
        pytest.param(core.PodStatus(phase="Sleeping"), "status.phase", id="phase"),
        pytest.param(core.PodStatus(pod_ip="x"), "status.podIP", id="pod-ip"),
        pytest.param(core.PodStatus(pod_ip="10.0.0.1", pod_ips=[core.PodIP(ip="10.0.0.2")]), "status.podIPs[0]",
                     id="pod-ips-first"),
        pytest.param(core.PodStatus(conditions=[core.PodCondition(type="Ready", status="Yes")]),
                     "status.conditions[0].status", id="condition-status"),
    ],
)
def test_status_validation(st: core.PodStatus, field: str) -> None:
    old = stored_pod()
    new = codec.clone(old)
    new.status = st
    assert field in [e.field for e in S.validate_status_update(new, old)]


@pytest.mark.parametrize(
    ("containers", "qos"),
    [
        pytest.param([{}], "BestEffort", id="best-effort"),
        pytest.param([{"requests": {"cpu": "100m"}}], "Burstable", id="burstable"),
        pytest.param([{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}],
                     "Guaranteed", id="guaranteed"),
        pytest.param([{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}}],
                     "Burstable", id="requests-below-limits"),
        pytest.param([{"limits": {"cpu": "1", "memory": "1Gi"}}, {}], "Burstable", id="one-of-two"),
    ],
)
def test_qos_class(containers: list[dict[str, dict[str, str]]], qos: str) -> None:
    spec = codec.convert({"containers": [{"name": f"c{i}", "image": "i", "resources": r} for i, r in enumerate(containers)]},
                         PodSpec)
    assert qos_class(spec) == qos


def test_binding() -> None:
    pod = stored_pod()
    binding = core.Binding(metadata=meta.ObjectMeta(name="web"), target=core.ObjectReference(kind="Node", name="pi-1"))
    bound = apply_binding(pod, binding, now="2026-01-01T00:00:01Z")
    assert isinstance(bound, Pod)
    assert bound.spec.node_name == "pi-1"
    assert bound.status.conditions[-1].type == "PodScheduled"
    assert pod.spec.node_name == ""
    again = apply_binding(bound, binding, now="2026-01-01T00:00:02Z")
    assert isinstance(again, meta.Status)
    assert again.code == 409
    assert again.message == 'Operation cannot be fulfilled on pods "web": pod web is already assigned to node "pi-1"'
    empty = apply_binding(pod, msgspec.structs.replace(binding, target=core.ObjectReference()), now="x")
    assert isinstance(empty, meta.Status) and empty.code == 422


def test_field_attrs() -> None:
    pod = stored_pod()
    attrs = S.field_attrs(pod)
    assert attrs["status.phase"] == "Running"
    assert attrs["spec.nodeName"] == ""
    assert attrs["spec.hostNetwork"] == "false"
    assert set(attrs) == set(S.field_selector_keys)
