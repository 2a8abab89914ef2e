"""Outcomes of plugins as values: ``Status`` (``None`` is success, as upstream's nil Status).

Codes, as in kube-scheduler::

    UNSCHEDULABLE                    this node does not fit now; may fit after a cluster event
    UNSCHEDULABLE_AND_UNRESOLVABLE   this node will not fit however the pod is retried
                                     (no preemption would help: a node selector, a taint)
    ERROR                            an internal fault; the pod backs off and is retried
    SKIP                             PreFilter/PreScore: "nothing to do for this pod", so the
                                     framework skips the plugin's Filter/Score for this cycle

Reasons are the short texts the FailedScheduling summary counts ("Insufficient cpu").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["SKIP", "Code", "Status", "error", "unresolvable", "unschedulable"]


class Code(enum.IntEnum):
    SUCCESS = 0
    ERROR = 1
    UNSCHEDULABLE = 2
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3
    SKIP = 4


@dataclass(frozen=True, slots=True)
class Status:
    code: Code
    reasons: tuple[str, ...] = ()
    # The plugin that returned it (the framework fills it in).
    plugin: str = ""

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)

    def is_unschedulable(self) -> bool:
        return self.code in (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)

    def with_plugin(self, plugin: str) -> Status:
        return self if self.plugin == plugin else Status(self.code, self.reasons, plugin)


SKIP = Status(Code.SKIP)


def unschedulable(*reasons: str) -> Status:
    return Status(Code.UNSCHEDULABLE, reasons)


def unresolvable(*reasons: str) -> Status:
    return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, reasons)


def error(message: str) -> Status:
    return Status(Code.ERROR, (message,))
