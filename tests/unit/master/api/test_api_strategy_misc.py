"""Namespaces, nodes, services, config maps, secrets, events, leases, endpoints."""

import base64
from typing import Any

import pytest

from master.api import codec, core
from master.api.registry import DEFAULT


def res(plural: str) -> Any:
    r = DEFAULT.lookup(plural)
    assert r is not None
    return r


def make(plural: str, doc: dict[str, Any], namespace: str | None = "default") -> Any:
    r = res(plural)
    meta = {"name": "x", **({"namespace": namespace} if namespace and r.namespaced else {}), **doc.pop("metadata", {})}
    return r.strategy.default(codec.convert({"metadata": meta, **doc}, r.type))


def errs(plural: str, obj: Any) -> list[str]:
    return [e.field for e in res(plural).strategy.validate(obj)]


def update_errs(plural: str, new: Any, old: Any) -> list[str]:
    s = res(plural).strategy
    s.prepare_for_update(new, old)
    return [str(e) for e in s.validate_update(new, old)]


# Namespaces


def test_namespace_create() -> None:
    ns = make("namespaces", {"metadata": {"name": "team-a"}})
    res("namespaces").strategy.prepare_for_create(ns)
    assert ns.spec.finalizers == ["kubernetes"]
    assert ns.status.phase == "Active"
    assert ns.metadata.labels == {"kubernetes.io/metadata.name": "team-a"}
    assert errs("namespaces", ns) == []


@pytest.mark.parametrize(("name", "ok"), [pytest.param("a.b", False, id="dot"), pytest.param("ab", True, id="ok")])
def test_namespace_names_are_labels(name: str, ok: bool) -> None:
    assert (errs("namespaces", make("namespaces", {"metadata": {"name": name}})) == []) is ok


def test_namespace_is_cluster_scoped() -> None:
    ns = make("namespaces", {"metadata": {"namespace": "default"}})
    assert errs("namespaces", ns) == ["metadata.namespace"]


def test_namespace_finalize() -> None:
    s = res("namespaces").strategy
    old = make("namespaces", {})
    s.prepare_for_create(old)
    new = codec.clone(old)
    new.spec.finalizers = []
    new.metadata.labels = {"changed": "x"}
    s.finalize(new, old)
    assert new.spec.finalizers == [] and new.metadata == old.metadata


# Nodes


def test_node_create_keeps_status_and_syncs_cidrs() -> None:
    node = make("nodes", {"spec": {"podCIDR": "10.244.1.0/24"},
                          "status": {"capacity": {"cpu": "4", "memory": "8062784Ki"}, "conditions": [{"type": "Ready", "status": "True"}]}},
                namespace=None)
    res("nodes").strategy.prepare_for_create(node)
    assert node.spec.pod_cidrs == ["10.244.1.0/24"]
    assert node.status.conditions[0].type == "Ready"
    assert node.status.allocatable == node.status.capacity
    assert errs("nodes", node) == []


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        pytest.param({"spec": {"podCIDRs": ["10.244.1.0/33"]}}, "spec.podCIDRs[0]", id="cidr"),
        pytest.param({"spec": {"taints": [{"key": "k", "effect": "Sometimes"}]}}, "spec.taints[0].effect", id="effect"),
        pytest.param({"spec": {"taints": [{"key": "", "effect": "NoSchedule"}]}}, "spec.taints[0].key", id="key"),
        pytest.param({"spec": {"taints": [{"key": "k", "effect": "NoSchedule"}, {"key": "k", "effect": "NoSchedule"}]}},
                     "spec.taints[1]", id="duplicate-taint"),
        pytest.param({"status": {"capacity": {"cpu": "x"}}}, "status.capacity[cpu]", id="capacity"),
        pytest.param({"status": {"addresses": [{"type": "Weird", "address": "1.2.3.4"}]}}, "status.addresses[0].type",
                     id="address-type"),
    ],
)
def test_node_validation(doc: dict[str, Any], field: str) -> None:
    assert field in errs("nodes", make("nodes", doc, namespace=None))


def test_node_pod_cidr_is_set_once() -> None:
    old = make("nodes", {"spec": {"podCIDR": "10.244.1.0/24"}}, namespace=None)
    new = codec.clone(old)
    new.spec.pod_cidr, new.spec.pod_cidrs = "10.244.2.0/24", ["10.244.2.0/24"]
    assert any("spec.podCIDRs: Forbidden" in e for e in update_errs("nodes", new, old))
    unset = make("nodes", {}, namespace=None)
    first = codec.clone(unset)
    first.spec.pod_cidr, first.spec.pod_cidrs = "10.244.2.0/24", ["10.244.2.0/24"]
    assert update_errs("nodes", first, unset) == []


def test_node_field_attrs() -> None:
    node = make("nodes", {"spec": {"unschedulable": True}}, namespace=None)
    assert res("nodes").strategy.field_attrs(node) == {"metadata.name": "x", "spec.unschedulable": "true"}


# Services


def test_service_defaults() -> None:
    svc = make("services", {"spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    s = svc.spec
    assert (s.type, s.session_affinity, s.internal_traffic_policy, s.ip_family_policy) == (
        "ClusterIP", "None", "Cluster", "SingleStack")
    assert s.ip_families == ["IPv4"]
    assert (s.ports[0].protocol, s.ports[0].target_port) == ("TCP", 80)
    assert errs("services", svc) == []
    np = make("services", {"spec": {"type": "NodePort", "ports": [{"port": 80, "targetPort": "http"}],
                                    "sessionAffinity": "ClientIP"}})
    assert np.spec.external_traffic_policy == "Cluster"
    assert np.spec.ports[0].target_port == "http"
    assert np.spec.session_affinity_config.client_ip.timeout_seconds == 10800
    assert errs("services", np) == []


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        pytest.param({"ports": []}, "spec.ports", id="ports-required"),
        pytest.param({"ports": [{"port": 0}]}, "spec.ports[0].port", id="port-range"),
        pytest.param({"ports": [{"port": 80}, {"port": 81}]}, "spec.ports[0].name", id="names-required"),
        pytest.param({"ports": [{"port": 80, "name": "a"}, {"port": 81, "name": "a"}]}, "spec.ports[1].name", id="dup-name"),
        pytest.param({"ports": [{"port": 80, "targetPort": 70000}]}, "spec.ports[0].targetPort", id="target-port"),
        pytest.param({"ports": [{"port": 80, "nodePort": 30001}]}, "spec.ports[0].nodePort", id="node-port-on-cluster-ip"),
        pytest.param({"ports": [{"port": 80, "protocol": "ICMP"}]}, "spec.ports[0].protocol", id="protocol"),
        pytest.param({"type": "Magic", "ports": [{"port": 80}]}, "spec.type", id="type"),
        pytest.param({"type": "ExternalName"}, "spec.externalName", id="external-name-required"),
        pytest.param({"clusterIP": "10.96.0.300", "ports": [{"port": 80}]}, "spec.clusterIP", id="cluster-ip"),
        pytest.param({"ports": [{"port": 80}], "externalTrafficPolicy": "Local"}, "spec.externalTrafficPolicy",
                     id="etp-on-cluster-ip"),
        pytest.param({"ports": [{"port": 80}], "ipFamilies": ["IPv6"]}, "spec.ipFamilies[0]", id="ipv6"),
        pytest.param({"ports": [{"port": 80}], "sessionAffinity": "Sticky"}, "spec.sessionAffinity", id="affinity"),
    ],
)
def test_service_validation(spec: dict[str, Any], field: str) -> None:
    assert field in errs("services", make("services", {"spec": spec}))


def test_service_name_is_dns1035() -> None:
    assert errs("services", make("services", {"metadata": {"name": "1web"}, "spec": {"ports": [{"port": 80}]}})) == [
        "metadata.name"]


def test_headless_and_external_name_services() -> None:
    assert errs("services", make("services", {"spec": {"clusterIP": "None", "selector": {"a": "b"}}})) == []
    assert errs("services", make("services", {"spec": {"type": "ExternalName", "externalName": "db.example.com"}})) == []


def test_service_update_keeps_allocated_ip_and_node_ports() -> None:
    old = make("services", {"spec": {"type": "NodePort", "clusterIP": "10.96.0.10", "ports": [{"port": 80, "nodePort": 30080}]}})
    new = make("services", {"spec": {"type": "NodePort", "ports": [{"port": 80}]}})
    assert update_errs("services", new, old) == []
    assert new.spec.cluster_ip == "10.96.0.10" and new.spec.cluster_ips == ["10.96.0.10"]
    assert new.spec.ports[0].node_port == 30080
    changed = make("services", {"spec": {"clusterIP": "10.96.0.11", "ports": [{"port": 80}]}})
    assert any("may not change once set" in e for e in update_errs("services", changed, old))


# ConfigMaps and Secrets


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        pytest.param({"data": {"a/b": "x"}}, "data", id="bad-key"),
        pytest.param({"data": {"k": "x"}, "binaryData": {"k": "eA=="}}, "data", id="dup-key"),
        pytest.param({"binaryData": {"k": "not base64!"}}, "binaryData[k]", id="binary-not-base64"),
        pytest.param({"data": {"k": "x" * (1024 * 1024 + 1)}}, "", id="too-big"),
    ],
)
def test_configmap_validation(doc: dict[str, Any], field: str) -> None:
    assert field in errs("configmaps", make("configmaps", doc))


def test_immutable_configmap() -> None:
    old = make("configmaps", {"data": {"a": "1"}, "immutable": True})
    new = make("configmaps", {"data": {"a": "2"}, "immutable": True})
    assert any(e.startswith("data: Forbidden") for e in update_errs("configmaps", new, old))


def test_secret_string_data_and_type() -> None:
    sec = make("secrets", {"stringData": {"password": "hunter2"}, "data": {"user": base64.b64encode(b"me").decode()}})
    assert sec.type == "Opaque"
    assert sec.string_data == {}
    assert base64.b64decode(sec.data["password"]) == b"hunter2"
    assert errs("secrets", sec) == []
    assert "data[k]" in errs("secrets", make("secrets", {"data": {"k": "%%%"}}))
    tls = make("secrets", {"type": "kubernetes.io/tls", "data": {}})
    assert errs("secrets", tls) == ["data[tls.crt]", "data[tls.key]"]
    changed = codec.clone(sec)
    changed.type = "kubernetes.io/tls"
    assert any(e.startswith("type: Invalid value") for e in update_errs("secrets", changed, sec))
    assert res("secrets").strategy.field_attrs(sec)["type"] == "Opaque"


# Events, leases, endpoints


def test_event_field_attrs_and_validation() -> None:
    ev = make("events", {"involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"}, "reason": "Started",
                         "type": "Normal", "source": {"component": "kubelet"}})
    attrs = res("events").strategy.field_attrs(ev)
    assert attrs["involvedObject.kind"] == "Pod" and attrs["source"] == "kubelet"
    assert set(attrs) == set(res("events").strategy.field_selector_keys)
    assert errs("events", ev) == []
    bad = make("events", {"involvedObject": {"namespace": "other"}, "type": "Info"})
    assert errs("events", bad) == ["involvedObject.namespace", "type"]


def test_lease_validation() -> None:
    good = make("leases", {"spec": {"holderIdentity": "pi-1", "leaseDurationSeconds": 40,
                                    "renewTime": "2026-11-27T04:34:00.000000Z"}})
    assert errs("leases", good) == []
    bad = make("leases", {"spec": {"leaseDurationSeconds": 0}})
    assert errs("leases", bad) == ["spec.leaseDurationSeconds"]
    with pytest.raises(codec.DecodeError, match=r"spec\.renewTime"):  # a MicroTime: a decode error, as in Go
        make("leases", {"spec": {"renewTime": "yesterday"}})
    assert res("leases").strategy.allow_create_on_update


def test_endpoints_and_slices() -> None:
    ep = make("endpoints", {"subsets": [{"addresses": [{"ip": "10.244.1.5"}], "ports": [{"port": 80}]}]})
    assert ep.subsets[0].ports[0].protocol == "TCP"
    assert errs("endpoints", ep) == []
    bad = make("endpoints", {"subsets": [{"addresses": [{"ip": "nope"}]}]})
    assert errs("endpoints", bad) == ["subsets[0].addresses[0].ip", "subsets[0].ports"]
    sl = make("endpointslices", {"addressType": "IPv4", "endpoints": [{"addresses": ["10.244.1.5"]}],
                                 "ports": [{"port": 80}]})
    assert sl.ports[0].protocol == "TCP"
    assert errs("endpointslices", sl) == []
    assert "addressType" in errs("endpointslices", make("endpointslices", {}))
    moved = codec.clone(sl)
    moved.address_type = "IPv6"
    assert any(e.startswith("addressType: Invalid value") for e in update_errs("endpointslices", moved, sl))


def test_service_account_and_binding_types_decode() -> None:
    sa = make("serviceaccounts", {"secrets": [{"name": "tok"}], "automountServiceAccountToken": False})
    assert sa.automount_service_account_token is False and errs("serviceaccounts", sa) == []
    b = codec.decode(b'{"metadata":{"name":"p"},"target":{"kind":"Node","name":"pi-1"}}', core.Binding)
    assert b.kind == "Binding" and b.target.name == "pi-1"
