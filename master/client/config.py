"""How to reach and authenticate to one apiserver: the resolved form of a kubeconfig context.

``kubeconfig.load(...).resolve()`` produces a ``ClientConfig``; the REST client takes one.
Everything is already read from disk (CA, client certificate and key, token file), so a
``ClientConfig`` is a plain value that tests build directly.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from dataclasses import dataclass
from urllib.parse import urlsplit

from master.client import errors

__all__ = ["ClientConfig"]


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Connection settings. ``server`` is a base URL such as ``https://10.77.0.10:6443``.

    TLS: ``ca_data`` (PEM) verifies the server; without it the system trust store is used,
    unless ``insecure_skip_tls_verify``. ``cert_data``/``key_data`` (PEM) authenticate the
    client; ``token`` is sent as ``Authorization: Bearer``.
    """

    server: str
    ca_data: bytes | None = None
    cert_data: bytes | None = None
    key_data: bytes | None = None
    token: str | None = None
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    namespace: str = "default"
    user_agent: str = "picluster"
    # Seconds. ``timeout`` bounds one non-streaming request; watches and log streams are bounded
    # by their own ``timeoutSeconds`` and only the connect phase uses ``connect_timeout``.
    timeout: float = 30.0
    connect_timeout: float = 10.0
    # Connection failures of idempotent requests (GET, PUT, DELETE, watch start) are retried this
    # many times with a short backoff before ``errors.ConnectionError`` is raised.
    retries: int = 3

    def __post_init__(self) -> None:
        try:
            parts = urlsplit(self.server)
            port = parts.port
        except ValueError as exc:
            raise errors.ConfigError(f'invalid server URL "{self.server}": {exc}') from None
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in parts.netloc:
            raise errors.ConfigError(f'invalid server URL "{self.server}": want https://HOST[:PORT]')
        if port == 0:
            raise errors.ConfigError(f'invalid server URL "{self.server}": port 0')

    @property
    def host_port(self) -> str:
        """``10.77.0.10:6443``: the server's authority, as kubectl prints it in errors."""
        parts = urlsplit(self.server)
        return parts.netloc or self.server

    @property
    def is_https(self) -> bool:
        return urlsplit(self.server).scheme == "https"

    def ssl_context(self) -> ssl.SSLContext | None:
        """An SSL context for ``server``, or None for plain http."""
        if not self.is_https:
            return None
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        if self.insecure_skip_tls_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif self.ca_data is not None:
            try:
                ctx.load_verify_locations(cadata=self.ca_data.decode("ascii", errors="replace"))
            except (ssl.SSLError, ValueError) as exc:
                raise errors.ConfigError(
                    f"the certificate authority is not a PEM certificate: {exc}"
                ) from None
        if self.cert_data is not None and self.key_data is not None:
            try:
                _load_cert_chain(ctx, self.cert_data, self.key_data)
            except (ssl.SSLError, OSError) as exc:
                raise errors.ConfigError(f"the client certificate or key is not usable PEM: {exc}") from None
        return ctx


def _load_cert_chain(ctx: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    # ssl only loads client certificates from files. Prefer an anonymous memory file so the key
    # never reaches a disk; fall back to a private temporary file where memfd does not exist.
    if hasattr(os, "memfd_create"):
        cert_fd = os.memfd_create("client-cert")
        key_fd = os.memfd_create("client-key")
        try:
            os.write(cert_fd, cert)
            os.write(key_fd, key)
            ctx.load_cert_chain(f"/proc/self/fd/{cert_fd}", f"/proc/self/fd/{key_fd}")
        finally:
            os.close(cert_fd)
            os.close(key_fd)
        return
    with tempfile.TemporaryDirectory(prefix="picluster-tls-") as tmp:
        cert_path = os.path.join(tmp, "cert.pem")
        key_path = os.path.join(tmp, "key.pem")
        for path, data in ((cert_path, cert), (key_path, key)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        ctx.load_cert_chain(cert_path, key_path)
