"""Per-kind strategies (defaults, create/update preparation, validation, field attributes)."""

from master.api.strategy.base import Strategy

__all__ = ["Strategy"]
