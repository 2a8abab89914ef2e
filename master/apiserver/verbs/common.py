"""What every verb handler shares: the call context, query parsing, responses."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from master.apiserver import body, errors
from master.apiserver.authn import UserInfo
from master.apiserver.registry import Served
from master.apiserver.requestinfo import RequestInfo, query_bool
from master.apiserver.storage import ResourceStorage
from master.apiserver.watchcache import WatchCache

if TYPE_CHECKING:
    from master.apiserver.server import ApiServer

__all__ = ["BODY", "Call", "Retry", "bool_param", "int_param", "now_rfc3339", "resource_version"]


# 9999-12-31T23:59:59Z: RFC 3339 has four-digit years (a pod deleted with a grace period of 2**62
# seconds is due then; past it gmtime overflowed, a 500, and clients could not parse year 33715).
_LAST_RFC3339 = 253402300799


def now_rfc3339(ts: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(min(time.time() if ts is None else ts, _LAST_RFC3339)))


_MAX_REVISION = 2**63 - 1  # etcd revisions are int64, as are Go's integer query parameters


def int_param(request: web.Request, name: str, *, minimum: int | None = None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    # Go's ParseInt: ASCII digits of an int64 (int() also takes "٣", "1_0" and " 5").
    digits = raw[1:] if raw.startswith("-") else raw
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 19 or abs(int(raw)) > _MAX_REVISION:
        raise errors.bad_request(f"invalid value for {name}: {raw[:40]!r} is not an integer")
    value = int(raw)
    if minimum is not None and value < minimum:
        raise errors.bad_request(f"invalid value for {name}: must be >= {minimum}")
    return value


def resource_version(text: str) -> int:
    """A resourceVersion as Kubernetes parses it for etcd: ASCII digits of an int64, else 400.
    (``int()`` took "٣" and "1_0", and 5000 digits raised a ValueError of its own: a 500.)"""
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > _MAX_REVISION:
        raise errors.bad_request(f"invalid resourceVersion {text[:40]!r}")
    return int(text)


def bool_param(request: web.Request, name: str) -> bool:
    return query_bool(request.query.get(name))


# A body read early (pods' bindings are routed by a name inside the body).
BODY = web.RequestKey("body", bytes)


@dataclass
class Call:
    server: ApiServer
    request: web.Request
    served: Served
    info: RequestInfo
    user: UserInfo
    # DeleteOptions.dryRun ["All"] in a DELETE's body (where kubectl puts it) makes a dry run too.
    body_dry_run: bool = False

    @property
    def storage(self) -> ResourceStorage:
        return self.server.storage_for(self.served)

    @property
    def cache(self) -> WatchCache:
        return self.server.cache_for(self.served)

    @property
    def namespace(self) -> str:
        return self.info.namespace if self.served.namespaced else ""

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def dry_run(self) -> bool:
        values = self.request.query.getall("dryRun", [])
        for v in values:
            if v != "All":
                raise errors.bad_request(f'invalid dryRun value {v!r}: only "All" is supported')
        return self.body_dry_run or bool(values)

    async def read_body(self) -> bytes:
        settings = self.server.settings
        return await body.read_body(self.request, settings.max_body_bytes, settings.body_timeout)

    async def read_object(self) -> dict[str, Any]:
        data = self.request.get(BODY)
        if data is None:
            data = await self.read_body()
        return body.parse_object(data, body.media_type(self.request))

    def not_found(self, name: str | None = None) -> errors.ApiError:
        return errors.not_found(self.served.plural, name if name is not None else self.name, self.served.group)

    def check_type_meta(self, obj: dict[str, Any], *, kind: str | None = None, api_version: str | None = None) -> None:
        want_kind = kind or self.served.kind
        want_version = api_version or self.served.api_version
        got_kind = obj.get("kind") or ""
        got_version = obj.get("apiVersion") or ""
        if not isinstance(got_kind, str) or not isinstance(got_version, str):
            raise errors.bad_request("apiVersion and kind must be strings")
        if got_version and got_version != want_version:
            raise errors.bad_request(
                f"the API version in the data ({got_version}) does not match the expected API version ({want_version})"
            )
        if got_kind and got_kind != want_kind:
            raise errors.bad_request(f"the kind in the data ({got_kind}) does not match the expected kind ({want_kind})")
        obj["kind"] = want_kind
        obj["apiVersion"] = want_version

    def check_shape(self, obj: dict[str, Any], cls: type) -> None:
        """400 when a body a subresource reads as builtins (a Binding, an Eviction, a TokenRequest)
        does not have the shape of its ``master.api`` type: a string where an object belongs was a
        500 in the handler that then read it."""
        from master.api import codec

        try:
            codec.convert(obj, cls)
        except codec.DecodeError as exc:
            kind, version = obj.get("kind"), str(obj.get("apiVersion", "")).rpartition("/")[2]
            where = f" at {exc.path}" if exc.path else ""
            raise errors.bad_request(
                f'{kind} in version "{version}" cannot be handled as a {kind}: {exc.detail}{where}') from exc

    def metadata(self, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj.get("metadata")
        if meta is None:
            meta = obj["metadata"] = {}
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        return meta


class Retry:
    """When a write that names no resourceVersion (a patch, an unconditional update, a delete
    without preconditions) goes again after a 409 Conflict: kube-apiserver's GuaranteedUpdate
    retries for as long as the conflicts come from other writes landing in between (each proves
    progress; 120 concurrent label patches all succeed), and gives up only when ``limit``
    conflicts in a row saw nothing new stored."""

    def __init__(self, call: Call, limit: int = 5) -> None:
        self.call = call
        self.limit = limit
        self.stalls = 0

    def after_conflict(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        """``before`` is the copy the failed write started from, ``after`` the store's now."""
        if int(after["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"]):
            self.stalls = 0
            return
        self.stalls += 1
        if self.stalls >= self.limit:
            served = self.call.served
            raise errors.conflict(served.plural, self.call.name, served.group, "too many concurrent updates")
