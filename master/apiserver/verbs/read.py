"""get and list.

Where a read is served from::

    get   resourceVersion "" (default)     the store (a consistent read)
          resourceVersion "0"               the watch cache (any recent state)
          resourceVersion N                 the watch cache once it has seen N (not older than N,
                                            as kube-apiserver's cacher; not the object at N)
    list  resourceVersion "" (default)      the watch cache, once it has seen the store's current
                                            revision (a consistent read, as Kubernetes 1.31 does);
                                            the store if it cannot catch up in time. With limit, the
                                            snapshot is kept briefly for the continue pages
          resourceVersionMatch=Exact, N      the store at revision N (410 once compacted)
          resourceVersion "0" or N          the watch cache (after it has seen N); limit is ignored
                                            as Kubernetes ignores it for cache reads
          continue=TOKEN                    the kept snapshot, else the store at the token's
                                            revision (410 once compacted)
"""

from __future__ import annotations

import bisect
from typing import Any

import msgspec
from aiohttp import web

from master.apiserver import body, errors, selection, tables
from master.apiserver.storage import ListPage, decode_continue, encode_continue, store_call
from master.apiserver.verbs.common import Call, int_param, resource_version
from master.apiserver.watchcache import CachedObject

__all__ = ["get", "list_"]

_decoder = msgspec.json.Decoder(dict)
# Cached lists of at least this many bytes are streamed, this many bytes at a time.
STREAM_LIST_BYTES = 256 * 1024
STREAM_CHUNK_BYTES = 64 * 1024


def _include(call: Call) -> str:
    value = call.request.query.get("includeObject", "Metadata") or "Metadata"
    if value not in ("None", "Metadata", "Object"):
        raise errors.bad_request(f'invalid includeObject {value!r}: want "None", "Metadata" or "Object"')
    return value


def respond_object(call: Call, obj: dict[str, Any], status: int = 200,
                   headers: dict[str, str] | None = None) -> web.Response:
    if tables.wants_table(call.request.headers.get("Accept", "")):
        t = tables.table(call.served.plural, [obj], include=_include(call),
                         resource_version=obj.get("metadata", {}).get("resourceVersion", ""))
        return body.json_response(t, status, headers=headers)
    return body.json_response(obj, status, headers=headers)


async def get(call: Call) -> web.StreamResponse:
    rv = call.request.query.get("resourceVersion", "")
    if rv:
        await _wait_for_cache(call, resource_version(rv))
        cached = call.cache.get(call.storage.key(call.namespace, call.name))
        if cached is None:
            raise call.not_found()
        if not tables.wants_table(call.request.headers.get("Accept", "")):
            return body.json_response(None, raw=cached.raw)
        return respond_object(call, _decoder.decode(cached.raw))
    return respond_object(call, await call.storage.get(call.namespace, call.name))


async def _wait_for_cache(call: Call, wanted: int) -> None:
    """A read not older than ``wanted`` waits for the watch cache to see it, or is 504
    ResourceVersionTooLarge (kube-apiserver's waitUntilFreshAndBlock)."""
    cache = call.cache
    if wanted > cache.rv and not await cache.wait_for(wanted, call.server.settings.fresh_cache_wait):
        raise errors.too_large_resource_version(wanted, cache.rv)


def _list_envelope(call: Call, rv: int, continue_: str = "", remaining: int = 0) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if continue_:
        meta["continue"] = continue_
    if remaining:
        meta["remainingItemCount"] = remaining
    return {"kind": call.served.list_kind, "apiVersion": call.served.api_version, "metadata": meta}


async def _cache_page(call: Call, items: list[CachedObject], rv: int, limit: int, snapshot_key: tuple[Any, ...],
                      want_table: bool, *, remember: list[CachedObject] | None = None) -> web.StreamResponse:
    """A list response from cached objects; with ``limit``, the first page and a continue token
    (the whole snapshot is kept briefly so the next pages read the same state)."""
    token, remaining = "", 0
    if limit and len(items) > limit:
        remaining = len(items) - limit
        items = items[:limit]
        token = encode_continue(rv, items[-1].key + b"\0")
        if remember is not None:
            call.cache.remember(snapshot_key, remember)
    if want_table:
        objs = [_decoder.decode(o.raw) for o in items]
        return body.json_response(tables.table(call.served.plural, objs, include=_include(call),
                                               resource_version=str(rv), continue_=token, remaining=remaining))
    head = body.encode(_list_envelope(call, rv, token, remaining))[:-1] + b',"items":['
    raws = [o.raw for o in items]
    size = len(head) + sum(map(len, raws)) + max(0, len(raws) - 1) + 2
    if size < STREAM_LIST_BYTES or call.server.audits_response(call.request):
        return body.json_response(None, raw=head + b",".join(raws) + b"]}")
    return await _stream_list(call, head, raws, size)


async def _stream_list(call: Call, head: bytes, raws: list[bytes], size: int) -> web.StreamResponse:
    """Write a large list in pieces: a copy of the whole body (and of its ciphertext, queued for
    a slow reader) would be a few MB per concurrent list on a master with ~100 MB to live in."""
    resp = web.StreamResponse()
    resp.content_type = body.JSON
    resp.content_length = size
    await resp.prepare(call.request)
    chunk, filled = [head], len(head)
    for i, raw in enumerate(raws):
        if i:
            chunk.append(b",")
        chunk.append(raw)
        filled += len(raw) + 1
        if filled >= STREAM_CHUNK_BYTES:
            # aiohttp waits here while the client's socket is full, so at most a chunk is queued.
            await resp.write(b"".join(chunk))
            chunk, filled = [], 0
    chunk.append(b"]}")
    await resp.write(b"".join(chunk))
    await resp.write_eof()
    return resp


async def _current_revision(call: Call) -> int:
    resp = await store_call(call.storage.client.range(call.storage.prefix, count_only=True))
    return resp.header.revision


async def list_(call: Call) -> web.StreamResponse:
    q = call.request.query
    labels = selection.compile_label_selector(q.get("labelSelector", ""))
    fields = selection.compile_field_selector(q.get("fieldSelector", ""), call.served)
    match = selection.predicate(labels, fields)
    limit = int_param(call.request, "limit", minimum=0) or 0
    token = q.get("continue", "")
    rv_param = q.get("resourceVersion", "")
    if rv_param:
        resource_version(rv_param)
    want_table = tables.wants_table(call.request.headers.get("Accept", ""))
    cache = call.cache
    prefix = call.storage.scope_prefix(call.namespace)
    snapshot_key = (prefix, q.get("labelSelector", ""), q.get("fieldSelector", ""))

    match_mode = q.get("resourceVersionMatch", "")
    if match_mode not in ("", "NotOlderThan", "Exact"):
        raise errors.bad_request(f'invalid resourceVersionMatch {match_mode!r}: want "NotOlderThan" or "Exact"')
    if match_mode and not rv_param:
        raise errors.bad_request("resourceVersionMatch is forbidden unless resourceVersion is provided")
    if match_mode == "Exact" and not token:
        if rv_param == "0":
            raise errors.bad_request('resourceVersionMatch "Exact" is forbidden for resourceVersion "0"')
        page = await call.storage.list(call.namespace, revision=int(rv_param), limit=limit,
                                       keep=dict_keep(labels, fields, call))
        return _store_page(call, page, want_table)
    if not token and rv_param not in ("", "0"):
        # Not older than N: the cache once it has seen N; limit is ignored, as Kubernetes does.
        await _wait_for_cache(call, int(rv_param))
        items, rv = cache.snapshot(prefix, match)
        return await _cache_page(call, items, rv, 0, snapshot_key, want_table)
    if not token and rv_param == "0":
        items, rv = cache.snapshot(prefix, match)
        return await _cache_page(call, items, rv, 0, snapshot_key, want_table)
    if not token:
        # A consistent read: from the cache once it has caught up with the store's revision.
        if await cache.wait_for(await _current_revision(call), 2.0):
            items, rv = cache.snapshot(prefix, match)
            return await _cache_page(call, items, rv, limit, (rv, *snapshot_key), want_table, remember=items)
        page = await call.storage.list(call.namespace, limit=limit, keep=dict_keep(labels, fields, call))
    else:
        revision, start = decode_continue(token)
        kept = cache.recall((revision, *snapshot_key))
        if kept is not None:
            rest = kept[bisect.bisect_left([o.key for o in kept], start):]
            return await _cache_page(call, rest, revision, limit, (revision, *snapshot_key), want_table)
        try:
            page = await call.storage.list(call.namespace, revision=revision, start=start, limit=limit,
                                           keep=dict_keep(labels, fields, call))
        except errors.ApiError as exc:
            if exc.code == 410:
                raise errors.gone(
                    "The provided continue parameter is too old to display a consistent list result. You can "
                    "start a new list without the continue parameter.") from exc
            raise
    return _store_page(call, page, want_table)


def _store_page(call: Call, page: ListPage, want_table: bool) -> web.Response:
    next_token = encode_continue(page.revision, page.next_key) if page.next_key else ""
    if want_table:
        return body.json_response(tables.table(call.served.plural, page.items, include=_include(call),
                                               resource_version=str(page.revision), continue_=next_token,
                                               remaining=page.remaining))
    out = _list_envelope(call, page.revision, next_token, page.remaining)
    out["items"] = page.items
    return body.json_response(out)


def dict_keep(labels: selection.LabelMatch | None, fields: Any, call: Call) -> Any:
    """The storage filter for label and field selectors (None: keep everything); list, watch
    and deletecollection select alike."""
    if labels is None and fields is None:
        return None
    field_of = call.served.fields

    def keep(obj: dict[str, Any]) -> bool:
        if labels is not None and not labels((obj.get("metadata") or {}).get("labels") or {}):
            return False
        return fields is None or fields(field_of(obj))

    return keep
