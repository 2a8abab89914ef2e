"""The garbage collector: the ownership ``graph`` and the ``collector`` that works it."""

from master.controllers.garbagecollector.collector import GarbageCollector, new

__all__ = ["GarbageCollector", "new"]
