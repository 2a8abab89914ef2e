"""Bearer tokens: bootstrap tokens (expired, deleted, wrong secret, wrong usage), ServiceAccount
tokens (TokenRequest, bound objects, tampering, expiry, other issuers), TokenReview."""

from __future__ import annotations

import base64
import datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from master.apiserver.authn import Denied, UserInfo
from master.apiserver.authn_bootstrap import BootstrapTokenAuthenticator
from master.apiserver.authn_serviceaccount import ServiceAccountAuthenticator, TokenIssuer, load_keys
from master.util import jointoken, jws
from master.util.clock import FakeClock
from tests.fixtures.apiserver import Api
from tests.unit.master.apiserver.auth.auth_helpers import Requester, pod, token_identity

TOKEN = jointoken.BootstrapToken("abcdef", "0123456789abcdef")
NODES = "/api/v1/nodes"
CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests"


def _secret(token: jointoken.BootstrapToken, **kw: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "type": jointoken.SECRET_TYPE,
            "metadata": {"name": token.secret_name, "namespace": "kube-system"},
            "data": jointoken.secret_data(token, **kw)}


def _in(hours: float) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=hours)


@pytest.mark.parametrize(
    ("secret", "token", "ok"),
    [
        pytest.param(_secret(TOKEN, expires=_in(1)), str(TOKEN), True, id="valid"),
        pytest.param(_secret(TOKEN, expires=None), str(TOKEN), True, id="never-expires"),
        pytest.param(_secret(TOKEN, expires=_in(-1)), str(TOKEN), False, id="expired"),
        pytest.param(None, str(TOKEN), False, id="deleted"),
        pytest.param(_secret(TOKEN, expires=_in(1)), "abcdef.ffffffffffffffff", False, id="wrong-secret"),
        pytest.param(_secret(TOKEN, expires=_in(1), usages=["signing"]), str(TOKEN), False, id="signing-only"),
        pytest.param({**_secret(TOKEN, expires=_in(1)), "type": "Opaque"}, str(TOKEN), False, id="wrong-type"),
        pytest.param(_secret(TOKEN, expires=_in(1)), "ABCDEF.0123456789abcdef", False, id="not-a-token"),
    ],
)
async def test_bootstrap_token(apiserver: Api, secret: dict[str, Any] | None, token: str, ok: bool) -> None:
    if secret is not None:
        code, out = await apiserver.post("/api/v1/namespaces/kube-system/secrets", json=secret)
        assert code == 201, out
    req = Requester(apiserver.base, Path(apiserver.data_dir))
    try:
        code, out = await req.request(token_identity("t", token), "GET", CSRS)
        assert code == (200 if ok else 401), out
        if ok:
            code, out = await req.request(token_identity("t", token), "POST",
                                          "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                          body={"apiVersion": "authentication.k8s.io/v1",
                                                "kind": "SelfSubjectReview"})
            info = out["status"]["userInfo"]
            assert info["username"] == "system:bootstrap:abcdef"
            assert set(info["groups"]) == {"system:bootstrappers", jointoken.DEFAULT_EXTRA_GROUP,
                                           "system:authenticated"}
    finally:
        await req.close()


async def test_bootstrap_token_deleted_after_use_stops_working(apiserver: Api) -> None:
    await apiserver.post("/api/v1/namespaces/kube-system/secrets", json=_secret(TOKEN, expires=_in(1)))
    req = Requester(apiserver.base, Path(apiserver.data_dir))
    try:
        assert (await req.request(token_identity("t", str(TOKEN)), "GET", CSRS))[0] == 200
        code, _ = await apiserver.delete(f"/api/v1/namespaces/kube-system/secrets/{TOKEN.secret_name}")
        assert code == 200
        assert (await req.request(token_identity("t", str(TOKEN)), "GET", CSRS))[0] == 401
    finally:
        await req.close()


async def test_bootstrap_authenticator_expiry_follows_the_clock() -> None:
    clock = FakeClock()
    secret = _secret(TOKEN, expires=datetime.datetime.fromtimestamp(clock.time() + 60, datetime.UTC))

    async def lookup(ns: str, name: str) -> dict[str, Any] | None:
        return secret if (ns, name) == ("kube-system", TOKEN.secret_name) else None

    auth = BootstrapTokenAuthenticator(lookup, clock=clock)
    assert isinstance(await auth.authenticate_token(str(TOKEN)), UserInfo)
    await clock.advance(61)
    assert isinstance(await auth.authenticate_token(str(TOKEN)), Denied)
    assert await auth.authenticate_token("not-a-bootstrap-token") is None


async def _token(api: Api, sa: str, spec: dict[str, Any] | None = None, ns: str = "default") -> str:
    code, out = await api.post(f"/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token",
                               json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                     "spec": spec or {}})
    assert code == 201, out
    return str(out["status"]["token"])


async def _whoami(api: Api, token: str) -> tuple[int, Any]:
    req = Requester(api.base, Path(api.data_dir))
    try:
        return await req.request(token_identity("sa", token), "POST",
                                 "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                 body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    finally:
        await req.close()


async def test_token_request_and_bound_pod(apiserver: Api) -> None:
    await apiserver.post("/api/v1/namespaces/default/serviceaccounts",
                         json={"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "app"}})
    code, p = await apiserver.post("/api/v1/namespaces/default/pods", json=pod("web", "pi-1", sa="app"))
    assert code == 201, p
    plain = await _token(apiserver, "app")
    bound = await _token(apiserver, "app", {"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "web",
                                                               "uid": p["metadata"]["uid"]},
                                            "expirationSeconds": 600})
    code, out = await _whoami(apiserver, bound)
    assert code == 201, out
    info = out["status"]["userInfo"]
    assert info["username"] == "system:serviceaccount:default:app"
    assert "system:serviceaccounts:default" in info["groups"]
    assert info["extra"]["authentication.kubernetes.io/pod-name"] == ["web"]
    # The pod goes: its token dies, the unbound one lives on.
    code, _ = await apiserver.delete("/api/v1/namespaces/default/pods/web", params={"gracePeriodSeconds": "0"})
    assert code == 200
    assert (await _whoami(apiserver, bound))[0] == 401
    assert (await _whoami(apiserver, plain))[0] == 201
    # The service account goes (and comes back with a new uid): every token of it dies.
    await apiserver.delete("/api/v1/namespaces/default/serviceaccounts/app")
    await apiserver.post("/api/v1/namespaces/default/serviceaccounts",
                         json={"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "app"}})
    assert (await _whoami(apiserver, plain))[0] == 401


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        pytest.param({"expirationSeconds": 60}, 422, id="too-short"),
        pytest.param({"boundObjectRef": {"kind": "Node", "name": "x"}}, 422, id="bad-bound-kind"),
        pytest.param({"boundObjectRef": {"kind": "Pod", "name": "nope"}}, 404, id="bound-pod-missing"),
        pytest.param({"audiences": [""]}, 400, id="empty-audience"),
        pytest.param({"expirationSeconds": "soon"}, 400, id="not-a-number"),
    ],
)
async def test_token_request_bad_input(apiserver: Api, spec: dict[str, Any], code: int) -> None:
    got, out = await apiserver.post("/api/v1/namespaces/default/serviceaccounts/default/token",
                                    json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                          "spec": spec})
    assert got == code, out


async def test_token_request_for_missing_account_is_404(apiserver: Api) -> None:
    code, _ = await apiserver.post("/api/v1/namespaces/default/serviceaccounts/ghost/token",
                                   json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest"})
    assert code == 404


def _tamper(token: str, **claims: Any) -> str:
    head, payload, sig = token.split(".")
    body = msgspec.json.decode(jws.b64url_decode(payload))
    body.update(claims)
    return f"{head}.{jws.b64url(msgspec.json.encode(body))}.{sig}"


async def test_tampered_and_foreign_tokens_are_401(apiserver: Api, tmp_path: Path) -> None:
    token = await _token(apiserver, "default")
    assert (await _whoami(apiserver, token))[0] == 201
    forged = _tamper(token, sub="system:serviceaccount:kube-system:default")
    assert (await _whoami(apiserver, forged))[0] == 401
    # Signed by a key the apiserver does not know, claiming its issuer.
    keys = load_keys(tmp_path / "other")
    sa = (await apiserver.get("/api/v1/namespaces/default/serviceaccounts/default"))[1]
    other, _ = TokenIssuer(keys).issue(namespace="default", name="default", uid=sa["metadata"]["uid"],
                                       audiences=[], expiration_seconds=600)
    assert (await _whoami(apiserver, other))[0] == 401
    # An "alg: none" token.
    head = jws.b64url(b'{"alg":"none"}')
    assert (await _whoami(apiserver, f"{head}.{token.split('.')[1]}."))[0] == 401


async def test_service_account_token_expiry_and_audience(tmp_path: Path) -> None:
    clock = FakeClock()
    keys = load_keys(tmp_path)
    sa = {"metadata": {"uid": "u1", "name": "app", "namespace": "ns"}}

    async def lookup(plural: str, ns: str, name: str) -> dict[str, Any] | None:
        return sa if (plural, ns, name) == ("serviceaccounts", "ns", "app") else None

    issuer = TokenIssuer(keys, clock=clock)
    auth = ServiceAccountAuthenticator(keys, lookup, clock=clock)
    token, _ = issuer.issue(namespace="ns", name="app", uid="u1", audiences=[], expiration_seconds=600)
    assert isinstance(await auth.authenticate_token(token), UserInfo)
    await clock.advance(600 + 61)
    assert isinstance(await auth.authenticate_token(token), Denied)
    other_aud, _ = issuer.issue(namespace="ns", name="app", uid="u1", audiences=["vault"], expiration_seconds=600)
    assert isinstance(await auth.authenticate_token(other_aud), Denied)
    assert isinstance(await auth.authenticate_token(other_aud, audiences=["vault"]), UserInfo)
    assert await auth.authenticate_token("a.b.c") is None  # not ours: another authenticator may know it


async def test_token_review(apiserver: Api) -> None:
    token = await _token(apiserver, "default")
    for t, ok in ((token, True), ("garbage", False), (str(TOKEN), False)):
        code, out = await apiserver.post("/apis/authentication.k8s.io/v1/tokenreviews",
                                         json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                                               "spec": {"token": t}})
        assert code == 201, out
        assert out["status"]["authenticated"] is ok
        assert "token" not in out["spec"]  # the answer never echoes the token
        if ok:
            assert out["status"]["user"]["username"] == "system:serviceaccount:default:default"


def test_token_secret_parsing() -> None:
    secret = _secret(TOKEN, expires=_in(1), description="pi rack")
    stored = jointoken.stored_token(secret)
    assert stored is not None and stored.token == TOKEN and stored.description == "pi rack"
    assert stored.usages == {"authentication", "signing"}
    broken = {**secret, "data": {**secret["data"], "token-id": base64.b64encode(b"zzzzzz").decode()}}
    assert jointoken.stored_token(broken) is None
    with pytest.raises(ValueError):
        jointoken.secret_data(TOKEN, expires=None, groups=["ops"])
    with pytest.raises(ValueError):
        jointoken.parse_join_token("K10abc::abcdef.0123456789abcdef")
    join = jointoken.JoinToken("a" * 64, TOKEN)
    assert jointoken.parse_join_token(str(join)) == join
