"""Fuzzed credentials never give a 500 and never give access.

Random ``Authorization`` headers (bearer tokens that look like JWTs, bootstrap tokens, or
anything), random impersonation headers, and client certificates the cluster did not issue
(self-signed, another CA, expired, odd subjects) are thrown at one apiserver; every answer must
be 401, 403 or 400 (or a refused TLS handshake for certificates), and never the secret list.
"""

from __future__ import annotations

import asyncio
import datetime
import http.client
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from master.util import jws, pki
from tests.fixtures.apiserver import running_apiserver

SECRETS = "/api/v1/namespaces/kube-system/secrets"
DENIED = {400, 401, 403}


class Server:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = 0
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        async def main() -> None:
            self._stop = asyncio.Event()
            self._loop = asyncio.get_running_loop()
            try:
                async with running_apiserver(self.data_dir) as api:
                    self.port = int(api.base.rsplit(":", 1)[1])
                    self._ready.set()
                    await self._stop.wait()
            except BaseException as exc:
                self.error = exc
                self._ready.set()

        asyncio.run(main())

    def __enter__(self) -> Server:
        self._thread.start()
        self._ready.wait(60)
        if self.error is not None:
            raise self.error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def request(self, path: str, headers: dict[str, str], ctx: ssl.SSLContext | None = None) -> int:
        ctx = ctx or ssl.create_default_context(cafile=str(self.data_dir / "pki" / "ca.crt"))
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=30)
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            return resp.status
        finally:
            conn.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("fuzz")) as s:
        yield s


def _header_safe(value: str) -> bool:
    return value.isascii() and all(c.isprintable() for c in value)


jwt_like = st.builds(lambda a, b, c: f"{a}.{b}.{c}", st.text("abcXYZ019-_", max_size=40),
                     st.text("abcXYZ019-_=", max_size=80), st.text("abcXYZ019-_", max_size=40))
bootstrap_like = st.from_regex(r"\A[a-z0-9]{6}\.[a-z0-9]{16}\Z")
anything = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=200)
authorization = st.one_of(
    st.builds(lambda t: f"Bearer {t}", st.one_of(jwt_like, bootstrap_like, anything)),
    st.builds(lambda s, t: f"{s} {t}", st.sampled_from(["Basic", "bearer", "BEARER", "Token", ""]), anything),
    anything,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=authorization)
def test_fuzzed_authorization_headers(server: Server, header: str) -> None:
    assume(_header_safe(header))
    assert server.request(SECRETS, {"Authorization": header}) in DENIED


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(user=anything, group=anything, extra=anything)
def test_fuzzed_impersonation_by_nobody(server: Server, user: str, group: str, extra: str) -> None:
    assume(_header_safe(user) and _header_safe(group) and _header_safe(extra))
    headers = {"Impersonate-User": user, "Impersonate-Group": group, "Impersonate-Extra-x": extra}
    assert server.request(SECRETS, headers) in DENIED


def test_forged_service_account_token_shapes(server: Server) -> None:
    import msgspec

    claims = {"iss": "https://kubernetes.default.svc.cluster.local", "sub": "system:serviceaccount:kube-system:x",
              "aud": ["https://kubernetes.default.svc.cluster.local"], "exp": 4102444800,
              "kubernetes.io": {"namespace": "kube-system", "serviceaccount": {"name": "x", "uid": "u"}}}
    payload = jws.b64url(msgspec.json.encode(claims))
    other = jws.sign_es256(pki.new_key(), claims)
    none, hs256, es256 = (jws.b64url(msgspec.json.encode({"alg": a})) for a in ("none", "HS256", "ES256"))
    for token in (f"{none}.{payload}.", f"{hs256}.{payload}.{jws.b64url(b'x' * 32)}",
                  f"{es256}.{payload}.{jws.b64url(b'x' * 64)}", other, other + "x", "." * 2, "a" * 20000):
        assert server.request(SECRETS, {"Authorization": f"Bearer {token}"}) in DENIED, token[:60]


def _cert(issuer: pki.CertKey | None, cn: str, orgs: list[str], *, days: float = 1,
          start: datetime.datetime | None = None) -> pki.CertKey:
    key = pki.new_key()
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    if cn:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    name = x509.Name(attrs)
    start = start or datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer.cert.subject if issuer else name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start)
               .not_valid_after(start + datetime.timedelta(days=days)))
    cert = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    return pki.CertKey(cert, key)


@pytest.mark.parametrize(
    "kind",
    ["self-signed-admin", "other-ca-admin", "expired-from-cluster-ca", "no-common-name", "node-without-group"],
)
def test_certificates_the_cluster_did_not_issue(server: Server, kind: str, tmp_path: Path) -> None:
    ca = pki.read_cert_key(server.data_dir / "pki" / "ca.crt", server.data_dir / "pki" / "ca.key")
    if kind == "self-signed-admin":
        pair = _cert(None, "kubernetes-admin", ["system:masters"])
    elif kind == "other-ca-admin":
        pair = _cert(pki.create_ca("evil-ca"), "kubernetes-admin", ["system:masters"])
    elif kind == "expired-from-cluster-ca":
        pair = _cert(ca, "kubernetes-admin", ["system:masters"],
                     start=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=3))
    elif kind == "no-common-name":
        pair = _cert(ca, "", ["system:masters"])
    else:
        pair = _cert(ca, "system:node:pi-1", [])
    pki.write_cert_key(pair, tmp_path / "c.crt", tmp_path / "c.key")
    ctx = ssl.create_default_context(cafile=str(server.data_dir / "pki" / "ca.crt"))
    ctx.load_cert_chain(tmp_path / "c.crt", tmp_path / "c.key")
    try:
        code = server.request(SECRETS, {}, ctx)
    except (ssl.SSLError, ConnectionError, http.client.HTTPException):
        return  # the handshake refused it: no access either
    assert code in DENIED
