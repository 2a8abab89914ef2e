"""The Deployment controller (``controller``) and its parts: ``rolling``, ``recreate``,
``proportional`` scaling, ``progress`` (status and conditions), ``util`` (hashes, revisions,
annotations), ``rollout`` (one sync's view)."""

from master.controllers.deployment.controller import DeploymentController, new

__all__ = ["DeploymentController", "new"]
