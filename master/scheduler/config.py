"""The scheduler's configuration: a KubeSchedulerConfiguration-like YAML file.

::

    apiVersion: kubescheduler.config.k8s.io/v1
    kind: KubeSchedulerConfiguration
    percentageOfNodesToScore: 0          # 0: adaptive (50% - nodes/125, at least 5%, at least 100 nodes)
    podInitialBackoffSeconds: 1
    podMaxBackoffSeconds: 10
    profiles:
    - schedulerName: default-scheduler
      plugins:
        multiPoint:                      # every extension point the plugin implements
          enabled: [{name: MyPlugin, weight: 2}]
          disabled: [{name: ImageLocality}]
        score:                           # one extension point only
          enabled: [{name: NodeResourcesBalancedAllocation, weight: 5}]
          disabled: [{name: "*"}]        # "*": none of the multiPoint plugins at this point
      pluginConfig:
      - name: NodeResourcesFit
        args: {scoringStrategy: {type: MostAllocated}}
    - schedulerName: bin-packer          # a second profile: pods choose it by spec.schedulerName
      ...

Semantics follow kube-scheduler: the default plugins are enabled at multiPoint; a point's
explicit ``enabled`` plugins run first, then the multiPoint plugins that implement that point
and are not ``disabled`` there. A Score weight comes from ``score.enabled``, else from
``multiPoint``, else from the default weights (TaintToleration 3, NodeAffinity 2,
PodTopologySpread 2, others 1). Which plugin implements which point is checked when the
frameworks are built (``runtime.Framework``); this module checks the file's shape and names.

Errors are ``ConfigError`` with one line naming the file and the field path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import yaml

__all__ = [
    "DEFAULT_PLUGINS",
    "DEFAULT_SCHEDULER_NAME",
    "EXTENSION_POINTS",
    "ConfigError",
    "ProfileConfig",
    "SchedulerConfig",
    "load",
    "loads",
]

DEFAULT_SCHEDULER_NAME = "default-scheduler"
API_VERSIONS = ("kubescheduler.config.k8s.io/v1", "kubescheduler.config.k8s.io/v1beta3")
KIND = "KubeSchedulerConfiguration"
EXTENSION_POINTS = ("preFilter", "filter", "postFilter", "preScore", "score", "reserve", "bind")
# Points kube-scheduler has that we do not: accepted only empty.
_UNSUPPORTED_POINTS = ("queueSort", "preEnqueue", "permit", "preBind", "postBind")

# (name, score weight) in the order they run; weight 0 for plugins that do not score.
DEFAULT_PLUGINS: tuple[tuple[str, int], ...] = (
    ("NodeUnschedulable", 0),
    ("NodeName", 0),
    ("TaintToleration", 3),
    ("NodeAffinity", 2),
    ("NodePorts", 0),
    ("NodeResourcesFit", 1),
    ("PodTopologySpread", 2),
    ("NodeResourcesBalancedAllocation", 1),
    ("ImageLocality", 1),
    ("DefaultBinder", 0),
)
MAX_WEIGHT = 100


class ConfigError(ValueError):
    """A scheduler configuration that cannot be used; the message is one readable line."""


@dataclass(frozen=True, slots=True)
class ProfileConfig:
    """One profile, resolved: the multiPoint plugins, and per point what is enabled or disabled."""

    scheduler_name: str = DEFAULT_SCHEDULER_NAME
    multi_point: tuple[tuple[str, int], ...] = DEFAULT_PLUGINS
    enabled: Mapping[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    disabled: Mapping[str, frozenset[str]] = field(default_factory=dict)
    plugin_args: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    percentage_of_nodes_to_score: int | None = None

    def plugin_names(self) -> list[str]:
        """Every plugin this profile instantiates, in first-mention order."""
        names = [n for n, _ in self.multi_point]
        for point in EXTENSION_POINTS:
            names.extend(n for n, _ in self.enabled.get(point, ()))
        return list(dict.fromkeys(names))


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    profiles: tuple[ProfileConfig, ...] = (ProfileConfig(),)
    percentage_of_nodes_to_score: int = 0
    pod_initial_backoff: float = 1.0
    pod_max_backoff: float = 10.0
    source: str = "<defaults>"

    def profile_names(self) -> list[str]:
        return [p.scheduler_name for p in self.profiles]


# ---- the file's shape ------------------------------------------------------------------------


class _PluginRef(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    weight: int = 0


class _PluginSet(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    enabled: list[_PluginRef] | None = None
    disabled: list[_PluginRef] | None = None


class _Plugins(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    multi_point: _PluginSet | None = None
    pre_filter: _PluginSet | None = None
    filter: _PluginSet | None = None
    post_filter: _PluginSet | None = None
    pre_score: _PluginSet | None = None
    score: _PluginSet | None = None
    reserve: _PluginSet | None = None
    bind: _PluginSet | None = None
    queue_sort: _PluginSet | None = None
    pre_enqueue: _PluginSet | None = None
    permit: _PluginSet | None = None
    pre_bind: _PluginSet | None = None
    post_bind: _PluginSet | None = None


class _PluginConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    args: dict[str, Any] | None = None


class _Profile(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    scheduler_name: str = DEFAULT_SCHEDULER_NAME
    plugins: _Plugins | None = None
    plugin_config: list[_PluginConfig] | None = None
    percentage_of_nodes_to_score: int | None = None


class _File(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    api_version: str = ""
    kind: str = ""
    percentage_of_nodes_to_score: int | None = None
    pod_initial_backoff_seconds: float | None = None
    pod_max_backoff_seconds: float | None = None
    profiles: list[_Profile] | None = None
    # Accepted for compatibility with kube-scheduler files; the command-line flags rule these.
    leader_election: dict[str, Any] | None = None
    client_connection: dict[str, Any] | None = None
    parallelism: int | None = None
    extenders: list[Any] | None = None
    delay_cache_until_active: bool | None = None


def load(path: str | Path) -> SchedulerConfig:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError(f"scheduler config {p}: {exc.strerror or exc}") from None
    return loads(text, source=str(p))


def loads(text: str, *, source: str = "<memory>", known_plugins: Mapping[str, Any] | None = None) -> SchedulerConfig:
    """Parse and check a configuration. ``known_plugins`` defaults to the in-tree registry."""
    if known_plugins is None:
        from master.scheduler.plugins import IN_TREE

        known_plugins = IN_TREE

    def fail(msg: str) -> ConfigError:
        return ConfigError(f"scheduler config {source}: {msg}")

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise fail(f"not valid YAML: {first}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise fail("want a mapping (a KubeSchedulerConfiguration)")
    try:
        doc = msgspec.convert(raw, _File)
    except msgspec.ValidationError as exc:
        raise fail(_path_message(str(exc))) from None
    if doc.api_version and doc.api_version not in API_VERSIONS:
        raise fail(f"apiVersion: unsupported value {doc.api_version!r} (want {API_VERSIONS[0]})")
    if doc.kind and doc.kind != KIND:
        raise fail(f"kind: unsupported value {doc.kind!r} (want {KIND})")
    pct = doc.percentage_of_nodes_to_score or 0
    if not 0 <= pct <= 100:
        raise fail(f"percentageOfNodesToScore: {pct} is not in 0..100")
    initial = 1.0 if doc.pod_initial_backoff_seconds is None else doc.pod_initial_backoff_seconds
    maximum = 10.0 if doc.pod_max_backoff_seconds is None else doc.pod_max_backoff_seconds
    if initial <= 0:
        raise fail(f"podInitialBackoffSeconds: {initial:g} must be greater than 0")
    if maximum < initial:
        raise fail(f"podMaxBackoffSeconds: {maximum:g} must be at least podInitialBackoffSeconds ({initial:g})")
    if doc.extenders:
        raise fail("extenders: scheduler extenders are not supported")
    raw_profiles = doc.profiles if doc.profiles else [_Profile()]
    profiles = []
    seen: set[str] = set()
    for i, prof in enumerate(raw_profiles):
        where = f"profiles[{i}]"
        if not prof.scheduler_name:
            raise fail(f"{where}.schedulerName: Required value")
        if prof.scheduler_name in seen:
            raise fail(f"{where}.schedulerName: Duplicate value {prof.scheduler_name!r}")
        seen.add(prof.scheduler_name)
        profiles.append(_profile(prof, where, known_plugins, fail))
    return SchedulerConfig(
        profiles=tuple(profiles),
        percentage_of_nodes_to_score=pct,
        pod_initial_backoff=float(initial),
        pod_max_backoff=float(maximum),
        source=source,
    )


def _profile(prof: _Profile, where: str, known: Mapping[str, Any], fail: Any) -> ProfileConfig:
    plugins = prof.plugins or _Plugins()

    def check_refs(point: str, refs: list[_PluginRef] | None, kind: str, *, wildcard: bool) -> None:
        for j, ref in enumerate(refs or []):
            path = f"{where}.plugins.{point}.{kind}[{j}]"
            if ref.name == "*" and wildcard:
                continue
            if ref.name not in known:
                raise fail(f'{path}.name: unknown plugin "{ref.name}"')
            if not 0 <= ref.weight <= MAX_WEIGHT:
                raise fail(f"{path}.weight: {ref.weight} is not in 0..{MAX_WEIGHT}")

    for point in _UNSUPPORTED_POINTS:
        ps = getattr(plugins, _attr(point))
        if ps is not None and (ps.enabled or [n for n in (ps.disabled or []) if n.name != "*"]):
            raise fail(f"{where}.plugins.{point}: this extension point is not supported")
    multi = plugins.multi_point or _PluginSet()
    check_refs("multiPoint", multi.enabled, "enabled", wildcard=False)
    check_refs("multiPoint", multi.disabled, "disabled", wildcard=True)
    disabled_mp = {r.name for r in multi.disabled or []}
    base = [] if "*" in disabled_mp else [(n, w) for n, w in DEFAULT_PLUGINS if n not in disabled_mp]
    default_weights = dict(DEFAULT_PLUGINS)
    for ref in multi.enabled or []:
        base = [(n, w) for n, w in base if n != ref.name]
        base.append((ref.name, ref.weight or default_weights.get(ref.name) or 1))
    enabled: dict[str, tuple[tuple[str, int], ...]] = {}
    disabled: dict[str, frozenset[str]] = {}
    for point in EXTENSION_POINTS:
        ps = getattr(plugins, _attr(point))
        if ps is None:
            continue
        check_refs(point, ps.enabled, "enabled", wildcard=False)
        check_refs(point, ps.disabled, "disabled", wildcard=True)
        if ps.enabled:
            enabled[point] = tuple((r.name, r.weight) for r in ps.enabled)
        if ps.disabled:
            disabled[point] = frozenset(r.name for r in ps.disabled)
    args: dict[str, Mapping[str, Any]] = {}
    for j, pc in enumerate(prof.plugin_config or []):
        path = f"{where}.pluginConfig[{j}]"
        if pc.name not in known:
            raise fail(f'{path}.name: unknown plugin "{pc.name}"')
        if pc.name in args:
            raise fail(f'{path}.name: Duplicate value "{pc.name}"')
        args[pc.name] = pc.args or {}
    pct = prof.percentage_of_nodes_to_score
    if pct is not None and not 0 <= pct <= 100:
        raise fail(f"{where}.percentageOfNodesToScore: {pct} is not in 0..100")
    return ProfileConfig(
        scheduler_name=prof.scheduler_name,
        multi_point=tuple(base),
        enabled=enabled,
        disabled=disabled,
        plugin_args=args,
        percentage_of_nodes_to_score=pct,
    )


def _attr(point: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in point)


def _path_message(text: str) -> str:
    """msgspec's "Expected `int`, got `str` - at `$.profiles[0].plugins`" as "profiles[0].plugins: ..."."""
    msg, sep, path = text.rpartition(" - at `")
    if not sep:
        return text
    path = path.rstrip("`").removeprefix("$").lstrip(".")
    return f"{path}: {msg}" if path else msg
