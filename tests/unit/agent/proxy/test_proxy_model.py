"""Adapters from master.api objects to the proxy's inputs."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from agent.proxy.model import (
    EndpointInfo,
    EndpointPortInfo,
    ServicePortInfo,
    endpoint_slice_info,
    service_info,
)
from master.api.codec import convert, to_builtins
from master.api.core import Service
from master.api.discovery import EndpointSlice


def service(spec: dict[str, Any], name: str = "web") -> Service:
    return convert({"metadata": {"name": name, "namespace": "default"}, "spec": spec}, Service)


def endpoint_slice(body: dict[str, Any], labels: dict[str, str] | None = None, **meta: Any) -> EndpointSlice:
    metadata = {
        "name": "web-abc",
        "namespace": "default",
        "labels": labels if labels is not None else {"kubernetes.io/service-name": "web"},
    }
    metadata.update(meta)
    return convert({"metadata": metadata, "addressType": "IPv4", **body}, EndpointSlice)


@pytest.mark.parametrize(
    ("spec", "ports", "extra"),
    [
        pytest.param(
            {"clusterIP": "10.96.0.10", "ports": [{"port": 80}]},
            (ServicePortInfo("", "TCP", 80, 80),),
            {"type": "ClusterIP"},
            id="defaults-protocol-tcp-target-port-is-port",
        ),
        pytest.param(
            {"clusterIP": "10.96.0.10", "ports": [{"name": "http", "port": 80, "targetPort": "web"}]},
            (ServicePortInfo("http", "TCP", 80, "web"),),
            {},
            id="named-target-port",
        ),
        pytest.param(
            {"clusterIP": "10.96.0.10", "ports": [{"port": 53, "protocol": "UDP", "targetPort": "5353"}]},
            (ServicePortInfo("", "UDP", 53, 5353),),
            {},
            id="numeric-string-target-port",
        ),
        pytest.param(
            {
                "type": "NodePort",
                "clusterIP": "10.96.0.10",
                "externalTrafficPolicy": "Local",
                "ports": [{"port": 80, "nodePort": 30080}],
            },
            (ServicePortInfo("", "TCP", 80, 80, 30080),),
            {"type": "NodePort", "external_local": True},
            id="nodeport-local",
        ),
        pytest.param(
            {"clusterIP": "10.96.0.10", "ports": [{"port": 80, "nodePort": 30080}]},
            (ServicePortInfo("", "TCP", 80, 80, None),),
            {},
            id="node-port-ignored-for-cluster-ip",
        ),
        pytest.param(
            {
                "clusterIP": "10.96.0.10",
                "sessionAffinity": "ClientIP",
                "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 30}},
                "internalTrafficPolicy": "Local",
                "ports": [{"port": 80}],
            },
            (ServicePortInfo("", "TCP", 80, 80),),
            {"session_affinity": True, "affinity_timeout": 30, "internal_local": True},
            id="affinity-and-internal-local",
        ),
        pytest.param(
            {"clusterIP": "10.96.0.10", "sessionAffinity": "ClientIP", "ports": [{"port": 80}]},
            (ServicePortInfo("", "TCP", 80, 80),),
            {"session_affinity": True, "affinity_timeout": 10800},
            id="affinity-default-timeout",
        ),
        pytest.param(
            {"clusterIP": "10.96.0.10", "ports": [{"port": 80, "protocol": "ICMP"}, {"port": 0}]},
            (),
            {},
            id="unsupported-ports-dropped",
        ),
    ],
)
def test_service_info(spec, ports, extra):
    info = service_info(service(spec))
    assert info is not None
    assert info.key == "default/web"
    assert info.cluster_ip == "10.96.0.10"
    assert info.ports == ports
    for field, value in extra.items():
        assert getattr(info, field) == value


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param({"type": "ExternalName", "externalName": "example.org"}, id="external-name"),
        pytest.param({"clusterIP": "None", "ports": [{"port": 80}]}, id="headless"),
        pytest.param({"clusterIP": "fd00::10", "ports": [{"port": 80}]}, id="ipv6"),
        pytest.param({"ports": [{"port": 80}]}, id="no-cluster-ip-yet"),
    ],
)
def test_services_without_rules(spec):
    assert service_info(service(spec)) is None


def test_endpoint_slice_info():
    es = endpoint_slice(
        {
            "ports": [{"name": "http", "port": 8080}, {"name": "dns", "port": 53, "protocol": "UDP"}],
            "endpoints": [
                {"addresses": ["10.244.1.5", "10.244.1.99"], "nodeName": "pi-1"},
                {
                    "addresses": ["10.244.2.5"],
                    "conditions": {"ready": False, "serving": True, "terminating": True},
                },
                {"addresses": ["bogus"]},
                {"addresses": []},
            ],
        },
        annotations={"endpoints.kubernetes.io/last-change-trigger-time": "2026-11-27T04:34:00Z"},
    )
    info = endpoint_slice_info(es)
    assert info is not None
    ports = (EndpointPortInfo("http", 8080, "TCP"), EndpointPortInfo("dns", 53, "UDP"))
    assert info.service_key == "default/web"
    assert info.endpoints == (
        EndpointInfo("10.244.1.5", ports, ready=True, serving=True, terminating=False, node_name="pi-1"),
        EndpointInfo("10.244.2.5", ports, ready=False, serving=True, terminating=True),
    )
    assert info.trigger_time == datetime.datetime(2026, 11, 27, 4, 34, tzinfo=datetime.UTC).timestamp()


@pytest.mark.parametrize(
    ("labels", "address_type"),
    [pytest.param({}, "IPv4", id="no-service-label"), pytest.param(None, "IPv6", id="ipv6")],
)
def test_slices_without_rules(labels, address_type):
    es = endpoint_slice({"endpoints": []}, labels=labels)
    es = convert({**to_builtins(es), "addressType": address_type}, EndpointSlice)
    assert endpoint_slice_info(es) is None


def test_bad_trigger_time_is_ignored():
    es = endpoint_slice(
        {"endpoints": []}, annotations={"endpoints.kubernetes.io/last-change-trigger-time": "yesterday"}
    )
    info = endpoint_slice_info(es)
    assert info is not None and info.trigger_time is None
