"""The HTTPS server and its request pipeline.

Every request goes through the same steps, as in kube-apiserver::

    metrics/errors/audit -> authenticate -> impersonate -> authorize -> route: non-resource | resource verb
                                                          (admit -> validate -> store inside the verb)

The error step turns an ``ApiError`` into its Status and anything unexpected into a generic 500
Status (the traceback goes to the log, never on the wire), and writes the request's audit event
(``audit``) once its code is known. Bad credentials are 401; a request without any is the
anonymous user, which the authorizers allow only the health checks, /version and
kube-public/cluster-info by default (anything else: 401); an authenticated user that is not
allowed gets 403. The health checks and /version skip authentication altogether.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from master.apiserver import audit, authn, authn_impersonation, authz, body, discovery, errors, openapi
from master.apiserver.admission import AdmissionPlugin, default_plugins
from master.apiserver.allocator import Allocators
from master.apiserver.certs import ClusterPKI
from master.apiserver.metrics import ApiMetrics
from master.apiserver.registry import Served, ServedRegistry
from master.apiserver.requestinfo import RequestInfo, parse_request_info
from master.apiserver.settings import ApiServerSettings
from master.apiserver.storage import ResourceStorage
from master.apiserver.transformer import Identity, Transformer
from master.apiserver.ttl import EXPIRING, ExpiringLeases
from master.apiserver.watchcache import INDEXES, NAME_INDEX, WatchCache
from master.store.client import Client

__all__ = ["ApiServer"]

log = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/version", "/healthz/", "/livez/", "/readyz/"})
MAX_HEAD_LINE = 64 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class RequestState:
    info: RequestInfo
    user: authn.UserInfo = authn.ANONYMOUS
    resource_label: str = ""
    # Set when the request impersonates: who really sent it.
    impersonator: authn.UserInfo | None = None
    record: audit.Record | None = None


STATE = web.RequestKey("state", RequestState)


@dataclass
class ApiServer:
    settings: ApiServerSettings
    client: Client
    pki: ClusterPKI | None = None
    registry: ServedRegistry = field(default_factory=ServedRegistry.builtin)
    authenticators: list[authn.Authenticator] = field(default_factory=lambda: [authn.X509Authenticator()])
    authorizers: list[authz.Authorizer] = field(default_factory=lambda: [authz.AlwaysAllowAuthenticated()])
    admission: list[AdmissionPlugin] = field(default_factory=default_plugins)
    transformers: dict[str, Transformer] = field(default_factory=dict)
    metrics: ApiMetrics = field(default_factory=ApiMetrics)
    # Issue 8 (``security.install`` fills them): bearer tokens for TokenReview, the
    # ServiceAccount token issuer for TokenRequest, the audit log.
    bearer: authn.BearerAuthenticator | None = None
    token_issuer: Any = None
    auditor: audit.Auditor | None = None

    def __post_init__(self) -> None:
        self.storages: dict[str, ResourceStorage] = {}
        self.caches: dict[str, WatchCache] = {}
        expiring = ExpiringLeases(self.client, ttl=self.settings.event_ttl, clock=self.settings.clock)
        for served in self.registry.storage_resources():
            st = ResourceStorage(
                self.client, resource=served.plural, group=served.group, namespaced=served.namespaced,
                transformer=self.transformers.get(served.plural, Identity()),
                leases=expiring if served.plural in EXPIRING and self.settings.event_ttl > 0 else None,
            )
            self.storages[served.plural] = st
            self.caches[served.plural] = WatchCache(
                st, fields=served.fields, capacity=self.settings.watch_cache_events,
                watcher_queue=self.settings.watcher_queue,
                progress_interval=min(self.settings.bookmark_interval, 2.0),
                index_fields=INDEXES.get(served.plural, (NAME_INDEX,)),
            )
        self.allocators = Allocators(self.settings, self.client)
        self.metrics.track_storage(lambda: {k: c.count() for k, c in self.caches.items()})
        self.started = time.time()
        self.ready = False
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.background: set[asyncio.Task[Any]] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start_storage(self) -> None:
        for cache in self.caches.values():
            await cache.start()

    async def serve(self) -> int:
        """Start listening; returns the bound port (useful with secure_port 0)."""
        app = self.build_app()
        # Request lines and header fields up to 64 KiB (aiohttp's default of 8 KiB answered a
        # label selector with a few hundred values, or a long bearer token, with a plain-text 400).
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0,
                                     keepalive_timeout=self.settings.idle_timeout,
                                     max_line_size=MAX_HEAD_LINE, max_field_size=MAX_HEAD_LINE)
        await self._runner.setup()
        ctx = self.ssl_context()
        site = web.TCPSite(self._runner, self.settings.bind_address, self.settings.secure_port, ssl_context=ctx)
        await site.start()
        addresses = self._runner.addresses
        self.port = int(addresses[0][1]) if addresses else self.settings.secure_port
        self.ready = True
        return self.port

    async def stop(self) -> None:
        self.ready = False
        if self.auditor is not None:
            self.auditor.close()
        for cache in self.caches.values():
            await cache.stop()
        for task in list(self.background):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def ssl_context(self) -> ssl.SSLContext:
        assert self.pki is not None, "serving needs the cluster PKI"
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(self.pki.ca_cert))
        ctx.load_cert_chain(self.pki.serving_cert, self.pki.serving_key)
        # Ask for a client certificate but do not demand one: the health checks and /version are
        # anonymous, and bearer tokens (issue 8) come without one.
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    def spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    # -- the pipeline ------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        # aiohttp's own limit is above ours so that ours (413 with a Status) is what clients see.
        app = web.Application(
            middlewares=[self._errors_mw, self._auth_mw],
            client_max_size=self.settings.max_body_bytes + 1024 * 1024,
        )
        app.router.add_route("*", "/{tail:.*}", self._route)
        return app

    @web.middleware
    async def _errors_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        start = time.perf_counter()
        info = parse_request_info(request.method, request.path, request.query)
        state = RequestState(info, resource_label=info.resource + (f"/{info.subresource}" if info.subresource else ""))
        request[STATE] = state
        if self.auditor is not None:
            state.record = audit.Record(info, request.path_qs, request.remote or "",
                                        request.headers.get("User-Agent", ""), time.time())
        code = 500
        resp: web.StreamResponse | None = None
        try:
            resp = await handler(request)
            code = resp.status
            return resp
        except errors.ApiError as exc:
            code = exc.code
            return self._status_response(exc.body)
        except web.HTTPRequestEntityTooLarge:
            code = 413
            return self._status_response(errors.too_large(self.settings.max_body_bytes).body)
        except web.HTTPException as exc:
            code = exc.status
            if code < 400:
                raise
            return self._status_response(errors.status(code, exc.reason.replace(" ", ""), exc.text or exc.reason))
        except (asyncio.CancelledError, ConnectionResetError):
            code = 499
            raise
        except Exception:
            log.exception("apiserver: internal error serving %s %s", request.method, request.path)
            return self._status_response(errors.internal_error().body)
        finally:
            if self.auditor is not None and state.record is not None:
                response_body = resp.body if isinstance(resp, web.Response) and isinstance(resp.body, bytes) else None
                self.auditor.complete(state.record, code, now=time.time(), request_body=request.get(body.RAW_BODY),
                                      response_body=response_body)
            if state.info.is_resource:
                seconds = None if state.info.verb == "watch" else time.perf_counter() - start
                self.metrics.request_done(state.info.verb.upper(), state.resource_label, code, seconds)

    @staticmethod
    def _status_response(status: dict[str, Any]) -> web.Response:
        return body.json_response(status, status=int(status.get("code", 500)))

    @web.middleware
    async def _auth_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        state = request[STATE]
        if request.path in PUBLIC_PATHS:
            return await handler(request)
        outcome = await authn.authenticate(self.authenticators, request)
        if isinstance(outcome, authn.Denied):
            log.info("apiserver: 401 for %s %s from %s: %s", request.method, request.path, request.remote,
                     outcome.reason)
            raise errors.unauthorized()
        user = outcome
        if not self.settings.anonymous_auth and not user.authenticated:
            raise errors.unauthorized()
        record = state.record
        if record is not None:
            record.user = user
        if authn_impersonation.requested(request):
            if not user.authenticated:
                raise errors.unauthorized()
            state.impersonator = user
            user = authn_impersonation.impersonate(request, user, self.allowed)
            if record is not None:
                record.impersonated = user
        state.user = user
        decision, reason = authz.authorize(self.authorizers, authz.Attributes(user, state.info))
        if record is not None and self.auditor is not None:
            record.decision = "allow" if decision is authz.Decision.ALLOW else "forbid"
            record.reason = reason
            self.auditor.begin(record)
        if decision is not authz.Decision.ALLOW:
            if not user.authenticated:
                raise errors.unauthorized()
            raise errors.forbidden(_forbidden_message(user, state.info, reason))
        return await handler(request)

    def allowed(self, user: authn.UserInfo, info: RequestInfo) -> bool:
        """Whether ``user`` may do what ``info`` describes (impersonation, reviews, CSR approval)."""
        decision, _ = authz.authorize(self.authorizers, authz.Attributes(user, info))
        return decision is authz.Decision.ALLOW

    async def _route(self, request: web.Request) -> web.StreamResponse:
        state = request[STATE]
        info = state.info
        if not info.is_resource:
            return await self._non_resource(request, info)
        served = self.registry.lookup(info.group, info.version, info.resource)
        if served is None:
            raise errors.ApiError(errors.status(404, "NotFound", "the server could not find the requested resource"))
        from master.apiserver import verbs

        return await verbs.dispatch(self, request, served, info, state.user)

    async def _non_resource(self, request: web.Request, info: RequestInfo) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        if path in ("/healthz", "/livez", "/readyz"):
            if path == "/readyz" and not self.ready:
                return web.Response(status=503, text="[-]ready failed: not started\nreadyz check failed")
            return web.Response(text="ok")
        if request.method not in ("GET", "HEAD"):
            raise errors.method_not_allowed()
        if path == "/version":
            return body.json_response(discovery.version_info())
        if path == "/metrics":
            return web.Response(body=generate_latest(self.metrics.registry),
                                headers={"Content-Type": CONTENT_TYPE_LATEST})
        doc = discovery.document(self.registry, path, request.headers.get("Accept", ""))
        if doc is not None:
            data, content_type = doc
            return web.Response(body=data, headers={"Content-Type": content_type, "Vary": "Accept"})
        spec = openapi.respond(self.registry, request)
        if spec is not None:
            return spec
        if path == "/":
            paths = sorted({"/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/metrics", "/version",
                            "/openapi/v2", *(f"/apis/{g}" for g in self.registry.groups()),
                            *(f"/apis/{g}/{v}" for g, v in self.registry.group_versions() if g)})
            return body.json_response({"paths": paths})
        raise errors.ApiError(errors.status(404, "NotFound", "the server could not find the requested resource"))

    # -- helpers for verbs ---------------------------------------------------------------------

    def audits_response(self, request: web.Request) -> bool:
        """Whether the audit log records this request's response body (which then must be whole)."""
        record = request[STATE].record
        return record is not None and record.level >= audit.Level.REQUEST_RESPONSE

    def storage_for(self, served: Served) -> ResourceStorage:
        return self.storages[served.plural]

    def cache_for(self, served: Served) -> WatchCache:
        return self.caches[served.plural]


def _forbidden_message(user: authn.UserInfo, info: RequestInfo, reason: str) -> str:
    if not info.is_resource:
        return f'forbidden: User "{user.name}" cannot {info.verb} path "{info.path}"' + (f": {reason}" if reason else "")
    res = info.resource + (f"/{info.subresource}" if info.subresource else "")
    where = f' in the namespace "{info.namespace}"' if info.namespace else " at the cluster scope"
    group = f' in API group "{info.group}"'
    return f'{res} is forbidden: User "{user.name}" cannot {info.verb} resource "{res}"{group}{where}' + (
        f": {reason}" if reason else "")
