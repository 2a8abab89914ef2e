"""The node lifecycle controller (``controller``): node ``health``, condition and NoExecute
taints rate limited per zone (``zones``), and taint-based ``eviction`` of pods."""

from master.controllers.nodelifecycle.controller import NodeLifecycleController, new

__all__ = ["NodeLifecycleController", "new"]
