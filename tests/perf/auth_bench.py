"""What security costs per request, as a table: authentication, authorization, encryption, audit.

    .venv/bin/python tests/perf/auth_bench.py [--requests 400] [--bindings 200] [--pods 100]

Starts the real apiserver in process (in-memory store) with ``--bindings`` RoleBindings spread
over namespaces and ``--pods`` pods on one node, and measures GET latency (p50/p99) of one
object as: the admin (client certificate, system:masters short cut), a static-token user
allowed by RBAC, a ServiceAccount JWT (signature check plus the account lookup), a node reading
its pod's Secret (Node authorizer walking the node's pods); then, without HTTP: RBAC decisions
per second, ES256 token verifications per second, AES-GCM seal+open of a 1 KiB Secret, and
audit events written per second. Writes tests/perf/results/auth_bench.json. A benchmark, not a
test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import platform
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from master.apiserver import authz
from master.apiserver.audit import Auditor, AuditSettings, Record
from master.apiserver.authn import UserInfo
from master.apiserver.authn_serviceaccount import ServiceAccountAuthenticator, TokenIssuer, load_keys
from master.apiserver.encryption import parse_config
from master.apiserver.requestinfo import parse_request_info
from master.util import pki
from tests.fixtures.apiserver import running_apiserver
from tests.perf.stats import pct

RESULTS = Path(__file__).parent / "results" / "auth_bench.json"


def _ctx(data_dir: Path, user: str = "", groups: tuple[str, ...] = ()) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(data_dir / "pki" / "ca.crt"))
    if user:
        ca = pki.read_cert_key(data_dir / "pki" / "ca.crt", data_dir / "pki" / "ca.key")
        pair = pki.client_cert(ca, user, groups=list(groups))
        d = data_dir / "bench-ids"
        pki.write_cert_key(pair, d / f"{user.replace(':', '_')}.crt", d / f"{user.replace(':', '_')}.key")
        ctx.load_cert_chain(d / f"{user.replace(':', '_')}.crt", d / f"{user.replace(':', '_')}.key")
    return ctx


async def _latency(base: str, ctx: ssl.SSLContext, path: str, n: int, headers: dict[str, str]) -> dict[str, float]:
    lat: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as s:
        for _ in range(n):
            t0 = time.perf_counter()
            async with s.get(base + path, headers=headers) as resp:
                await resp.read()
                assert resp.status == 200, resp.status
            lat.append(time.perf_counter() - t0)
    return {"p50_ms": pct(lat, 0.5) * 1e3, "p99_ms": pct(lat, 0.99) * 1e3}


async def _ok(api: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    code, out = await api.post(path, json=body)
    assert code == 201, out
    return dict(out)


async def bench(n: int, bindings: int, pods: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="auth-bench-") as tmp:
        root = Path(tmp)
        (root / "tokens.csv").write_text("alice-token,alice,1,\n")
        async with running_apiserver(root / "d", token_auth_file=root / "tokens.csv") as api:
            data = Path(api.data_dir)
            rbac = "/apis/rbac.authorization.k8s.io/v1"
            namespaces = max(1, bindings // 2)
            for i in range(namespaces):
                await _ok(api, "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                       "metadata": {"name": f"ns-{i}"}})
            for i in range(bindings):
                await _ok(api, f"{rbac}/namespaces/ns-{i % namespaces}/rolebindings", {
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": f"b{i}"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                    "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": f"user-{i}"}]})
            await _ok(api, f"{rbac}/namespaces/ns-0/rolebindings", {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "alice"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
                "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}]})
            await _ok(api, "/api/v1/namespaces/ns-0/secrets", {"apiVersion": "v1", "kind": "Secret",
                                                                "metadata": {"name": "s"}, "data": {"k": "dg=="}})
            for i in range(pods):
                volumes = [{"name": "s", "secret": {"secretName": "s"}}] if i == pods - 1 else []
                await _ok(api, "/api/v1/namespaces/ns-0/pods", {
                    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}"},
                    "spec": {"nodeName": "pi-1", "automountServiceAccountToken": False, "volumes": volumes,
                             "containers": [{"name": "c", "image": "busybox"}]}})
            tr = await _ok(api, "/api/v1/namespaces/ns-0/serviceaccounts/default/token",
                           {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest"})
            sa_token = tr["status"]["token"]
            secret = "/api/v1/namespaces/ns-0/secrets/s"
            cm_list = "/api/v1/namespaces/ns-0/configmaps"
            out["get_admin_cert"] = await _latency(api.base, _ctx(data, "kubernetes-admin", ("system:masters",)),
                                                   secret, n, {})
            out["get_rbac_token"] = await _latency(api.base, _ctx(data), secret, n,
                                                   {"Authorization": "Bearer alice-token"})
            await _ok(api, f"{rbac}/namespaces/ns-0/rolebindings", {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "sa"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "ns-0"}]})
            out["list_sa_jwt"] = await _latency(api.base, _ctx(data), cm_list, n,
                                                {"Authorization": f"Bearer {sa_token}"})
            out["get_node_graph"] = await _latency(api.base, _ctx(data, "system:node:pi-1", ("system:nodes",)),
                                                   secret, n, {})
            server = api.server
            user = UserInfo(f"user-{bindings - 1}", ("system:authenticated",))
            info = parse_request_info("GET", f"/api/v1/namespaces/ns-{(bindings - 1) % namespaces}/pods")
            count, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < 1.0:
                authz.authorize(server.authorizers, authz.Attributes(user, info))
                count += 1
            out["rbac_decisions_per_s"] = count / (time.perf_counter() - t0)

    with tempfile.TemporaryDirectory(prefix="auth-bench-") as tmp:
        keys = load_keys(Path(tmp))
        token, _ = TokenIssuer(keys).issue(namespace="n", name="a", uid="u", audiences=[], expiration_seconds=3600)
        sa = {"metadata": {"uid": "u"}}

        async def lookup(*_: str) -> dict[str, Any]:
            return sa

        auth = ServiceAccountAuthenticator(keys, lookup)
        count, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 1.0:
            await auth.authenticate_token(token)
            count += 1
        out["es256_verifications_per_s"] = count / (time.perf_counter() - t0)

        chain = parse_config({"apiVersion": "apiserver.config.k8s.io/v1", "kind": "EncryptionConfiguration",
                              "resources": [{"resources": ["secrets"], "providers": [{"aesgcm": {"keys": [
                                  {"name": "k", "secret": base64.b64encode(b"k" * 32).decode()}]}}]}]}).chains["secrets"]
        payload = b"x" * 1024
        times = []
        for _ in range(2000):
            t = time.perf_counter()
            chain.from_storage(b"/registry/secrets/a/b", chain.to_storage(b"/registry/secrets/a/b", payload))
            times.append(time.perf_counter() - t)
        out["aesgcm_1kib_seal_open_us"] = statistics.median(times) * 1e6

        auditor = Auditor.from_settings(AuditSettings(path=str(Path(tmp) / "audit.log")))
        assert auditor is not None
        rec_info = parse_request_info("GET", "/api/v1/namespaces/a/pods/p")
        count, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 1.0:
            rec = Record(rec_info, "/api/v1/namespaces/a/pods/p", "10.0.0.1", "bench", time.time(),
                         user=UserInfo("u", ("g",)))
            auditor.begin(rec)
            auditor.complete(rec, 200, now=time.time())
            count += 1
        auditor.close()
        out["audit_requests_per_s"] = count / (time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--bindings", type=int, default=200)
    ap.add_argument("--pods", type=int, default=100)
    args = ap.parse_args()
    res = asyncio.run(bench(args.requests, args.bindings, args.pods))
    print(f"{'measure':<34} {'value':>12}")
    for k, v in res.items():
        if isinstance(v, dict):
            print(f"{k + ' (p50 / p99 ms)':<34} {v['p50_ms']:>6.2f} / {v['p99_ms']:.2f}")
        else:
            print(f"{k:<34} {v:>12.1f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": platform.machine(), "python": platform.python_version(),
                                   "requests": args.requests, "bindings": args.bindings, "pods": args.pods, **res},
                                  indent=2) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
