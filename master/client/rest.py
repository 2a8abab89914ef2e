"""The typed async API client: CRUD, watch and subresources of the Kubernetes REST API.

Requests are built from the ``master.api`` registry (group, version, plural, namespaced of a
type) and responses decoded straight into the ``master.api`` Structs::

    async with ApiClient(kubeconfig.load_client_config()) as api:
        pod = await api.get(core.Pod, "web", namespace="default")
        pods = await api.list(core.Pod, namespace=None, field_selector="spec.nodeName=pi-1")
        async with api.watch(core.Pod, resource_version=pods.metadata.resource_version) as stream:
            async for event in stream:
                print(event.type, event.object.metadata.name)

Namespaces: for ``list``, ``watch`` and ``delete_collection`` ``namespace=None`` means every
namespace; for one object it means the object's own ``metadata.namespace``, else the
kubeconfig context's namespace (``ClientConfig.namespace``). Cluster-scoped types ignore it.

Errors are ``master.client.errors`` (``NotFound``, ``Conflict``, ``Gone`` ...). Objects are
``msgspec`` Structs; the client never keeps or mutates them.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

import msgspec

from master.api import autoscaling, codec, core, meta, policy, registry
from master.client import errors, http1, transport
from master.client.config import ClientConfig
from master.util.clock import Clock

__all__ = [
    "PATCH_CONTENT_TYPES",
    "ApiClient",
    "LogStream",
    "PatchType",
    "Watch",
    "WatchEvent",
    "resource_path",
]

T = TypeVar("T", bound=meta.Object)

PatchType = Literal["merge", "json", "strategic", "apply"]
PATCH_CONTENT_TYPES: dict[str, str] = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}

_EVENT_DECODER = msgspec.json.Decoder(meta.WatchEvent)
_STATUS_DECODER = msgspec.json.Decoder(meta.Status)


def _named(name: str, cls: type[Any]) -> str:
    if not name:
        raise ValueError(f"a {cls.__name__} name is required")
    return name


def resource_path(
    res: registry.Resource, namespace: str | None, name: str = "", subresource: str = ""
) -> str:
    """``/api/v1/namespaces/default/pods/web/status``; cluster-scoped resources drop the namespace."""
    base = f"/apis/{res.group}/{res.version}" if res.group else f"/api/{res.version}"
    if res.namespaced and namespace:
        base = f"{base}/namespaces/{quote(namespace, safe='')}"
    base = f"{base}/{res.plural}"
    if name:
        base = f"{base}/{quote(name, safe='')}"
        if subresource:
            base = f"{base}/{subresource}"
    return base


@dataclass(frozen=True, slots=True)
class WatchEvent(Generic[T]):
    """``type`` is ADDED, MODIFIED, DELETED or BOOKMARK (only metadata.resourceVersion is set)."""

    type: str
    object: T


def _params(**kw: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for k, v in kw.items():
        if v is None or v == "" or v is False:
            continue
        out.append((k, "true" if v is True else str(v)))
    return out


class ApiClient:
    """One apiserver connection pool. Close it (``await api.close()`` or ``async with``)."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        clock: Clock | None = None,
        pool_size: int = 100,
        resources: registry.Registry | None = None,
    ) -> None:
        self.config = config
        self.transport = transport.Transport(config, clock=clock, pool_size=pool_size)
        self.resources = resources or registry.DEFAULT

    def resource(self, cls: type[Any]) -> registry.Resource:
        """The registry entry of a type (``core.Pod`` -> pods in core/v1)."""
        res = self.resources.by_kind(getattr(cls, "API_VERSION", ""), getattr(cls, "KIND", ""))
        if res is None:
            raise ValueError(f"{cls.__name__} is not a resource the API serves")
        return res

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.transport.close()

    async def use_credentials(self, config: ClientConfig) -> None:
        """Switch to ``config``'s credentials (see ``Transport.use_credentials``)."""
        await self.transport.use_credentials(config)
        self.config = config

    def _ns(self, namespace: str | None, obj: meta.Object | None = None) -> str:
        if obj is not None and obj.metadata.namespace:
            return obj.metadata.namespace
        return namespace or self.config.namespace

    # ---- raw ---------------------------------------------------------------------------------
    async def request(
        self,
        method: str,
        path: str,
        *,
        params: transport.Params = None,
        body: bytes | None = None,
        content_type: str = "application/json",
        accept: str = "",
        request_timeout: float | None = None,
    ) -> bytes:
        """A raw request (``resource_path(...)``, ``/version``); the 2xx body or an ``errors``
        exception. ``accept`` overrides ``application/json`` (e.g. for kubectl's Table form)."""
        return await self.transport.request(
            method,
            path,
            params=params,
            body=body,
            content_type=content_type,
            accept=accept,
            request_timeout=request_timeout,
        )

    async def _typed(self, cls: type[T], method: str, path: str, **kw: Any) -> T:
        data = await self.transport.request(method, path, **kw)
        return _decode(data, cls)

    # ---- verbs -------------------------------------------------------------------------------
    async def get(self, cls: type[T], name: str, *, namespace: str | None = None) -> T:
        res = self.resource(cls)
        return await self._typed(cls, "GET", resource_path(res, self._ns(namespace), _named(name, cls)))

    async def list(
        self,
        cls: type[T],
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        limit: int | None = None,
        continue_: str = "",
        resource_version: str | None = None,
        resource_version_match: str | None = None,
    ) -> meta.ObjectList[T]:
        """One page (all of it without ``limit``). ``.metadata.continue_`` asks for the next."""
        res = self.resource(cls)
        params = _params(
            labelSelector=label_selector,
            fieldSelector=field_selector,
            limit=limit,
            resourceVersion=resource_version,
            resourceVersionMatch=resource_version_match,
            **{"continue": continue_},
        )
        data = await self.transport.request("GET", resource_path(res, namespace), params=params)
        try:
            return codec.decode_list(data, cls)
        except codec.DecodeError as exc:
            raise errors.DecodeError(f"{res.plural} list: {exc}") from exc

    async def list_all(
        self,
        cls: type[T],
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        page_size: int = 500,
        each: Callable[[T], T] | None = None,
    ) -> tuple[builtins.list[T], str]:
        """Every item, paging with limit/continue; (items, list resourceVersion).

        A continue token that expires mid-way (410) restarts with one unpaged list, as
        client-go's pager does. ``each`` is applied to every item as its page arrives (an
        informer interns them there, so only one page is ever held as decoded).
        """
        items: builtins.list[T] = []
        token = ""
        while True:
            try:
                page = await self.list(
                    cls,
                    namespace=namespace,
                    label_selector=label_selector,
                    field_selector=field_selector,
                    limit=page_size,
                    continue_=token,
                )
            except errors.Gone:
                if not token:
                    raise
                full = await self.list(
                    cls, namespace=namespace, label_selector=label_selector, field_selector=field_selector
                )
                return (full.items if each is None else [each(o) for o in full.items]), full.metadata.resource_version
            items.extend(page.items if each is None else map(each, page.items))
            token = page.metadata.continue_
            if not token:
                return items, page.metadata.resource_version

    async def create(
        self, obj: T, *, namespace: str | None = None, dry_run: bool = False, field_manager: str = ""
    ) -> T:
        cls = type(obj)
        res = self.resource(cls)
        params = _params(dryRun="All" if dry_run else None, fieldManager=field_manager)
        return await self._typed(
            cls, "POST", resource_path(res, self._ns(namespace, obj)), params=params, body=codec.encode(obj)
        )

    async def update(self, obj: T, *, dry_run: bool = False, field_manager: str = "") -> T:
        """PUT the object (``metadata.resourceVersion`` set: 409 Conflict if it is stale)."""
        return await self._put(obj, "", dry_run=dry_run, field_manager=field_manager)

    async def update_status(self, obj: T, *, dry_run: bool = False, field_manager: str = "") -> T:
        """PUT the status subresource: only ``status`` changes."""
        return await self._put(obj, "status", dry_run=dry_run, field_manager=field_manager)

    async def _put(self, obj: T, subresource: str, *, dry_run: bool, field_manager: str) -> T:
        cls = type(obj)
        res = self.resource(cls)
        path = resource_path(res, self._ns(None, obj), _named(obj.metadata.name, cls), subresource)
        params = _params(dryRun="All" if dry_run else None, fieldManager=field_manager)
        return await self._typed(cls, "PUT", path, params=params, body=codec.encode(obj))

    async def patch(
        self,
        cls: type[T],
        name: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: PatchType = "merge",
        subresource: str = "",
        dry_run: bool = False,
        field_manager: str = "",
        force: bool | None = None,
    ) -> T:
        """PATCH with a merge patch (dict), JSON patch (list of ops) or strategic merge patch (dict).

        ``patch`` may also be ready bytes (JSON; YAML for ``apply``).
        """
        res = self.resource(cls)
        body = patch if isinstance(patch, bytes) else msgspec.json.encode(patch)
        params = _params(dryRun="All" if dry_run else None, fieldManager=field_manager, force=force)
        return await self._typed(
            cls,
            "PATCH",
            resource_path(res, self._ns(namespace), _named(name, cls), subresource),
            params=params,
            body=body,
            content_type=PATCH_CONTENT_TYPES[patch_type],
        )

    async def delete(
        self,
        cls: type[T],
        name: str,
        *,
        namespace: str | None = None,
        grace_period_seconds: int | None = None,
        propagation_policy: str | None = None,
        preconditions: meta.Preconditions | None = None,
        dry_run: bool = False,
    ) -> T | None:
        """DELETE. Returns what the server answers: the object (its last state; while it is
        still terminating because of finalizers or a grace period, with
        ``metadata.deletionTimestamp`` set), or None when the server answers with a Status."""
        res = self.resource(cls)
        opts = meta.DeleteOptions(
            grace_period_seconds=grace_period_seconds,
            propagation_policy=propagation_policy,
            preconditions=preconditions,
            dry_run=["All"] if dry_run else [],
        )
        data = await self.transport.request(
            "DELETE", resource_path(res, self._ns(namespace), _named(name, cls)), body=codec.encode(opts)
        )
        return _object_or_none(data, cls)

    async def delete_collection(
        self,
        cls: type[T],
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        grace_period_seconds: int | None = None,
        propagation_policy: str | None = None,
    ) -> None:
        res = self.resource(cls)
        opts = meta.DeleteOptions(
            grace_period_seconds=grace_period_seconds, propagation_policy=propagation_policy
        )
        params = _params(labelSelector=label_selector, fieldSelector=field_selector)
        await self.transport.request(
            "DELETE", resource_path(res, namespace), params=params, body=codec.encode(opts)
        )

    def watch(
        self,
        cls: type[T],
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        resource_version: str = "",
        timeout_seconds: int | None = None,
        allow_bookmarks: bool = True,
    ) -> Watch[T]:
        """A watch stream; use ``async with api.watch(...) as stream: async for ev in stream``.

        Without ``resource_version`` the server first sends ADDED for every current object. An
        ERROR event raises its ``errors.ApiError`` (410 ``Gone``: the version is too old,
        relist). The stream ends when the server closes it (``timeout_seconds``).
        """
        res = self.resource(cls)
        params = _params(
            watch="true",
            labelSelector=label_selector,
            fieldSelector=field_selector,
            resourceVersion=resource_version,
            timeoutSeconds=timeout_seconds,
            allowWatchBookmarks=allow_bookmarks,
        )
        # Without a word from the server for 30 s past its own deadline the connection is dead.
        read_timeout = None if timeout_seconds is None else timeout_seconds + 30.0
        return Watch(self.transport, cls, resource_path(res, namespace), params, read_timeout=read_timeout)

    # ---- subresources ------------------------------------------------------------------------
    async def bind(self, pod_name: str, node_name: str, *, namespace: str | None = None) -> None:
        """POST pods/<name>/binding: what the scheduler does to place a pod."""
        ns = self._ns(namespace)
        binding = core.Binding(
            metadata=meta.ObjectMeta(name=pod_name, namespace=ns),
            target=core.ObjectReference(kind="Node", name=node_name, api_version="v1"),
        )
        res = self.resource(core.Pod)
        await self.transport.request(
            "POST", resource_path(res, ns, pod_name, "binding"), body=codec.encode(binding)
        )

    async def evict(
        self, pod_name: str, *, namespace: str | None = None, grace_period_seconds: int | None = None
    ) -> None:
        """POST pods/<name>/eviction (policy/v1). A PodDisruptionBudget refusal is 429 TooManyRequests."""
        ns = self._ns(namespace)
        eviction = policy.Eviction(
            metadata=meta.ObjectMeta(name=pod_name, namespace=ns),
            delete_options=(
                None
                if grace_period_seconds is None
                else meta.DeleteOptions(grace_period_seconds=grace_period_seconds)
            ),
        )
        res = self.resource(core.Pod)
        await self.transport.request(
            "POST", resource_path(res, ns, pod_name, "eviction"), body=codec.encode(eviction)
        )

    async def get_scale(self, cls: type[T], name: str, *, namespace: str | None = None) -> autoscaling.Scale:
        """The autoscaling/v1 Scale of a Deployment or ReplicaSet."""
        res = self.resource(cls)
        data = await self.transport.request("GET", resource_path(res, self._ns(namespace), name, "scale"))
        return _decode(data, autoscaling.Scale)

    async def scale(
        self,
        cls: type[T],
        name: str,
        replicas: int,
        *,
        namespace: str | None = None,
        resource_version: str = "",
    ) -> autoscaling.Scale:
        """PUT the Scale subresource with ``spec.replicas`` (kubectl scale)."""
        res = self.resource(cls)
        ns = self._ns(namespace)
        scale = autoscaling.Scale(
            metadata=meta.ObjectMeta(name=name, namespace=ns, resource_version=resource_version),
            spec=autoscaling.ScaleSpec(replicas=replicas),
        )
        data = await self.transport.request(
            "PUT", resource_path(res, ns, name, "scale"), body=codec.encode(scale)
        )
        return _decode(data, autoscaling.Scale)

    async def read_log(
        self,
        pod_name: str,
        *,
        namespace: str | None = None,
        container: str = "",
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        timestamps: bool = False,
        previous: bool = False,
        limit_bytes: int | None = None,
    ) -> bytes:
        """GET pods/<name>/log: the container's log so far."""
        res = self.resource(core.Pod)
        params = _params(
            container=container,
            tailLines=tail_lines,
            sinceSeconds=since_seconds,
            timestamps=timestamps,
            previous=previous,
            limitBytes=limit_bytes,
        )
        return await self.transport.request(
            "GET", resource_path(res, self._ns(namespace), pod_name, "log"), params=params
        )

    def stream_log(
        self,
        pod_name: str,
        *,
        namespace: str | None = None,
        container: str = "",
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        timestamps: bool = False,
    ) -> LogStream:
        """Follow the log (``follow=true``): ``async with api.stream_log(...) as s: async for chunk in s``."""
        res = self.resource(core.Pod)
        params = _params(
            follow=True,
            container=container,
            tailLines=tail_lines,
            sinceSeconds=since_seconds,
            timestamps=timestamps,
        )
        return LogStream(self.transport, resource_path(res, self._ns(namespace), pod_name, "log"), params)


def _decode(data: bytes, cls: type[Any]) -> Any:
    try:
        return codec.decode(data, cls)
    except codec.DecodeError as exc:
        raise errors.DecodeError(f"{cls.__name__}: {exc}") from exc


def _object_or_none(data: bytes, cls: type[T]) -> T | None:
    try:
        kind = codec.peek_type_meta(data)[1]
    except codec.DecodeError as exc:
        raise errors.DecodeError(f"{cls.__name__}: {exc}") from exc
    if kind == "Status":
        return None
    return _decode(data, cls)


class Watch(Generic[T]):
    """An open watch: an async context manager and an async iterator of ``WatchEvent``."""

    def __init__(
        self,
        tr: transport.Transport,
        cls: type[T],
        path: str,
        params: Sequence[tuple[str, str]],
        *,
        read_timeout: float | None = None,
    ) -> None:
        self._transport = tr
        self._cls = cls
        self._path = path
        self._params = params
        self._read_timeout = read_timeout
        self._cm: Any = None
        self._lines: AsyncIterator[bytes] | None = None
        self.resource_version = ""

    async def __aenter__(self) -> Watch[T]:
        await self._open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _open(self) -> None:
        if self._cm is None:
            cm = self._transport.stream(
                "GET", self._path, params=self._params, read_timeout=self._read_timeout
            )
            resp: http1.Response = await cm.__aenter__()
            self._cm = cm
            self._lines = transport.lines(resp)

    async def aclose(self) -> None:
        cm, self._cm, self._lines = self._cm, None, None
        if cm is not None:
            await cm.__aexit__(None, None, None)

    def __aiter__(self) -> Watch[T]:
        return self

    async def __anext__(self) -> WatchEvent[T]:
        await self._open()
        assert self._lines is not None
        try:
            line = await anext(self._lines)
        except StopAsyncIteration:
            await self.aclose()
            raise
        except TimeoutError as exc:  # before OSError: TimeoutError is one
            await self.aclose()
            raise errors.Timeout(
                f"watch {self._path}: no data from {self._transport.config.host_port} "
                f"for {self._read_timeout:g}s",
                server=self._transport.config.host_port,
            ) from exc
        except OSError as exc:
            await self.aclose()
            raise self._transport.connection_error(exc) from exc
        try:
            ev = _EVENT_DECODER.decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            await self.aclose()
            raise errors.DecodeError(f"watch {self._path}: bad event: {exc}") from exc
        if ev.type == "ERROR":
            await self.aclose()
            try:
                status = _STATUS_DECODER.decode(ev.object)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise errors.DecodeError(f"watch {self._path}: bad ERROR event: {exc}") from exc
            raise errors.from_status(status)
        obj = _decode(ev.object, self._cls)
        rv = obj.metadata.resource_version
        if rv:
            self.resource_version = rv
        return WatchEvent(ev.type, obj)


class LogStream:
    """A followed log: an async context manager and an async iterator of byte chunks."""

    def __init__(self, tr: transport.Transport, path: str, params: Sequence[tuple[str, str]]) -> None:
        self._transport = tr
        self._path = path
        self._params = params
        self._cm: Any = None
        self._resp: http1.Response | None = None

    async def __aenter__(self) -> LogStream:
        cm = self._transport.stream("GET", self._path, params=self._params)
        self._resp = await cm.__aenter__()
        self._cm = cm
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        cm, self._cm, self._resp = self._cm, None, None
        if cm is not None:
            await cm.__aexit__(None, None, None)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        if self._resp is None:
            raise RuntimeError("use `async with api.stream_log(...)` before iterating")
        try:
            async for chunk in self._resp.chunks():
                yield chunk
        except OSError as exc:
            raise self._transport.connection_error(exc) from exc
