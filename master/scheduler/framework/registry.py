"""Plugins by name: a ``Registry`` is a plain dict of name -> factory (``plugins.IN_TREE``).

A factory takes the plugin's ``args`` (the ``pluginConfig`` entry of the profile, a plain
dict as written in YAML, ``{}`` when none) and the framework ``Handle``, and returns the
plugin. Bad args raise ``PluginArgsError`` with a readable message; ``parse_args`` turns a
dict into a typed Struct with field-path errors::

    class FitArgs(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
        ignored_resources: list[str] = []

    def new(args, handle):
        return Fit(parse_args("NodeResourcesFit", args, FitArgs))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec

from master.scheduler.framework.interface import Handle

__all__ = ["Factory", "PluginArgsError", "Registry", "parse_args"]

T = TypeVar("T")

Factory = Callable[[Mapping[str, Any], Handle], Any]
Registry = dict[str, Factory]


class PluginArgsError(ValueError):
    """A plugin's args that do not make sense."""


def parse_args(plugin: str, args: Mapping[str, Any], cls: type[T]) -> T:
    try:
        return msgspec.convert(dict(args), cls)
    except msgspec.ValidationError as exc:
        raise PluginArgsError(f"{plugin} args: {exc}") from None
