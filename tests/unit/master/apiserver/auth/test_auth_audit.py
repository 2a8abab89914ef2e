"""The audit log: policy parsing and matching, events for every kind of request, no secret
contents at any level, rotation by size with pruned backups."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from master.apiserver.audit import AuditSettings, RotatingFile
from master.apiserver.audit_policy import Level, load_policy, parse_policy
from master.apiserver.authn import UserInfo
from master.apiserver.requestinfo import parse_request_info
from tests.fixtures.apiserver import running_apiserver
from tests.unit.master.apiserver.auth.auth_helpers import ANONYMOUS, Requester, cert_identity

POLICY = {
    "apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitStages": ["RequestReceived"],
    "rules": [
        {"level": "None", "users": ["quiet"]},
        {"level": "None", "nonResourceURLs": ["/healthz*", "/version"]},
        {"level": "Metadata", "resources": [{"group": "", "resources": ["secrets"]}]},
        {"level": "RequestResponse", "namespaces": ["loud"]},
        {"level": "Request", "verbs": ["create", "update", "patch", "delete"]},
        {"level": "Metadata"},
    ],
}


@pytest.mark.parametrize(
    ("user", "method", "path", "level"),
    [
        pytest.param("quiet", "GET", "/api/v1/pods", Level.NONE, id="user"),
        pytest.param("x", "GET", "/healthz/etcd", Level.NONE, id="url-prefix"),
        pytest.param("x", "GET", "/api/v1/namespaces/a/secrets/s", Level.METADATA, id="resource"),
        pytest.param("x", "POST", "/api/v1/namespaces/loud/secrets", Level.METADATA, id="first-match-wins"),
        pytest.param("x", "GET", "/api/v1/namespaces/loud/pods", Level.REQUEST_RESPONSE, id="namespace"),
        pytest.param("x", "DELETE", "/api/v1/namespaces/a/pods/p", Level.REQUEST, id="verb"),
        pytest.param("x", "GET", "/apis/apps/v1/deployments", Level.METADATA, id="catch-all"),
    ],
)
def test_policy_levels(user: str, method: str, path: str, level: Level) -> None:
    policy = parse_policy(POLICY)
    got, omit = policy.decide(UserInfo(user, ("system:authenticated",)), parse_request_info(method, path))
    assert got == level and omit == {"RequestReceived"}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        pytest.param({"kind": "Policy", "apiVersion": "v1"}, "audit.k8s.io", id="wrong-version"),
        pytest.param({**POLICY, "rules": []}, "at least one rule", id="no-rules"),
        pytest.param({**POLICY, "rules": [{"level": "Loud"}]}, "unknown level", id="bad-level"),
        pytest.param({**POLICY, "omitStages": ["Sometime"]}, "unknown stage", id="bad-stage"),
        pytest.param({**POLICY, "rules": [{"level": "None", "users": "bob"}]}, "list of strings", id="bad-users"),
    ],
)
def test_bad_policies(doc: dict[str, Any], message: str, tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ValueError, match=message):
        load_policy(path)


def test_rotation_by_size_keeps_backups(tmp_path: Path) -> None:
    log = RotatingFile(tmp_path / "audit.log", max_backups=2)
    log.max_bytes = 100  # the flag is in MB; the behaviour is the same
    for i in range(30):
        log.write(b"x" * 30 + f"{i:03d}\n".encode())
        time.sleep(0.002)  # backups are named by the millisecond
    log.close()
    backups = sorted(p for p in tmp_path.iterdir() if p.name != "audit.log")
    assert len(backups) == 2 and all(p.name.startswith("audit-") and p.suffix == ".log" for p in backups)
    assert (tmp_path / "audit.log").stat().st_size <= 100
    assert oct((tmp_path / "audit.log").stat().st_mode & 0o777) == "0o600"


def test_rotation_prunes_by_age(tmp_path: Path) -> None:
    old = tmp_path / "audit-2000-01-01T00-00-00.000.log"
    old.write_text("old\n")
    os.utime(old, (0, 0))
    log = RotatingFile(tmp_path / "audit.log", max_age_days=1)
    log.max_bytes = 10
    log.write(b"0123456789\n")
    log.write(b"0123456789\n")
    log.close()
    assert not old.exists()


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_events_for_every_kind_of_request(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump({"apiVersion": "audit.k8s.io/v1", "kind": "Policy",
                                      "rules": [{"level": "RequestResponse"}]}))
    secret_text = "s3cr3t-value-never-logged"
    settings = AuditSettings(path=str(log), policy_file=policy)
    async with running_apiserver(tmp_path / "d", audit=settings) as api:
        ns = "/api/v1/namespaces/default"
        await api.post(f"{ns}/configmaps", json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                                 "data": {"a": "b"}})
        await api.get(f"{ns}/configmaps/c")
        await api.get(f"{ns}/configmaps")
        await api.patch(f"{ns}/configmaps/c", json={"data": {"a": "c"}},
                        headers={"Content-Type": "application/merge-patch+json"})
        await api.delete(f"{ns}/configmaps/c")
        await api.post(f"{ns}/secrets", json={"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                                              "stringData": {"pw": secret_text}})
        await api.get(f"{ns}/secrets/s")
        await api.get(f"{ns}/secrets")
        await api.post(f"{ns}/serviceaccounts/default/token", json={"apiVersion": "authentication.k8s.io/v1",
                                                                    "kind": "TokenRequest"})
        async with api.watch(f"{ns}/pods", params={"timeoutSeconds": "1"}) as w:
            while await w.next() is not None:
                pass
        req = Requester(api.base, Path(api.data_dir))
        try:
            await req.request(ANONYMOUS, "GET", f"{ns}/pods")
            await req.request(cert_identity("nobody"), "GET", f"{ns}/pods")
        finally:
            await req.close()
    text = log.read_text()
    assert secret_text not in text
    import base64

    assert base64.b64encode(secret_text.encode()).decode() not in text
    events = [e for e in _events(log) if e["stage"] == "ResponseComplete"]
    seen = {(e["verb"], e["objectRef"]["resource"], e["responseStatus"]["code"]) for e in events if "objectRef" in e}
    for want in [("create", "configmaps", 201), ("get", "configmaps", 200), ("list", "configmaps", 200),
                 ("patch", "configmaps", 200), ("delete", "configmaps", 200), ("create", "secrets", 201),
                 ("get", "secrets", 200), ("list", "secrets", 200), ("create", "serviceaccounts", 201),
                 ("watch", "pods", 200), ("list", "pods", 401), ("list", "pods", 403)]:
        assert want in seen, want
    create_cm = next(e for e in events if e["verb"] == "create" and e["objectRef"]["resource"] == "configmaps")
    assert create_cm["level"] == "RequestResponse" and create_cm["requestObject"]["data"] == {"a": "b"}
    assert create_cm["user"]["username"] == "kubernetes-admin" and "system:masters" in create_cm["user"]["groups"]
    assert create_cm["objectRef"] == {"resource": "configmaps", "apiVersion": "v1", "namespace": "default"}
    assert create_cm["annotations"]["authorization.k8s.io/decision"] == "allow"
    for e in events:
        assert e["kind"] == "Event" and e["apiVersion"] == "audit.k8s.io/v1" and e["auditID"]
        assert e["requestReceivedTimestamp"] <= e["stageTimestamp"] and e["sourceIPs"] == ["127.0.0.1"]
        if e.get("objectRef", {}).get("resource") in ("secrets",) or e.get("objectRef", {}).get("subresource") == "token":
            assert "requestObject" not in e and "responseObject" not in e
    forbidden = next(e for e in events if e["responseStatus"]["code"] == 403)
    assert forbidden["user"]["username"] == "nobody"
    assert forbidden["annotations"]["authorization.k8s.io/decision"] == "forbid"
    stages = {e["stage"] for e in _events(log)}
    assert stages == {"RequestReceived", "ResponseComplete"}


@pytest.mark.parametrize("depth", [980, 10_000])
async def test_a_body_too_deep_to_audit_is_still_answered(tmp_path: Path, depth: int) -> None:
    # With a RequestResponse policy, 10k levels overflowed the audit's own decode of the body and
    # the request ended in aiohttp's plain 500 ("Server got itself in trouble").
    policy = tmp_path / "policy.yaml"
    policy.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: RequestResponse\n")
    log = tmp_path / "audit.log"
    deep = '{"a":' * depth + "1" + "}" * depth
    body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d"},"x":' + deep + "}"
    async with running_apiserver(tmp_path, audit=AuditSettings(path=str(log), policy_file=policy)) as api:
        code, status = await api.post("/api/v1/namespaces/default/configmaps", data=body,
                                      headers={"Content-Type": "application/json"})
        assert code == 400 and status["reason"] == "BadRequest"
    events = [json.loads(line) for line in log.read_text().splitlines()]
    done = [e for e in events if e["stage"] == "ResponseComplete" and e["verb"] == "create"]
    assert done and done[-1]["responseStatus"]["code"] == 400
