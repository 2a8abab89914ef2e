"""The in-tree plugins, by name. ``IN_TREE`` is the registry profiles pick from; add a plugin
by writing a module with ``NAME`` and ``new(args, handle)`` and listing it here."""

from __future__ import annotations

from master.scheduler.framework.registry import Registry
from master.scheduler.plugins import (
    default_binder,
    image_locality,
    node_affinity,
    node_name,
    node_ports,
    node_unschedulable,
    pod_topology_spread,
    taint_toleration,
)
from master.scheduler.plugins.noderesources import balanced_allocation, fit

__all__ = ["IN_TREE"]

IN_TREE: Registry = {
    m.NAME: m.new
    for m in (
        node_unschedulable,
        node_name,
        taint_toleration,
        node_affinity,
        node_ports,
        fit,
        pod_topology_spread,
        balanced_allocation,
        image_locality,
        default_binder,
    )
}
