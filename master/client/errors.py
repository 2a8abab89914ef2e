"""Errors raised by ``master.client``.

The tree::

    ClientError
    └── ConfigError        a kubeconfig that cannot be read or resolved (one readable line)
"""

from __future__ import annotations

__all__ = ["ClientError", "ConfigError"]


class ClientError(Exception):
    """Base of every error ``master.client`` raises."""


class ConfigError(ClientError, ValueError):
    """A bad kubeconfig, e.g. ``kubeconfig /x: context "foo" not found``."""
