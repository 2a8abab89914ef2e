"""The kubeconfig file: read, merge, write, select a context, resolve to a ``ClientConfig``.

The format is kubectl's (``apiVersion: v1``, ``kind: Config``)::

    apiVersion: v1
    kind: Config
    clusters:
    - name: picluster
      cluster:
        server: https://10.77.0.10:6443
        certificate-authority-data: LS0tLS1CRUdJTi...      # base64 of the CA's PEM
    users:
    - name: admin
      user:
        client-certificate-data: LS0tLS1CRUdJTi...
        client-key-data: LS0tLS1CRUdJTi...
    contexts:
    - name: admin@picluster
      context: {cluster: picluster, user: admin, namespace: default}
    current-context: admin@picluster

Where it is read from, as kubectl does: an explicit path (``--kubeconfig``) which must
exist; else ``$KUBECONFIG``, a ``:``-separated list whose missing files are skipped; else
``~/.kube/config``. A list merges with "first file wins": the first file that names a
cluster, user or context defines it, and the first non-empty ``current-context`` is used.
Relative paths in a file (``certificate-authority``, ``client-certificate``, ``client-key``,
``tokenFile``) are relative to that file's directory.

Resolution: ``*-data`` fields win over their file twins; ``token`` wins over ``tokenFile``.
A CA together with ``insecure-skip-tls-verify`` is refused, as kubectl refuses it.

Every failure is ``errors.ConfigError`` with one line naming the file, e.g.
``kubeconfig /root/.kube/config: context "foo" not found``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from master.client import errors
from master.client.config import ClientConfig
from master.util.files import write_atomic

__all__ = [
    "Cluster",
    "Context",
    "KubeConfig",
    "NamedCluster",
    "NamedContext",
    "NamedUser",
    "User",
    "build",
    "default_paths",
    "dumps",
    "load",
    "load_client_config",
    "loads",
    "write",
]

DEFAULT_PATH = os.path.join("~", ".kube", "config")


class Cluster(msgspec.Struct, omit_defaults=True, kw_only=True):
    server: str = ""
    certificate_authority: str | None = msgspec.field(default=None, name="certificate-authority")
    certificate_authority_data: bytes | None = msgspec.field(default=None, name="certificate-authority-data")
    insecure_skip_tls_verify: bool = msgspec.field(default=False, name="insecure-skip-tls-verify")
    tls_server_name: str | None = msgspec.field(default=None, name="tls-server-name")


class User(msgspec.Struct, omit_defaults=True, kw_only=True):
    client_certificate: str | None = msgspec.field(default=None, name="client-certificate")
    client_certificate_data: bytes | None = msgspec.field(default=None, name="client-certificate-data")
    client_key: str | None = msgspec.field(default=None, name="client-key")
    client_key_data: bytes | None = msgspec.field(default=None, name="client-key-data")
    token: str | None = None
    token_file: str | None = msgspec.field(default=None, name="tokenFile")


class Context(msgspec.Struct, omit_defaults=True, kw_only=True):
    cluster: str = ""
    user: str = ""
    namespace: str | None = None


class NamedCluster(msgspec.Struct):
    name: str
    cluster: Cluster


class NamedUser(msgspec.Struct):
    name: str
    user: User


class NamedContext(msgspec.Struct):
    name: str
    context: Context


class KubeConfig(msgspec.Struct, omit_defaults=True, kw_only=True):
    """One kubeconfig (or several merged). ``paths`` records where it came from, for errors."""

    api_version: str = msgspec.field(default="v1", name="apiVersion")
    kind: str = "Config"
    preferences: dict[str, Any] | None = None
    # kubectl writes ``clusters: null`` for empty lists, hence the ``| None``.
    clusters: list[NamedCluster] | None = None
    users: list[NamedUser] | None = None
    contexts: list[NamedContext] | None = None
    current_context: str = msgspec.field(default="", name="current-context")
    paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.preferences = self.preferences or {}
        self.clusters = self.clusters or []
        self.users = self.users or []
        self.contexts = self.contexts or []

    @property
    def origin(self) -> str:
        return os.pathsep.join(self.paths) if self.paths else "<memory>"

    def _fail(self, message: str) -> errors.ConfigError:
        return errors.ConfigError(f"kubeconfig {self.origin}: {message}")

    def context(self, name: str) -> Context:
        for c in self.contexts or ():
            if c.name == name:
                return c.context
        raise self._fail(f'context "{name}" not found')

    def cluster(self, name: str) -> Cluster:
        for c in self.clusters or ():
            if c.name == name:
                return c.cluster
        raise self._fail(f'cluster "{name}" not found')

    def user(self, name: str) -> User:
        for u in self.users or ():
            if u.name == name:
                return u.user
        raise self._fail(f'user "{name}" not found')

    def context_names(self) -> list[str]:
        return [c.name for c in self.contexts or ()]

    def resolve(
        self,
        context: str | None = None,
        *,
        server: str | None = None,
        namespace: str | None = None,
    ) -> ClientConfig:
        """The ``ClientConfig`` of ``context`` (default: current-context), reading referenced files.

        ``server`` and ``namespace`` override what the context says (kubectl's ``--server``,
        ``-n``).
        """
        name = context or self.current_context
        if not name:
            raise self._fail("no current-context is set (use --context)")
        ctx = self.context(name)
        if not ctx.cluster:
            raise self._fail(f'context "{name}" names no cluster')
        cl = self.cluster(ctx.cluster)
        usr = self.user(ctx.user) if ctx.user else User()
        url = server or cl.server
        if not url:
            raise self._fail(f'cluster "{ctx.cluster}" has no server')
        if "://" not in url:
            url = f"https://{url}"
        ca = cl.certificate_authority_data
        if ca is None and cl.certificate_authority:
            ca = self._read(f'cluster "{ctx.cluster}": certificate-authority', cl.certificate_authority)
        if ca is not None and cl.insecure_skip_tls_verify:
            raise self._fail(
                f'cluster "{ctx.cluster}": a certificate authority together with '
                "insecure-skip-tls-verify is not allowed"
            )
        where = f'user "{ctx.user}"'
        cert = usr.client_certificate_data
        if cert is None and usr.client_certificate:
            cert = self._read(f"{where}: client-certificate", usr.client_certificate)
        key = usr.client_key_data
        if key is None and usr.client_key:
            key = self._read(f"{where}: client-key", usr.client_key)
        if (cert is None) != (key is None):
            have, missing = ("certificate", "key") if key is None else ("key", "certificate")
            raise self._fail(f"{where}: client {have} given without a client {missing}")
        token = usr.token
        if token is None and usr.token_file:
            token = self._read(f"{where}: tokenFile", usr.token_file).decode("utf-8", "replace").strip()
        try:
            return ClientConfig(
                server=url.rstrip("/"),
                ca_data=ca,
                cert_data=cert,
                key_data=key,
                token=token or None,
                insecure_skip_tls_verify=cl.insecure_skip_tls_verify,
                tls_server_name=cl.tls_server_name,
                namespace=namespace or ctx.namespace or "default",
            )
        except errors.ConfigError as exc:
            raise self._fail(f'cluster "{ctx.cluster}": {exc}') from None

    def _read(self, what: str, path: str) -> bytes:
        try:
            with open(os.path.expanduser(path), "rb") as f:
                return f.read()
        except OSError as exc:
            raise self._fail(f"{what} {path}: {exc.strerror or exc}") from exc


def loads(data: bytes | str, *, path: str = "<memory>") -> KubeConfig:
    """Parse one kubeconfig document. Relative file references are made absolute against ``path``."""
    try:
        cfg = msgspec.yaml.decode(data, type=KubeConfig | None)
    except msgspec.ValidationError as exc:
        raise errors.ConfigError(f"kubeconfig {path}: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise errors.ConfigError(f"kubeconfig {path}: not valid YAML: {_first_line(exc)}") from exc
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        # PyYAML's constructors raise these for a value that cannot be its explicit tag (!!int abc).
        raise errors.ConfigError(f"kubeconfig {path}: not valid YAML: {_first_line(exc)}") from exc
    except RecursionError as exc:
        raise errors.ConfigError(f"kubeconfig {path}: not valid YAML: nested too deeply") from exc
    if cfg is None:
        cfg = KubeConfig()
    if path != "<memory>":
        _absolutize(cfg, os.path.dirname(os.path.abspath(path)))
        cfg.paths = (path,)
    if cfg.kind and cfg.kind != "Config":
        raise errors.ConfigError(f'kubeconfig {path}: kind is "{cfg.kind}", want "Config"')
    return cfg


def default_paths(env: Mapping[str, str] | None = None) -> list[str]:
    """``$KUBECONFIG`` split on ``:`` (empty entries dropped), else ``[~/.kube/config]``."""
    env = os.environ if env is None else env
    listed = [p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    return listed or [os.path.expanduser(DEFAULT_PATH)]


def load(path: str | None = None, *, env: Mapping[str, str] | None = None) -> KubeConfig:
    """Load ``path`` (must exist), else merge ``default_paths(env)`` (missing ones skipped)."""
    if path:
        return _load_file(path)
    paths = default_paths(env)
    found = [p for p in paths if os.path.exists(p)]
    if not found:
        raise errors.ConfigError(
            f"kubeconfig {os.pathsep.join(paths)}: no such file (use --kubeconfig or set KUBECONFIG)"
        )
    return merge([_load_file(p) for p in found])


def load_client_config(
    path: str | None = None,
    *,
    context: str | None = None,
    server: str | None = None,
    namespace: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ClientConfig:
    """``load(path).resolve(context)``: what a component or the CLI calls at start-up."""
    return load(path, env=env).resolve(context, server=server, namespace=namespace)


def merge(configs: Sequence[KubeConfig]) -> KubeConfig:
    """Merge with "first file wins" for every named entry and for current-context."""
    out = KubeConfig()
    seen: dict[str, set[str]] = {"clusters": set(), "users": set(), "contexts": set()}
    for cfg in configs:
        for section in ("clusters", "users", "contexts"):
            mine: list[Any] = getattr(out, section)
            for entry in getattr(cfg, section):
                if entry.name not in seen[section]:
                    seen[section].add(entry.name)
                    mine.append(entry)
        if not out.current_context:
            out.current_context = cfg.current_context
        if not out.preferences:
            out.preferences = cfg.preferences
        out.paths += cfg.paths
    return out


def build(
    *,
    server: str,
    ca_data: bytes | None = None,
    cert_data: bytes | None = None,
    key_data: bytes | None = None,
    token: str | None = None,
    cluster_name: str = "picluster",
    user_name: str = "admin",
    context_name: str | None = None,
    namespace: str | None = None,
) -> KubeConfig:
    """A one-cluster, one-user kubeconfig with the credentials embedded (``*-data``).

    The apiserver writes ``DATA_DIR/admin.kubeconfig`` with it, and the testbed writes node
    kubeconfigs (user ``system:node:pi-1``).
    """
    ctx_name = context_name or f"{user_name}@{cluster_name}"
    return KubeConfig(
        clusters=[NamedCluster(cluster_name, Cluster(server=server, certificate_authority_data=ca_data))],
        users=[
            NamedUser(
                user_name, User(client_certificate_data=cert_data, client_key_data=key_data, token=token)
            )
        ],
        contexts=[NamedContext(ctx_name, Context(cluster=cluster_name, user=user_name, namespace=namespace))],
        current_context=ctx_name,
    )


def dumps(cfg: KubeConfig) -> bytes:
    """YAML text of ``cfg`` (without the in-memory ``paths``)."""
    doc = msgspec.to_builtins(cfg)
    doc.pop("paths", None)
    for section in ("clusters", "users", "contexts"):
        doc.setdefault(section, [])
    return msgspec.yaml.encode(doc)


def write(path: str, cfg: KubeConfig) -> None:
    """Write ``cfg`` to ``path`` atomically with mode 0600 (it usually holds a private key)."""
    path = os.path.abspath(os.path.expanduser(path))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_atomic(path, dumps(cfg), mode=0o600)


def _load_file(path: str) -> KubeConfig:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise errors.ConfigError(f"kubeconfig {path}: {exc.strerror or exc}") from exc
    return loads(data, path=path)


def _absolutize(cfg: KubeConfig, base: str) -> None:
    def fix(p: str | None) -> str | None:
        if not p:
            return p
        p = os.path.expanduser(p)
        return p if os.path.isabs(p) else os.path.join(base, p)

    for nc in cfg.clusters or ():
        nc.cluster.certificate_authority = fix(nc.cluster.certificate_authority)
    for nu in cfg.users or ():
        nu.user.client_certificate = fix(nu.user.client_certificate)
        nu.user.client_key = fix(nu.user.client_key)
        nu.user.token_file = fix(nu.user.token_file)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
