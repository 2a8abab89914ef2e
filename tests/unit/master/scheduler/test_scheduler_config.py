"""KubeSchedulerConfiguration loading and profile assembly (plugins per extension point)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from master.scheduler.config import DEFAULT_PLUGINS, ConfigError, SchedulerConfig, load, loads
from master.scheduler.framework.runtime import Framework
from master.scheduler.plugins import IN_TREE
from tests.unit.master.scheduler.sched_testing import FakeHandle


def framework(text: str, profile: int = 0) -> Framework:
    cfg = loads(textwrap.dedent(text))
    return Framework(cfg.profiles[profile], IN_TREE, FakeHandle())


def names(plugins: list[object]) -> list[str]:
    return [p.name for p in plugins]  # type: ignore[attr-defined]


def test_defaults() -> None:
    cfg = loads("")
    assert cfg == SchedulerConfig(source="<memory>")
    fwk = Framework(cfg.profiles[0], IN_TREE, FakeHandle())
    assert names(fwk.filter_plugins) == ["NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity",
                                         "NodePorts", "NodeResourcesFit", "PodTopologySpread"]
    assert [(p.name, w) for p, w, _ in fwk.score_plugins] == [
        ("TaintToleration", 3), ("NodeAffinity", 2), ("NodeResourcesFit", 1), ("PodTopologySpread", 2),
        ("NodeResourcesBalancedAllocation", 1), ("ImageLocality", 1)]
    assert names(fwk.bind_plugins) == ["DefaultBinder"]
    assert names(fwk.pre_filter_plugins) == ["NodeName", "NodeAffinity", "NodePorts", "PodTopologySpread"]
    assert set(fwk.events) == {n for n, _ in DEFAULT_PLUGINS} - {"NodeResourcesBalancedAllocation",
                                                                    "ImageLocality", "DefaultBinder"}


def test_full_file(tmp_path: Path) -> None:
    path = tmp_path / "sched.yaml"
    path.write_text(textwrap.dedent("""
        apiVersion: kubescheduler.config.k8s.io/v1
        kind: KubeSchedulerConfiguration
        percentageOfNodesToScore: 30
        podInitialBackoffSeconds: 2
        podMaxBackoffSeconds: 20
        leaderElection: {leaderElect: true}
        profiles:
        - schedulerName: default-scheduler
          plugins:
            multiPoint:
              disabled: [{name: ImageLocality}]
            score:
              enabled: [{name: NodeResourcesBalancedAllocation, weight: 5}]
          pluginConfig:
          - name: NodeResourcesFit
            args: {scoringStrategy: {type: MostAllocated}}
        - schedulerName: only-fit
          percentageOfNodesToScore: 100
          plugins:
            multiPoint:
              disabled: [{name: "*"}]
              enabled: [{name: NodeResourcesFit, weight: 4}, {name: DefaultBinder}]
    """))
    cfg = load(path)
    assert cfg.percentage_of_nodes_to_score == 30 and cfg.pod_initial_backoff == 2 and cfg.pod_max_backoff == 20
    assert cfg.profile_names() == ["default-scheduler", "only-fit"]
    fwk = Framework(cfg.profiles[0], IN_TREE, FakeHandle())
    scores = {p.name: w for p, w, _ in fwk.score_plugins}
    assert "ImageLocality" not in scores and scores["NodeResourcesBalancedAllocation"] == 5
    assert next(iter(scores)) == "NodeResourcesBalancedAllocation", "explicitly enabled plugins run first"
    only = Framework(cfg.profiles[1], IN_TREE, FakeHandle())
    assert names(only.filter_plugins) == ["NodeResourcesFit"]
    assert [(p.name, w) for p, w, _ in only.score_plugins] == [("NodeResourcesFit", 4)]
    assert only.percentage_of_nodes_to_score == 100


def test_disable_at_one_point() -> None:
    fwk = framework("""
        profiles:
        - plugins:
            score:
              disabled: [{name: "*"}]
            filter:
              disabled: [{name: TaintToleration}]
    """)
    assert fwk.score_plugins == []
    assert "TaintToleration" not in names(fwk.filter_plugins)
    assert "TaintToleration" in fwk.plugins, "still instantiated for its other points"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("- a\n- b", "want a mapping", id="not-a-mapping"),
        pytest.param("profiles: [", "not valid YAML", id="yaml"),
        pytest.param("kind: Other", "kind: unsupported value 'Other'", id="kind"),
        pytest.param("apiVersion: v9", "apiVersion: unsupported value 'v9'", id="api-version"),
        pytest.param("percentageOfNodesToScore: 101", "percentageOfNodesToScore: 101 is not in 0..100", id="pct"),
        pytest.param("podInitialBackoffSeconds: 0", "podInitialBackoffSeconds: 0 must be greater than 0", id="backoff"),
        pytest.param("podInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 2", "podMaxBackoffSeconds: 2 must be at least",
                     id="max-backoff"),
        pytest.param("profile: []", "Object contains unknown field `profile`", id="unknown-field"),
        pytest.param("profiles: [{schedulerName: a}, {schedulerName: a}]",
                     "profiles[1].schedulerName: Duplicate value 'a'", id="duplicate-profile"),
        pytest.param("profiles: [{schedulerName: ''}]", "profiles[0].schedulerName: Required value", id="empty-name"),
        pytest.param("profiles: [{plugins: {filter: {enabled: [{name: Nope}]}}}]",
                     'profiles[0].plugins.filter.enabled[0].name: unknown plugin "Nope"', id="unknown-plugin"),
        pytest.param("profiles: [{plugins: {score: {enabled: [{name: ImageLocality, weight: 101}]}}}]",
                     "weight: 101 is not in 0..100", id="weight"),
        pytest.param("profiles: [{plugins: {permit: {enabled: [{name: NodeName}]}}}]",
                     "plugins.permit: this extension point is not supported", id="unsupported-point"),
        pytest.param("profiles: [{pluginConfig: [{name: Foo}]}]", 'pluginConfig[0].name: unknown plugin "Foo"',
                     id="unknown-plugin-config"),
        pytest.param("profiles: [{plugins: {filter: {enabled: 3}}}]", "profiles[0].plugins.filter.enabled: Expected",
                     id="type"),
        pytest.param("extenders: [{urlPrefix: x}]", "extenders are not supported", id="extenders"),
    ],
)
def test_bad_files(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"^scheduler config <memory>: ") as info:
        loads(text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("profiles: [{plugins: {filter: {enabled: [{name: ImageLocality}]}}}]",
                     'plugin "ImageLocality" does not implement the filter extension point', id="wrong-point"),
        pytest.param("profiles: [{plugins: {multiPoint: {disabled: [{name: DefaultBinder}]}}}]",
                     "at least one bind plugin is needed", id="no-binder"),
        pytest.param("profiles: [{pluginConfig: [{name: NodeResourcesFit, args: {scoringStrategy: {type: X}}}]}]",
                     "NodeResourcesFit args: scoringStrategy.type: unsupported value 'X'", id="plugin-args"),
    ],
)
def test_bad_profiles(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="profile 'default-scheduler'") as info:
        framework(text)
    assert message in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"scheduler config .*nope.yaml: No such file or directory"):
        load(tmp_path / "nope.yaml")
