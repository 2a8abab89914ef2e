"""Unknown fields: dropped with a warning, refused with fieldValidation=Strict, at every depth."""

from __future__ import annotations

from typing import Any

import pytest

from master.apiserver.registry import ServedRegistry
from master.apiserver.rules import rules_for
from tests.fixtures.apiserver import Api

PODS = "/api/v1/namespaces/default/pods"


def pod(**extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"any": "label"}},
            "spec": {"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 80}]}]}, **extra}


def _prune(obj: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    served = ServedRegistry.builtin().lookup("", "v1", "pods")
    assert served is not None
    return rules_for(served).prune(obj)


@pytest.mark.parametrize(("where", "path"), [
    pytest.param(lambda o: o.update(bogus=1), "bogus", id="top"),
    pytest.param(lambda o: o["metadata"].update(bogus=1), "metadata.bogus", id="metadata"),
    pytest.param(lambda o: o["spec"]["containers"][0].update(bogus={"a": 1}), "spec.containers[0].bogus",
                 id="list-item"),
    pytest.param(lambda o: o["spec"]["containers"][0]["ports"][0].update(bogus=[1]),
                 "spec.containers[0].ports[0].bogus", id="nested-list"),
    pytest.param(lambda o: o["spec"].update(affinity={"nodeAffinity": {"bogus": 1}}), "spec.affinity.nodeAffinity.bogus",
                 id="optional-struct"),
])
def test_unknown_paths(where: Any, path: str) -> None:
    obj = pod()
    where(obj)
    pruned, unknown = _prune(obj)
    assert unknown == [path]
    assert "bogus" not in str(pruned)


def test_free_form_maps_are_not_checked() -> None:
    obj = pod()
    obj["metadata"]["annotations"] = {"anything": "goes"}
    assert _prune(obj)[1] == []


async def test_warn_and_strict(apiserver: Api) -> None:
    code, body = await apiserver.post(PODS, json=pod(bogus=1), params={"fieldValidation": "Strict"})
    assert code == 400 and 'unknown field "bogus"' in body["message"]
    resp = await apiserver.session.post(apiserver.base + PODS, json=pod(bogus=1))
    assert resp.status == 201
    assert 'unknown field \\"bogus\\"' in resp.headers.get("Warning", "")
    assert "bogus" not in await resp.text()
