import json

import pytest

from master.api import codec, core
from master.api.registry import DEFAULT, Registry, Resource, default_registry
from master.api.strategy.base import Strategy


@pytest.mark.parametrize(
    ("name", "kind", "group"),
    [
        pytest.param("po", "Pod", "", id="short"),
        pytest.param("pod", "Pod", "", id="singular"),
        pytest.param("pods", "Pod", "", id="plural"),
        pytest.param("Pod", "Pod", "", id="kind"),
        pytest.param("deploy", "Deployment", "apps", id="deploy"),
        pytest.param("deployments.apps", "Deployment", "apps", id="qualified"),
        pytest.param("rs", "ReplicaSet", "apps", id="rs"),
        pytest.param("ds", "DaemonSet", "apps", id="ds"),
        pytest.param("svc", "Service", "", id="svc"),
        pytest.param("ep", "Endpoints", "", id="ep"),
        pytest.param("cm", "ConfigMap", "", id="cm"),
        pytest.param("sa", "ServiceAccount", "", id="sa"),
        pytest.param("ns", "Namespace", "", id="ns"),
        pytest.param("no", "Node", "", id="no"),
        pytest.param("ev", "Event", "", id="ev"),
        pytest.param("events", "Event", "", id="events-core-wins"),
        pytest.param("lease", "Lease", "coordination.k8s.io", id="lease"),
        pytest.param("leases.coordination", "Lease", "coordination.k8s.io", id="group-prefix"),
        pytest.param("endpointslices", "EndpointSlice", "discovery.k8s.io", id="slices"),
        pytest.param("secrets", "Secret", "", id="secrets"),
    ],
)
def test_lookup(name: str, kind: str, group: str) -> None:
    r = DEFAULT.lookup(name)
    assert r is not None
    assert (r.kind, r.group) == (kind, group)


def test_lookup_misses() -> None:
    assert DEFAULT.lookup("nope") is None
    assert DEFAULT.lookup("pods.apps") is None


def test_indexes_agree() -> None:
    for r in DEFAULT.all():
        assert DEFAULT.get(r.group, r.version, r.plural) is r
        assert DEFAULT.by_kind(r.api_version, r.kind) is r
        empty = codec.convert({}, r.type)
        assert (empty.api_version, empty.kind) == (r.api_version, r.kind)
        assert r.strategy.namespaced == r.namespaced, r.plural
        assert r.list_kind == r.kind + "List"


def test_names_and_subresources() -> None:
    deploy = DEFAULT.lookup("deployments")
    assert deploy is not None
    assert (deploy.api_version, deploy.group_resource, deploy.qualified_kind) == ("apps/v1", "deployments.apps", "Deployment.apps")
    scale = deploy.subresource("scale")
    assert scale is not None and scale.api_version == "autoscaling/v1"
    pods = DEFAULT.lookup("pods")
    assert pods is not None
    assert [s.name for s in pods.subresources] == ["status", "binding", "eviction", "log"]
    assert pods.subresource("exec") is None
    assert [r.plural for r in DEFAULT.by_category("all")] == ["pods", "services", "deployments", "replicasets", "daemonsets"]


def test_discovery_documents() -> None:
    core_list = DEFAULT.api_resource_list("", "v1")
    assert core_list is not None
    doc = json.loads(codec.encode(core_list))
    assert doc["kind"] == "APIResourceList" and doc["groupVersion"] == "v1"
    pods = next(r for r in doc["resources"] if r["name"] == "pods")
    assert pods["shortNames"] == ["po"] and pods["namespaced"] is True and "watch" in pods["verbs"]
    eviction = next(r for r in doc["resources"] if r["name"] == "pods/eviction")
    assert (eviction["group"], eviction["version"], eviction["kind"]) == ("policy", "v1", "Eviction")
    assert DEFAULT.api_resource_list("apps", "v2") is None
    groups = DEFAULT.api_group_list()
    assert [g.name for g in groups.groups] == ["apps", "coordination.k8s.io", "discovery.k8s.io",
                                               "rbac.authorization.k8s.io", "certificates.k8s.io"]
    apps_group = DEFAULT.api_group("apps")
    assert apps_group is not None and apps_group.preferred_version is not None
    assert apps_group.preferred_version.group_version == "apps/v1"
    assert DEFAULT.api_group("") is None


def test_adding_a_resource_is_one_entry() -> None:
    class Widget(core.ConfigMap, kw_only=True):
        API_VERSION = "example.com/v1"
        KIND = "Widget"

    reg = default_registry()
    reg.add(Resource(group="example.com", version="v1", kind="Widget", plural="widgets", singular="widget",
                     namespaced=True, type=Widget, strategy=Strategy(), short_names=("wd",)))
    r = reg.lookup("wd")
    assert r is not None and r.type is Widget
    assert ("example.com", "v1") in reg.group_versions()
    with pytest.raises(ValueError, match="registered twice"):
        reg.add(r)
    assert DEFAULT.lookup("wd") is None
    assert isinstance(Registry.of([]), Registry)
