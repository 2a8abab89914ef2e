"""watch: a chunked stream of ``{"type": ..., "object": ...}`` lines from the watch cache.

resourceVersion: unset or "0" starts with a synthetic ADDED per current object; N resumes after
N (an N the cache has not reached yet is waited for, as kube-apiserver does: only a list at such an
N fails, with 504 ResourceVersionTooLarge). An N older than the cache's window ends the stream with an ERROR event carrying a 410
Expired Status (as Kubernetes does; clients relist). ``timeoutSeconds`` ends the stream
cleanly; ``allowWatchBookmarks`` adds BOOKMARK events carrying the current resourceVersion
while the watch is quiet. Table output (``kubectl get -w``) sends one-row Tables as objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import msgspec
from aiohttp import web

from master.apiserver import body, errors, selection, tables
from master.apiserver.verbs.common import Call, bool_param, int_param, resource_version

__all__ = ["watch"]

_decoder = msgspec.json.Decoder(dict)
# How often a quiet watch checks that its client is still connected.
_LIVENESS_CHECK = 5.0
# At most this many queued events go out in one write.
WATCH_BATCH = 64


def _event(kind: str, raw: bytes) -> bytes:
    return b'{"type":"' + kind.encode() + b'","object":' + raw + b"}\n"


async def watch(call: Call) -> web.StreamResponse:
    q = call.request.query
    match = selection.predicate(
        selection.compile_label_selector(q.get("labelSelector", "")),
        selection.compile_field_selector(q.get("fieldSelector", ""), call.served),
    )
    pinned = selection.pinned_fields(q.get("fieldSelector", ""))
    if call.name:
        pinned = {**pinned, "metadata.name": call.name}
        name_match = selection.compile_field_selector(f"metadata.name={call.name}", call.served)
        inner = match

        def match(o: Any, _inner: Any = inner, _name: Any = name_match) -> bool:
            return bool(_name(o.fields)) and bool(_inner(o))

    rv_param = q.get("resourceVersion", "")
    since = resource_version(rv_param) if rv_param and rv_param != "0" else None
    timeout = int_param(call.request, "timeoutSeconds", minimum=0)
    settings = call.server.settings
    duration = float(timeout) if timeout else settings.default_watch_timeout
    bookmarks = bool_param(call.request, "allowWatchBookmarks")
    as_table = tables.wants_table(call.request.headers.get("Accept", ""))
    include = q.get("includeObject", "Metadata") or "Metadata"

    resp = web.StreamResponse(headers={"Content-Type": "application/json", "Cache-Control": "no-cache"})
    resp.enable_chunked_encoding()
    cache = call.cache
    try:
        watcher = cache.watch(call.storage.scope_prefix(call.namespace), match, since, pinned)
    except errors.ApiError as exc:
        await resp.prepare(call.request)
        await resp.write(_event("ERROR", body.encode(exc.body)))
        await resp.write_eof()
        return resp

    gauge = call.server.metrics.watchers.labels(call.served.plural)
    sent = call.server.metrics.watch_events.labels(call.served.plural)
    gauge.inc()
    first_table = True
    try:
        await resp.prepare(call.request)
        deadline = time.monotonic() + duration
        last_bookmark = time.monotonic()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            # What is queued already goes out in one write (one TLS record, one send) without
            # waiting; only a quiet watcher waits, with a timeout for bookmarks and liveness.
            items, ended = watcher.ready(WATCH_BATCH)
            if not items and not ended:
                wait = min(remaining, settings.bookmark_interval, _LIVENESS_CHECK)
                try:
                    item = await asyncio.wait_for(watcher.next(), wait)
                except TimeoutError:
                    transport = call.request.transport
                    if transport is None or transport.is_closing():
                        break  # the client went away while the watch was quiet
                    if (bookmarks and watcher.queue.empty()
                            and time.monotonic() - last_bookmark >= settings.bookmark_interval):
                        await resp.write(_bookmark(call, max(cache.rv, watcher.last_rv)))
                        last_bookmark = time.monotonic()
                    continue
                if item is None:
                    break
                items, ended = watcher.ready(WATCH_BATCH - 1)
                items.insert(0, item)
            lines = []
            for kind, obj in items:
                if as_table:
                    t = tables.table(call.served.plural, [_decoder.decode(obj.raw)], include=include,
                                     resource_version=str(obj.rv), with_columns=first_table)
                    first_table = False
                    lines.append(_event(kind, body.encode(t)))
                else:
                    lines.append(_event(kind, obj.raw))
            if lines:
                await resp.write(b"".join(lines))
                sent.inc(len(lines))
            if ended:
                break
        with contextlib.suppress(ConnectionError, RuntimeError):
            await resp.write_eof()
    except ConnectionError:
        pass
    finally:
        watcher.close()
        gauge.dec()
    return resp


def _bookmark(call: Call, rv: int) -> bytes:
    obj = {"kind": call.served.kind, "apiVersion": call.served.api_version,
           "metadata": {"resourceVersion": str(rv)}}
    return _event("BOOKMARK", body.encode(obj))
