"""The controllers the manager knows: name -> factory, and whether ``*`` turns it on.

``--controllers`` follows kube-controller-manager::

    "*"                  every controller that is on by default
    "foo"                foo, also when it is off by default
    "-foo"               not foo (wins over "*")
    "*,-nodeipam,bar"    all defaults but nodeipam, plus bar

Unknown names are an error naming them. A module is imported only when its controller is
built, so the CLI starts fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from master.controllers.context import ControllerContext, Runnable

__all__ = ["CONTROLLERS", "ControllerSpec", "enabled_controllers"]


@dataclass(frozen=True, slots=True)
class ControllerSpec:
    module: str  # exposes ``new(ctx) -> Runnable``
    on_by_default: bool = True

    def build(self, ctx: ControllerContext) -> Runnable:
        factory = importlib.import_module(self.module).new
        runnable: Runnable = factory(ctx)
        return runnable


CONTROLLERS: dict[str, ControllerSpec] = {
    "replicaset": ControllerSpec("master.controllers.replicaset"),
    "deployment": ControllerSpec("master.controllers.deployment"),
    "daemonset": ControllerSpec("master.controllers.daemonset"),
    "endpoint": ControllerSpec("master.controllers.endpoints"),
    "endpointslice": ControllerSpec("master.controllers.endpointslice"),
    "namespace": ControllerSpec("master.controllers.namespace"),
    "garbagecollector": ControllerSpec("master.controllers.garbagecollector"),
    "nodeipam": ControllerSpec("master.controllers.nodeipam"),
    "nodelifecycle": ControllerSpec("master.controllers.nodelifecycle"),
    "serviceaccount": ControllerSpec("master.controllers.serviceaccount"),
    "podgc": ControllerSpec("master.controllers.podgc"),
    "csrapproving": ControllerSpec("master.controllers.certificates.approving"),
    "csrsigning": ControllerSpec("master.controllers.certificates.signing"),
    "tokencleaner": ControllerSpec("master.controllers.tokencleaner"),
    "bootstrapsigner": ControllerSpec("master.controllers.bootstrapsigner"),
    "root-ca-cert-publisher": ControllerSpec("master.controllers.rootcacertpublisher"),
}


def enabled_controllers(
    selection: Iterable[str], known: Mapping[str, ControllerSpec] = CONTROLLERS
) -> list[str]:
    """The names to run, in registry order; ValueError for an unknown name or an empty item."""
    tokens = [t.strip() for item in selection for t in item.split(",")]
    star = False
    on: set[str] = set()
    off: set[str] = set()
    for token in tokens:
        if not token:
            continue
        if token == "*":
            star = True
            continue
        name = token[1:] if token.startswith("-") else token
        if name not in known:
            raise ValueError(
                f'"{name}" is not in the list of known controllers (known: {", ".join(sorted(known))})'
            )
        (off if token.startswith("-") else on).add(name)
    return [
        name
        for name, spec in known.items()
        if name not in off and (name in on or (star and spec.on_by_default))
    ]
