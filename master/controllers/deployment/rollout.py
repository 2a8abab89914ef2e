"""``Rollout``: one sync's view of a Deployment and its ReplicaSets, kept current as the sync writes.

``new_rs`` is the ReplicaSet whose template equals the Deployment's (ignoring the
pod-template-hash label), or None before it is created; ``old_rss`` are the others.
``pending`` is a Progressing condition to record with the next status write (new ReplicaSet
created or found).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from master.api import apps

__all__ = ["Rollout"]


@dataclass
class Rollout:
    d: apps.Deployment
    new_rs: apps.ReplicaSet | None
    old_rss: list[apps.ReplicaSet]
    pending: list[apps.DeploymentCondition] = field(default_factory=list)

    @property
    def all_rss(self) -> list[apps.ReplicaSet]:
        return [*self.old_rss, *([self.new_rs] if self.new_rs is not None else [])]

    def replace(self, rs: apps.ReplicaSet) -> None:
        """Put the written ``rs`` where its older copy was."""
        uid = rs.metadata.uid
        if self.new_rs is not None and self.new_rs.metadata.uid == uid:
            self.new_rs = rs
            return
        self.old_rss = [rs if o.metadata.uid == uid else o for o in self.old_rss]
