"""``pictl auth``: what may I (or someone) do, and who am I.

::

    pictl auth can-i create deployments [-n NS | -A] [--subresource scale]
    pictl auth can-i get pods/web                 one object
    pictl auth can-i get /healthz                 a non-resource URL
    pictl auth can-i delete nodes --as jane [--as-group ops]
    pictl auth whoami

``can-i`` prints yes or no (exit code 0 or 1) and the reason when the server gives one; it asks
with a SelfSubjectAccessReview, or a SubjectAccessReview for ``--as``/``--as-group`` (which needs
permission to create those; the user is in system:authenticated, as impersonation would make it). Types are resolved like ``pictl get`` (``deploy``, ``csr``,
``roles.rbac.authorization.k8s.io``); an unknown type is asked about as written, in the core
group.
"""

from __future__ import annotations

import sys
from typing import Any

import msgspec
import typer

from master.cli.kube import options, session
from master.cli.main import CLIError

__all__ = ["register"]

SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
SAR = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
SSR = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


def attributes(verb: str, what: str, *, namespace: str, subresource: str = "") -> dict[str, Any]:
    """The spec's resourceAttributes or nonResourceAttributes for ``can-i VERB WHAT``."""
    from master.api import registry

    if what.startswith("/"):
        return {"nonResourceAttributes": {"path": what, "verb": verb}}
    kind, _, name = what.partition("/")
    if not kind:
        raise CLIError("you must specify a resource type")
    res = registry.DEFAULT.lookup(kind)
    group, plural = ("", kind.split(".", 1)[0]) if res is None else (res.group, res.plural)
    if res is None and "." in kind:
        plural, group = kind.split(".", 1)
    attrs: dict[str, Any] = {"verb": verb, "resource": plural, "group": group}
    if res is None or res.namespaced:
        attrs["namespace"] = namespace
    if name:
        attrs["name"] = name
    if subresource:
        attrs["subresource"] = subresource
    return {"resourceAttributes": attrs}


def register(app: typer.Typer) -> None:
    auth_app = typer.Typer(help="Inspect authorization.", no_args_is_help=True)
    app.add_typer(auth_app, name="auth")

    @auth_app.command("can-i")
    @options.kube_command
    def can_i(
        verb: str = typer.Argument(..., help="get, list, create, delete, impersonate, * ..."),
        what: str = typer.Argument(..., metavar="TYPE | TYPE/NAME | NONRESOURCEURL"),
        all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="In every namespace."),
        subresource: str = typer.Option("", "--subresource", help="A subresource, e.g. log or scale."),
        as_user: str = typer.Option("", "--as", help="Ask about this user instead."),
        as_group: list[str] = typer.Option([], "--as-group", help="... in this group (repeatable)."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the exit code."),
        *,
        g: options.Globals,
    ) -> None:
        """Check whether an action is allowed."""
        if not verb.strip():
            raise CLIError("you must specify a verb")
        session.run(g, lambda s: _can_i(s, verb, what, all_namespaces, subresource, as_user, as_group, quiet))

    @auth_app.command("whoami")
    @options.kube_command
    def whoami(*, g: options.Globals) -> None:
        """Print the user the server sees (a SelfSubjectReview)."""
        session.run(g, _whoami)


async def _can_i(s: session.Session, verb: str, what: str, all_namespaces: bool, subresource: str,
                 as_user: str, as_groups: list[str], quiet: bool) -> int:
    from master.cli.kube.rest import decode

    spec = attributes(verb, what, namespace="" if all_namespaces else s.namespace, subresource=subresource)
    if as_user or as_groups:
        # As impersonation would (kubectl --as): every user but the anonymous one is authenticated.
        groups = list(as_groups)
        if as_user != "system:anonymous" and "system:authenticated" not in groups:
            groups.append("system:authenticated")
        spec.update({"user": as_user, "groups": groups})
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}
        path = SAR
    else:
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": spec}
        path = SSAR
    out = decode(await s.api.request("POST", path, body=msgspec.json.encode(review)))
    status = out.get("status") or {}
    allowed = bool(status.get("allowed"))
    if not quiet:
        reason = status.get("reason") or ""
        print(("yes" if allowed else "no") + (f" - {reason}" if reason and not allowed else ""))
    return 0 if allowed else 1


async def _whoami(s: session.Session) -> int:
    from master.cli.kube.rest import decode

    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    out = decode(await s.api.request("POST", SSR, body=msgspec.json.encode(review)))
    info = (out.get("status") or {}).get("userInfo") or {}
    rows = [("Username", info.get("username", ""))]
    if info.get("uid"):
        rows.append(("UID", info["uid"]))
    rows.append(("Groups", "[" + " ".join(info.get("groups") or []) + "]"))
    for k, v in sorted((info.get("extra") or {}).items()):
        rows.append((f"Extra: {k}", "[" + " ".join(v) + "]"))
    width = max(len(k) for k, _ in [("ATTRIBUTE", ""), *rows])
    print(f"{'ATTRIBUTE'.ljust(width)}   VALUE")
    for k, v in rows:
        print(f"{k.ljust(width)}   {v}")
    sys.stdout.flush()
    return 0
