"""Impersonation (``kubectl --as``, ``--as-group``): act as another user, when allowed to.

Headers, as Kubernetes reads them::

    Impersonate-User: jane          Impersonate-Group: ops (repeatable)
    Impersonate-Uid: 1234           Impersonate-Extra-<key>: value (repeatable)

The requester needs the ``impersonate`` verb on each thing it asks for: ``users`` (name = the
user), ``serviceaccounts`` in the account's namespace when the user is
``system:serviceaccount:<ns>:<name>``, ``groups``, ``uids`` and ``userextras/<key>``
(authentication.k8s.io); any refusal is 403. The impersonated user is in the groups asked for,
plus ``system:serviceaccounts[:<ns>]`` for a service account and ``system:authenticated``
(``system:unauthenticated`` for system:anonymous). Groups or extras without a user are 400.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from master.apiserver import errors
from master.apiserver.authn import ANONYMOUS, AUTHENTICATED, UNAUTHENTICATED, UserInfo
from master.apiserver.authn_serviceaccount import SA_GROUP, parse_username
from master.apiserver.requestinfo import RequestInfo

__all__ = ["HEADERS", "impersonate", "requested"]

USER, GROUP, UID, EXTRA = "Impersonate-User", "Impersonate-Group", "Impersonate-Uid", "Impersonate-Extra-"
HEADERS = (USER, GROUP, UID)
AUTHN_GROUP = "authentication.k8s.io"

# (user, what it asks to do) -> allowed?
Check = Callable[[UserInfo, RequestInfo], bool]


def requested(request: web.Request) -> bool:
    return any(h.lower().startswith("impersonate-") for h in request.headers)


def _ask(resource: str, name: str, *, group: str = "", namespace: str = "", subresource: str = "") -> RequestInfo:
    return RequestInfo(True, "", "impersonate", group, "", resource, subresource, namespace, name)


def impersonate(request: web.Request, user: UserInfo, allowed: Check) -> UserInfo:
    """The user ``request`` acts as; raises 400/403 ``ApiError`` for bad or refused headers."""
    name = request.headers.get(USER, "").strip()
    groups = [g.strip() for g in request.headers.getall(GROUP, []) if g.strip()]
    uid = request.headers.get(UID, "").strip()
    extra: dict[str, tuple[str, ...]] = {}
    for header in {h for h in request.headers if h.lower().startswith(EXTRA.lower())}:
        key = header[len(EXTRA):].lower()
        if not key:
            raise errors.bad_request("Impersonate-Extra- needs a key")
        extra[key] = tuple(request.headers.getall(header))
    if not name:
        if groups or uid or extra:
            raise errors.bad_request("requested impersonation of groups, a uid or extras without impersonating a user")
        raise errors.bad_request("Impersonate-User may not be empty")

    asks: list[RequestInfo] = []
    sa = parse_username(name)
    if sa is not None:
        asks.append(_ask("serviceaccounts", sa[1], namespace=sa[0]))
    else:
        asks.append(_ask("users", name))
    asks.extend(_ask("groups", g) for g in groups)
    if uid:
        asks.append(_ask("uids", uid, group=AUTHN_GROUP))
    for key, values in extra.items():
        asks.extend(_ask("userextras", v, group=AUTHN_GROUP, subresource=key) for v in values)
    for ask in asks:
        if not allowed(user, ask):
            what = ask.resource if not ask.subresource else f"{ask.resource}/{ask.subresource}"
            where = f' in the namespace "{ask.namespace}"' if ask.namespace else " at the cluster scope"
            raise errors.forbidden(f'{what} "{ask.name}" is forbidden: User "{user.name}" cannot impersonate '
                                   f'resource "{what}" in API group "{ask.group}"{where}')

    if sa is not None:
        groups = [*groups, SA_GROUP, f"{SA_GROUP}:{sa[0]}"]
    if name == ANONYMOUS.name:
        groups.append(UNAUTHENTICATED)
    elif AUTHENTICATED not in groups:
        groups.append(AUTHENTICATED)
    return UserInfo(name, tuple(dict.fromkeys(groups)), uid, extra)
