"""``Framework``: one profile's plugins, instantiated once and sorted into extension points.

Built from a ``config.ProfileConfig`` and a registry (``plugins.IN_TREE``). Each named plugin is
made once by its factory with its ``pluginConfig`` args; it then serves every point it
implements. A plugin named explicitly at a point that it does not implement, an unknown
name, bad args, or a profile without a binder is a ``ConfigError``.

The ``run_*`` methods run one point for one pod, in order, and fill in ``Status.plugin``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from master.scheduler.config import EXTENSION_POINTS, ConfigError, ProfileConfig
from master.scheduler.framework import status
from master.scheduler.framework.interface import (
    BatchScorePlugin,
    BindPlugin,
    ClusterEvent,
    CycleState,
    EnqueueExtension,
    FilterPlugin,
    Handle,
    NormalizeScorePlugin,
    PostFilterPlugin,
    PostFilterResult,
    PreFilterPlugin,
    PreScorePlugin,
    ReservePlugin,
    ScorePlugin,
)
from master.scheduler.framework.registry import PluginArgsError, Registry
from master.scheduler.framework.status import Code, Status
from master.scheduler.framework.types import NodeInfo, PodInfo

__all__ = ["Framework"]

log = logging.getLogger(__name__)

_PROTOCOLS: dict[str, type] = {
    "preFilter": PreFilterPlugin,
    "filter": FilterPlugin,
    "postFilter": PostFilterPlugin,
    "preScore": PreScorePlugin,
    "score": ScorePlugin,
    "reserve": ReservePlugin,
    "bind": BindPlugin,
}


class Framework:
    def __init__(self, profile: ProfileConfig, registry: Registry, handle: Handle) -> None:
        self.profile_name = profile.scheduler_name
        self.percentage_of_nodes_to_score = profile.percentage_of_nodes_to_score
        where = f"profile {profile.scheduler_name!r}"
        self.plugins: dict[str, Any] = {}
        for name in profile.plugin_names():
            factory = registry.get(name)
            if factory is None:
                raise ConfigError(f'{where}: unknown plugin "{name}"')
            try:
                plugin = factory(profile.plugin_args.get(name, {}), handle)
            except PluginArgsError as exc:
                raise ConfigError(f"{where}: {exc}") from None
            self.plugins[name] = plugin
        for name in profile.plugin_args:
            if name not in self.plugins:
                log.info("%s: pluginConfig for %s, which is not enabled", where, name)
        points: dict[str, list[Any]] = {}
        weights: dict[str, int] = {}
        for point in EXTENSION_POINTS:
            proto = _PROTOCOLS[point]
            chosen: list[str] = []
            for name, weight in profile.enabled.get(point, ()):
                if not isinstance(self.plugins[name], proto):
                    raise ConfigError(f'{where}: plugin "{name}" does not implement the {point} extension point')
                if name not in chosen:
                    chosen.append(name)
                if point == "score" and weight:
                    weights[name] = weight
            off = profile.disabled.get(point, frozenset())
            for name, weight in profile.multi_point:
                if "*" in off or name in off or name in chosen:
                    continue
                if isinstance(self.plugins[name], proto):
                    chosen.append(name)
                    if point == "score":
                        weights.setdefault(name, weight or 1)
            points[point] = [self.plugins[n] for n in chosen]
        if not points["bind"]:
            raise ConfigError(f"{where}: at least one bind plugin is needed")
        self.pre_filter_plugins: list[PreFilterPlugin] = points["preFilter"]
        self.filter_plugins: list[FilterPlugin] = points["filter"]
        self.post_filter_plugins: list[PostFilterPlugin] = points["postFilter"]
        self.pre_score_plugins: list[PreScorePlugin] = points["preScore"]
        self.score_plugins: list[tuple[ScorePlugin, int, NormalizeScorePlugin | None]] = [
            (p, weights.get(p.name, 1), p if isinstance(p, NormalizeScorePlugin) else None)
            for p in points["score"]
        ]
        # name -> the plugin's score of every node at once, for those that have one.
        self._score_nodes = {p.name: p.score_nodes for p in points["score"] if isinstance(p, BatchScorePlugin)}
        self.reserve_plugins: list[ReservePlugin] = points["reserve"]
        self.bind_plugins: list[BindPlugin] = points["bind"]
        self.events: dict[str, list[ClusterEvent]] = {
            name: list(p.events_to_register()) for name, p in self.plugins.items() if isinstance(p, EnqueueExtension)
        }

    def __repr__(self) -> str:
        return f"Framework({self.profile_name!r}, plugins={list(self.plugins)})"

    def has_filters(self) -> bool:
        return bool(self.filter_plugins)

    # ---- PreFilter / Filter ----------------------------------------------------------------

    def run_pre_filter(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        for p in self.pre_filter_plugins:
            st = p.pre_filter(state, pod, nodes)
            if st is None:
                continue
            if st.code == Code.SKIP:
                state.skip_filter.add(p.name)
                continue
            return st.with_plugin(p.name)
        return None

    def filters_for(self, state: CycleState) -> list[tuple[str, Callable[[CycleState, PodInfo, NodeInfo], Status | None]]]:
        """The Filter functions of this cycle (skipped plugins left out), for the hot loop."""
        return [(p.name, p.filter) for p in self.filter_plugins if p.name not in state.skip_filter]

    def run_filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        for name, fn in self.filters_for(state):
            st = fn(state, pod, node)
            if st is not None:
                return st.with_plugin(name)
        return None

    async def run_post_filter(
        self, state: CycleState, pod: PodInfo, statuses: Mapping[str, Status]
    ) -> tuple[PostFilterResult | None, Status | None]:
        """The first PostFilter plugin that succeeds wins; otherwise the last failure."""
        last: Status | None = status.unschedulable()
        for p in self.post_filter_plugins:
            result, st = await p.post_filter(state, pod, statuses)
            if st is None:
                return result, None
            if st.code == Code.ERROR:
                return None, st.with_plugin(p.name)
            last = st.with_plugin(p.name)
        return None, last

    # ---- Score -----------------------------------------------------------------------------

    def run_pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status | None:
        for p in self.pre_score_plugins:
            st = p.pre_score(state, pod, nodes)
            if st is None:
                continue
            if st.code == Code.SKIP:
                state.skip_score.add(p.name)
                continue
            return st.with_plugin(p.name)
        return None

    def run_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        """The weighted sum of every Score plugin's (normalized) scores, one per node."""
        totals = [0] * len(nodes)
        for p, weight, normalizer in self.score_plugins:
            if p.name in state.skip_score:
                continue
            batch = self._score_nodes.get(p.name)
            if batch is not None:
                scores = batch(state, pod, nodes)
            else:
                fn = p.score
                scores = [fn(state, pod, n) for n in nodes]
            if normalizer is not None:
                normalizer.normalize_score(state, pod, scores)
            totals = [t + s * weight for t, s in zip(totals, scores, strict=True)]
        return totals

    # ---- Reserve / Bind --------------------------------------------------------------------

    def run_reserve(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        for p in self.reserve_plugins:
            st = p.reserve(state, pod, node_name)
            if st is not None:
                return st.with_plugin(p.name)
        return None

    def run_unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        for p in reversed(self.reserve_plugins):
            try:
                p.unreserve(state, pod, node_name)
            except Exception:
                log.exception("%s: unreserve of %s failed", p.name, pod.key)

    async def run_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        for p in self.bind_plugins:
            st = await p.bind(state, pod, node_name)
            if st is not None and st.code == Code.SKIP:
                continue
            return None if st is None else st.with_plugin(p.name)
        return status.error(f"no bind plugin bound pod {pod.key}")
