"""Summaries the benchmarks report (medians come from ``statistics.median``)."""

from __future__ import annotations

__all__ = ["pct"]


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by nearest rank; NaN for no values::

        pct([5, 1, 3, 2, 4], 0.5) -> 3        pct([5, 1, 3, 2, 4], 0.99) -> 5
    """
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
