from typing import Any

import pytest

from master.api import apps, codec
from master.api.registry import DEFAULT


def _res(plural: str):  # type: ignore[no-untyped-def]
    r = DEFAULT.lookup(plural)
    assert r is not None
    return r


DEPLOY = _res("deployments")
RS = _res("replicasets")
DS = _res("daemonsets")

TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}


def workload(resource: Any, **spec: Any) -> Any:
    doc = {
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE, **spec},
    }
    return resource.strategy.default(codec.convert(doc, resource.type))


def fields(resource: Any, obj: Any) -> list[str]:
    return [e.field for e in resource.strategy.validate(obj)]


def test_deployment_defaults() -> None:
    d = workload(DEPLOY)
    s = d.spec
    assert s.replicas == 1
    assert s.strategy.type == "RollingUpdate"
    assert s.strategy.rolling_update == apps.RollingUpdateDeployment(max_unavailable="25%", max_surge="25%")
    assert (s.revision_history_limit, s.progress_deadline_seconds) == (10, 600)
    assert s.template.spec.restart_policy == "Always"
    assert s.template.spec.containers[0].image_pull_policy == "IfNotPresent"
    assert DEPLOY.strategy.validate(d) == []


def test_replicaset_and_daemonset_defaults() -> None:
    rs = workload(RS)
    assert rs.spec.replicas == 1 and RS.strategy.validate(rs) == []
    ds = workload(DS)
    us = ds.spec.update_strategy
    assert us.type == "RollingUpdate"
    assert us.rolling_update == apps.RollingUpdateDaemonSet(max_unavailable=1, max_surge=0)
    assert ds.spec.revision_history_limit == 10
    assert DS.strategy.validate(ds) == []


def test_explicit_values_are_kept() -> None:
    d = workload(DEPLOY, replicas=0, strategy={"type": "Recreate"})
    assert d.spec.replicas == 0
    assert d.spec.strategy.rolling_update is None
    assert DEPLOY.strategy.validate(d) == []


@pytest.mark.parametrize(
    ("resource", "spec", "field"),
    [
        pytest.param(DEPLOY, {"replicas": -1}, "spec.replicas", id="negative-replicas"),
        pytest.param(DEPLOY, {"selector": {}}, "spec.selector", id="empty-selector"),
        pytest.param(DEPLOY, {"selector": {"matchLabels": {"app": "api"}}}, "spec.template.metadata.labels",
                     id="selector-mismatch"),
        pytest.param(DEPLOY, {"template": {**TEMPLATE, "spec": {**TEMPLATE["spec"], "restartPolicy": "Never"}}},
                     "spec.template.spec.restartPolicy", id="restart-never"),
        pytest.param(DEPLOY, {"template": {"metadata": TEMPLATE["metadata"], "spec": {"containers": [{"name": "web"}]}}},
                     "spec.template.spec.containers[0].image", id="template-validated"),
        pytest.param(DEPLOY, {"strategy": {"type": "Sideways"}}, "spec.strategy.type", id="strategy-type"),
        pytest.param(DEPLOY, {"strategy": {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}},
                     "spec.strategy.rollingUpdate", id="recreate-with-rolling"),
        pytest.param(DEPLOY, {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}},
                     "spec.strategy.rollingUpdate.maxUnavailable", id="both-zero"),
        pytest.param(DEPLOY, {"strategy": {"rollingUpdate": {"maxSurge": "120%"}}},
                     "spec.strategy.rollingUpdate.maxSurge", id="percent-over-100"),
        pytest.param(DEPLOY, {"strategy": {"rollingUpdate": {"maxSurge": "lots"}}},
                     "spec.strategy.rollingUpdate.maxSurge", id="bad-percent"),
        pytest.param(DEPLOY, {"strategy": {"rollingUpdate": {"maxSurge": "9" * 5000 + "%"}}},
                     "spec.strategy.rollingUpdate.maxSurge", id="huge-percent"),
        pytest.param(DEPLOY, {"minReadySeconds": 700}, "spec.progressDeadlineSeconds", id="deadline-vs-min-ready"),
        pytest.param(DEPLOY, {"revisionHistoryLimit": -1}, "spec.revisionHistoryLimit", id="history"),
        pytest.param(RS, {"selector": {"matchExpressions": [{"key": "app", "operator": "In"}]}},
                     "spec.selector.matchExpressions[0].values", id="rs-bad-selector"),
        pytest.param(DS, {"updateStrategy": {"type": "Sometimes"}}, "spec.updateStrategy.type", id="ds-strategy"),
        pytest.param(DS, {"updateStrategy": {"rollingUpdate": {"maxUnavailable": 0}}},
                     "spec.updateStrategy.rollingUpdate.maxUnavailable", id="ds-both-zero"),
    ],
)
def test_validation(resource: Any, spec: dict[str, Any], field: str) -> None:
    obj = workload(resource, **spec)
    assert field in fields(resource, obj), [str(e) for e in resource.strategy.validate(obj)]


def stored(resource: Any) -> Any:
    obj = workload(resource)
    resource.strategy.prepare_for_create(obj)
    obj.metadata.uid = "u"
    return obj


@pytest.mark.parametrize("resource", [pytest.param(DEPLOY, id="deployment"), pytest.param(RS, id="replicaset"),
                                      pytest.param(DS, id="daemonset")])
def test_selector_is_immutable(resource: Any) -> None:
    old = stored(resource)
    new = codec.clone(old)
    new.spec.selector.match_labels = {"app": "web", "tier": "x"}
    new.spec.template.metadata.labels = {"app": "web", "tier": "x"}
    resource.strategy.prepare_for_update(new, old)
    errs = [str(e) for e in resource.strategy.validate_update(new, old)]
    assert any(e.startswith("spec.selector: Invalid value:") and e.endswith("field is immutable") for e in errs)


def test_generation_moves_with_spec_only() -> None:
    old = stored(DEPLOY)
    assert old.metadata.generation == 1
    same = codec.clone(old)
    same.metadata.labels = {"x": "y"}
    DEPLOY.strategy.prepare_for_update(same, old)
    assert same.metadata.generation == 1
    scaled = codec.clone(old)
    scaled.spec.replicas = 3
    DEPLOY.strategy.prepare_for_update(scaled, old)
    assert scaled.metadata.generation == 2


def test_status_update_and_validation() -> None:
    old = stored(RS)
    new = codec.clone(old)
    new.spec.replicas = 9
    new.status = apps.ReplicaSetStatus(replicas=1, ready_replicas=2)
    RS.strategy.prepare_for_status_update(new, old)
    assert new.spec.replicas == 1
    assert [e.field for e in RS.strategy.validate_status_update(new, old)] == ["status.readyReplicas"]


def test_scale_subresource() -> None:
    d = stored(DEPLOY)
    d.status.replicas = 1
    sub = DEPLOY.subresource("scale")
    assert sub is not None and sub.to_body is not None and sub.apply_body is not None
    scale = sub.to_body(d)
    assert scale.api_version == "autoscaling/v1" and scale.kind == "Scale"
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (1, 1, "app=web")
    scale.spec.replicas = 5
    scaled = sub.apply_body(d, scale)
    assert scaled.spec.replicas == 5 and d.spec.replicas == 1


def test_templates_keep_requests_as_written() -> None:
    tmpl = {**TEMPLATE, "spec": {"containers": [{"name": "web", "image": "nginx:1.25",
                                                 "resources": {"limits": {"cpu": "1"}}}]}}
    d = workload(DEPLOY, template=tmpl)
    assert d.spec.template.spec.containers[0].resources.requests == {}
