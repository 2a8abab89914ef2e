"""Scoring pieces several plugins share. The matching rules (tolerations against taints, node
selectors and required node affinity against nodes) are in ``master.api.scheduling``.
"""

from __future__ import annotations

from master.scheduler.framework.interface import MAX_NODE_SCORE

__all__ = ["default_normalize"]


def default_normalize(scores: list[int], *, reverse: bool = False) -> None:
    """Scale to 0..100 by the maximum, in place (upstream's DefaultNormalizeScore); ``reverse``
    flips it so the lowest raw score gets 100::

        [0, 2, 4] -> [0, 50, 100]        reverse: [100, 50, 0]
    """
    top = max(scores, default=0)
    if top == 0:
        if reverse:
            scores[:] = [MAX_NODE_SCORE] * len(scores)
        return
    for i, s in enumerate(scores):
        s = MAX_NODE_SCORE * s // top
        scores[i] = MAX_NODE_SCORE - s if reverse else s
