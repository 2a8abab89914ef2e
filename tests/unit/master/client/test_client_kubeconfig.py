import os
import ssl
import stat
from pathlib import Path

import pytest

from master.client import errors, kubeconfig
from master.client.config import ClientConfig
from master.util import pki

CA_PEM = b"-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"

SIMPLE = """
apiVersion: v1
kind: Config
clusters:
- name: pi
  cluster:
    server: https://10.77.0.10:6443
    certificate-authority-data: {ca}
users:
- name: admin
  user:
    token: s3cret
contexts:
- name: admin@pi
  context: {{cluster: pi, user: admin, namespace: kube-system}}
- name: nouser
  context: {{cluster: pi}}
current-context: admin@pi
"""


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_load_and_resolve_current_context(tmp_path: Path) -> None:
    p = _write(tmp_path / "config", SIMPLE.format(ca=_b64(CA_PEM)))
    cfg = kubeconfig.load(p).resolve()
    assert cfg == ClientConfig(
        server="https://10.77.0.10:6443", ca_data=CA_PEM, token="s3cret", namespace="kube-system"
    )
    assert cfg.host_port == "10.77.0.10:6443"


def test_context_override_and_overrides(tmp_path: Path) -> None:
    p = _write(tmp_path / "config", SIMPLE.format(ca=_b64(CA_PEM)))
    cfg = kubeconfig.load_client_config(p, context="nouser", server="https://127.0.0.1:1", namespace="x")
    assert (cfg.server, cfg.token, cfg.namespace) == ("https://127.0.0.1:1", None, "x")


@pytest.mark.parametrize(
    ("text", "context", "message"),
    [
        pytest.param(SIMPLE.format(ca="QUJD"), "foo", 'context "foo" not found', id="missing-context"),
        pytest.param("clusters: []\n", None, "no current-context is set", id="no-current-context"),
        pytest.param(
            "contexts: [{name: a, context: {cluster: c}}]\ncurrent-context: a\n",
            None,
            'cluster "c" not found',
            id="missing-cluster",
        ),
        pytest.param(
            "clusters: [{name: c, cluster: {}}]\ncontexts: [{name: a, context: {cluster: c}}]\n",
            "a",
            'cluster "c" has no server',
            id="no-server",
        ),
        pytest.param(
            "clusters: [{name: c, cluster: {server: x}}]\n"
            "contexts: [{name: a, context: {cluster: c, user: u}}]\n",
            "a",
            'user "u" not found',
            id="missing-user",
        ),
        pytest.param(
            "clusters: [{name: c, cluster: {server: x, certificate-authority: /nonexistent/ca.crt}}]\n"
            "contexts: [{name: a, context: {cluster: c}}]\n",
            "a",
            'cluster "c": certificate-authority /nonexistent/ca.crt: No such file or directory',
            id="missing-ca-file",
        ),
        pytest.param(
            "clusters: [{name: c, cluster: {server: x, certificate-authority-data: QUJD,"
            " insecure-skip-tls-verify: true}}]\n"
            "contexts: [{name: a, context: {cluster: c}}]\n",
            "a",
            "insecure-skip-tls-verify is not allowed",
            id="ca-and-insecure",
        ),
        pytest.param(
            "clusters: [{name: c, cluster: {server: x}}]\n"
            "users: [{name: u, user: {client-certificate-data: QUJD}}]\n"
            "contexts: [{name: a, context: {cluster: c, user: u}}]\n",
            "a",
            'user "u": client certificate given without a client key',
            id="cert-without-key",
        ),
        pytest.param(
            "clusters: 5\n", None, "Expected `array | null`, got `int` - at `$.clusters`", id="bad-type"
        ),
        pytest.param(
            "clusters: [{name: c, cluster: {certificate-authority-data: '!!'}}]\n",
            None,
            "Invalid base64 encoded string - at `$.clusters[0].cluster.certificate-authority-data`",
            id="bad-base64",
        ),
        pytest.param("clusters: [\n", None, "not valid YAML", id="bad-yaml"),
        pytest.param("clusters: [{name: c, cluster: {server: !!int abc}}]\n", None, "not valid YAML",
                     id="value-not-its-tag"),
        pytest.param("kind: Pod\n", None, 'kind is "Pod", want "Config"', id="wrong-kind"),
    ],
)
def test_bad_kubeconfig_is_one_readable_line(
    tmp_path: Path, text: str, context: str | None, message: str
) -> None:
    p = _write(tmp_path / "config", text)
    with pytest.raises(errors.ConfigError) as info:
        kubeconfig.load(p).resolve(context)
    msg = str(info.value)
    assert msg.startswith(f"kubeconfig {p}: ")
    assert message in msg
    assert "\n" not in msg


def test_explicit_missing_file(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigError, match=r"kubeconfig .*/nope: No such file or directory"):
        kubeconfig.load(str(tmp_path / "nope"))


def test_empty_file_is_an_empty_config(tmp_path: Path) -> None:
    cfg = kubeconfig.load(_write(tmp_path / "config", ""))
    assert (cfg.clusters, cfg.users, cfg.contexts, cfg.current_context) == ([], [], [], "")


def test_nulls_as_kubectl_writes_them(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: Config\nclusters: null\nusers: null\ncontexts: null\npreferences: {}\n"
    cfg = kubeconfig.load(_write(tmp_path / "config", text))
    assert cfg.clusters == []


def test_kubeconfig_env_merge_first_wins_and_skips_missing(tmp_path: Path) -> None:
    a = _write(
        tmp_path / "a",
        "clusters: [{name: c, cluster: {server: https://a:1}}]\n"
        "contexts: [{name: x, context: {cluster: c}}]\n",
    )
    b = _write(
        tmp_path / "b",
        "clusters: [{name: c, cluster: {server: https://b:1}}, {name: d, cluster: {server: https://d:1}}]\n"
        "contexts: [{name: y, context: {cluster: d}}]\ncurrent-context: y\n",
    )
    env = {"KUBECONFIG": os.pathsep.join([str(tmp_path / "missing"), a, "", b])}
    cfg = kubeconfig.load(env=env)
    assert cfg.paths == (a, b)
    assert cfg.resolve().server == "https://d:1"
    assert cfg.resolve("x").server == "https://a:1"
    with pytest.raises(errors.ConfigError, match=f'kubeconfig {a}{os.pathsep}{b}: context "z" not found'):
        cfg.resolve("z")


def test_no_kubeconfig_anywhere(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigError, match="use --kubeconfig or set KUBECONFIG"):
        kubeconfig.load(env={"KUBECONFIG": str(tmp_path / "none")})


def test_default_path_is_home_kube_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert kubeconfig.default_paths({}) == [str(tmp_path / ".kube" / "config")]


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ca.crt").write_bytes(CA_PEM)
    (tmp_path / "sub" / "c.crt").write_bytes(b"CERT")
    (tmp_path / "sub" / "c.key").write_bytes(b"KEY")
    (tmp_path / "sub" / "token").write_text("tok\n")
    p = _write(
        tmp_path / "sub" / "config",
        "clusters: [{name: c, cluster: {server: https://h:6443, certificate-authority: ca.crt}}]\n"
        "users: [{name: u, user: {client-certificate: c.crt, client-key: c.key, tokenFile: token}}]\n"
        "contexts: [{name: a, context: {cluster: c, user: u}}]\ncurrent-context: a\n",
    )
    cfg = kubeconfig.load(p).resolve()
    assert (cfg.ca_data, cfg.cert_data, cfg.key_data, cfg.token) == (CA_PEM, b"CERT", b"KEY", "tok")


def test_build_write_roundtrip(tmp_path: Path) -> None:
    built = kubeconfig.build(
        server="https://10.77.0.10:6443",
        ca_data=CA_PEM,
        cert_data=b"C",
        key_data=b"K",
        user_name="system:node:pi-1",
    )
    path = tmp_path / "deep" / "admin.kubeconfig"
    kubeconfig.write(str(path), built)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "certificate-authority-data: " in text and "paths" not in text
    cfg = kubeconfig.load(str(path)).resolve()
    assert (cfg.server, cfg.ca_data, cfg.cert_data, cfg.key_data) == (
        "https://10.77.0.10:6443",
        CA_PEM,
        b"C",
        b"K",
    )
    assert kubeconfig.load(str(path)).current_context == "system:node:pi-1@picluster"
    assert list(tmp_path.joinpath("deep").iterdir()) == [path]


def test_written_file_is_readable_by_the_official_client(tmp_path: Path) -> None:
    from kubernetes import config as k8s_config

    ca = pki.create_ca()
    admin = pki.client_cert(ca, "kubernetes-admin", groups=["system:masters"])
    path = tmp_path / "admin.kubeconfig"
    kubeconfig.write(
        str(path),
        kubeconfig.build(
            server="https://127.0.0.1:6443",
            ca_data=ca.cert_pem,
            cert_data=admin.cert_pem,
            key_data=admin.key_pem,
        ),
    )
    _contexts, active = k8s_config.list_kube_config_contexts(str(path))
    assert active["name"] == "admin@picluster"
    assert active["context"] == {"cluster": "picluster", "user": "admin"}


async def test_ssl_context_does_mutual_tls(tmp_path: Path) -> None:
    """The context built from embedded PEM data verifies the server and presents the client cert."""
    import asyncio

    ca = pki.create_ca()
    server = pki.serving_cert(ca, "apiserver", ["127.0.0.1"])
    client = pki.client_cert(ca, "kubernetes-admin", groups=["system:masters"])
    pki.write_cert_key(server, tmp_path / "s.crt", tmp_path / "s.key")
    sctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    sctx.load_cert_chain(tmp_path / "s.crt", tmp_path / "s.key")
    sctx.load_verify_locations(cadata=ca.cert_pem.decode())
    sctx.verify_mode = ssl.CERT_REQUIRED
    seen: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert")
        seen.append(dict(x[0] for x in peer["subject"])["commonName"])
        writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=sctx)
    try:
        port = srv.sockets[0].getsockname()[1]
        cfg = ClientConfig(
            server=f"https://127.0.0.1:{port}",
            ca_data=ca.cert_pem,
            cert_data=client.cert_pem,
            key_data=client.key_pem,
        )
        ctx = cfg.ssl_context()
        assert ctx is not None
        _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
        writer.close()
        await writer.wait_closed()
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
        assert seen == ["kubernetes-admin"]
    finally:
        srv.close()
        await srv.wait_closed()


def test_plain_http_has_no_ssl_context() -> None:
    assert ClientConfig(server="http://127.0.0.1:8080").ssl_context() is None
    insecure = ClientConfig(server="https://x:1", insecure_skip_tls_verify=True).ssl_context()
    assert insecure is not None and insecure.verify_mode == ssl.CERT_NONE


def test_bad_server_url_names_the_file(tmp_path: Path) -> None:
    p = _write(
        tmp_path / "config",
        "clusters: [{name: c, cluster: {server: 'ftp://x'}}]\ncontexts: [{name: a, context: {cluster: c}}]\n",
    )
    with pytest.raises(
        errors.ConfigError, match=r'kubeconfig .*config: cluster "c": invalid server URL "ftp://x"'
    ):
        kubeconfig.load(p).resolve("a")
