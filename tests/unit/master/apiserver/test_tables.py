"""Server-side printing helpers."""

from __future__ import annotations

import pytest

from master.apiserver import tables


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(5, "5s"), (119, "119s"), (125, "2m5s"), (600, "10m"), (3 * 3600 + 60, "3h1m"), (10 * 3600, "10h"),
     (3 * 86400 + 3600, "3d1h"), (30 * 86400, "30d"), (3 * 365 * 86400, "3y")],
)
def test_human_duration(seconds: int, text: str) -> None:
    assert tables.human_duration(seconds) == text


@pytest.mark.parametrize(
    ("accept", "want"),
    [
        ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
         "application/json", True),
        ("application/json", False),
        ("application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io", False),
    ],
)
def test_wants_table(accept: str, want: bool) -> None:
    assert tables.wants_table(accept) is want


def test_pod_status_column() -> None:
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
           "status": {"phase": "Running", "containerStatuses": [
               {"name": "a", "ready": True, "restartCount": 2, "state": {"running": {}}},
               {"name": "b", "ready": False, "restartCount": 1,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}
    t = tables.table("pods", [pod], include="None")
    assert t["rows"][0]["cells"][:4] == ["p", "1/2", "CrashLoopBackOff", 3]
    assert "object" not in t["rows"][0]
