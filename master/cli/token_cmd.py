"""``pictl token``: join tokens for new agents (kubeadm token's verbs).

::

    pictl token create [TOKEN] [--ttl 24h] [--description TEXT] [--usages authentication,signing]
                       [--groups system:bootstrappers:...] [--print-join-command --server URL]
        K10<sha256 of the cluster CA>::abcdef.0123456789abcdef
    pictl token list            TOKEN, TTL, EXPIRES, USAGES, DESCRIPTION, EXTRA GROUPS
    pictl token delete abcdef [0123ab.0123456789abcdef ...]

A token is a Secret ``kube-system/bootstrap-token-<id>`` (``master.util.jointoken``); the
printed join token adds the SHA-256 of the cluster CA (from the kubeconfig, else from
kube-public/cluster-info) so the agent can refuse an impostor server:
``pictl agent --server https://MASTER:6443 --token <join token>``. ``--ttl 0`` never expires.
"""

from __future__ import annotations

import base64
import datetime
import sys
from typing import Any

import msgspec
import typer

from master.cli.kube import options, session
from master.cli.main import CLIError

__all__ = ["register"]

SECRETS = "/api/v1/namespaces/kube-system/secrets"


def _ttl(text: str) -> float:
    return options.parse_duration(text, flag="--ttl")


def register(app: typer.Typer) -> None:
    token_app = typer.Typer(help="Manage join tokens for new agents.", no_args_is_help=True)
    app.add_typer(token_app, name="token")

    @token_app.command("create")
    @options.kube_command
    def create(
        token: str = typer.Argument("", help="The token ([a-z0-9]{6}.[a-z0-9]{16}); random when omitted."),
        ttl: str = typer.Option("24h", "--ttl", help="How long the token works (0: forever)."),
        description: str = typer.Option("", "--description", help="What the token is for."),
        usages: str = typer.Option("authentication,signing", "--usages",
                                   help="authentication (join) and/or signing (cluster-info)."),
        groups: str = typer.Option("system:bootstrappers:picluster:default-node-token", "--groups",
                                   help="Extra groups of the token's user (system:bootstrappers:...)."),
        print_join_command: bool = typer.Option(False, "--print-join-command",
                                                help="Print the whole pictl agent command line."),
        *,
        g: options.Globals,
    ) -> None:
        """Create a join token and print it (with the CA pin)."""
        from master.util import jointoken

        try:
            bt = jointoken.parse_bootstrap_token(token) if token else jointoken.generate()
        except ValueError as exc:
            raise CLIError(f"invalid token: {exc}") from None
        seconds = _ttl(ttl)
        expires = None if seconds == 0 else datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)
        try:
            data = jointoken.secret_data(bt, expires=expires, usages=[u.strip() for u in usages.split(",") if u.strip()],
                                         groups=[x.strip() for x in groups.split(",") if x.strip()],
                                         description=description)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
        session.run(g, lambda s: _create(s, bt, data, print_join_command))

    @token_app.command("list")
    @options.kube_command
    def list_(*, g: options.Globals) -> None:
        """List the join tokens."""
        session.run(g, _list)

    @token_app.command("delete")
    @options.kube_command
    def delete(
        tokens: list[str] = typer.Argument(..., help="Token ids or whole tokens."),
        *,
        g: options.Globals,
    ) -> None:
        """Delete join tokens (agents already joined keep their certificates)."""
        from master.util import jointoken

        ids = []
        for t in tokens:
            tid = t.split(".", 1)[0]
            if not jointoken.valid_token_id(tid):
                raise CLIError(f"invalid token id {tid!r}: want [a-z0-9]{{6}}")
            ids.append(tid)
        session.run(g, lambda s: _delete(s, ids))


async def _ca_pem(s: session.Session) -> bytes:
    if s.api.config.ca_data:
        return s.api.config.ca_data
    import yaml

    from master.cli.kube.rest import decode

    cm = decode(await s.api.request("GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info"))
    try:
        doc = yaml.safe_load((cm.get("data") or {}).get("kubeconfig", ""))
        return base64.b64decode(doc["clusters"][0]["cluster"]["certificate-authority-data"])
    except (yaml.YAMLError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise CLIError(f"cannot find the cluster CA (kubeconfig or kube-public/cluster-info): {exc}") from None


async def _create(s: session.Session, bt: Any, data: dict[str, str], print_join_command: bool) -> int:
    from master.util import jointoken

    try:
        digest = jointoken.ca_hash(await _ca_pem(s))
    except ValueError as exc:
        raise CLIError(f"the cluster CA is not a PEM certificate: {exc}") from None
    secret = {"apiVersion": "v1", "kind": "Secret", "type": jointoken.SECRET_TYPE,
              "metadata": {"name": bt.secret_name, "namespace": jointoken.SECRET_NAMESPACE}, "data": data}
    await s.api.request("POST", SECRETS, body=msgspec.json.encode(secret))
    join = str(jointoken.JoinToken(digest, bt))
    if print_join_command:
        print(f"pictl agent --server {s.api.config.server} --token {join}")
    else:
        print(join)
    return 0


def _row(secret: dict[str, Any], now: datetime.datetime) -> list[str] | None:
    from master.util import jointoken

    stored = jointoken.stored_token(secret)
    if stored is None:
        return None
    if stored.expires is None:
        ttl, expires = "<forever>", "<never>"
    else:
        left = (stored.expires - now).total_seconds()
        ttl = "<invalid>" if left <= 0 else _human(left)
        expires = stored.expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    return [str(stored.token), ttl, expires, ",".join(sorted(stored.usages)) or "<none>",
            stored.description or "<none>", ",".join(stored.groups) or "<none>"]


def _human(seconds: float) -> str:
    s = int(seconds)
    if s >= 86400:
        return f"{s // 86400}d"
    if s >= 3600:
        return f"{s // 3600}h"
    if s >= 60:
        return f"{s // 60}m"
    return f"{s}s"


async def _list(s: session.Session) -> int:
    from master.cli.kube.rest import decode
    from master.util import jointoken

    found = decode(await s.api.request("GET", SECRETS, params={"fieldSelector": f"type={jointoken.SECRET_TYPE}"}))
    now = datetime.datetime.now(datetime.UTC)
    rows = [r for r in (_row(item, now) for item in found.get("items") or []) if r is not None]
    header = ["TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS"]
    if not rows:
        print("No join tokens found.", file=sys.stderr)
        return 0
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


async def _delete(s: session.Session, ids: list[str]) -> int:
    from master.cli.kube import errors as kube_errors
    from master.client import errors
    from master.util import jointoken

    code = 0
    for tid in ids:
        try:
            await s.api.request("DELETE", f"{SECRETS}/{jointoken.SECRET_PREFIX}{tid}")
        except errors.NotFound:
            print(f'error: bootstrap token "{tid}" not found', file=sys.stderr)
            code = 1
            continue
        except errors.ApiError as exc:
            print(kube_errors.api_line(exc), file=sys.stderr)
            code = 1
            continue
        print(f'bootstrap token "{tid}" deleted')
    return code


