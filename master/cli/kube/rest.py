"""Requests on plain dicts, as kubectl's "unstructured" client makes them.

The CLI prints, patches and re-sends objects as the server sent them, so it works on decoded
JSON (dicts) rather than the typed Structs the controllers use. Paths come from the registry
(``Resource``) through ``master.client.rest.resource_path``; every failure is a
``master.client.errors`` exception.

``get``/``list`` with ``table=True`` ask for the server-side ``meta.k8s.io/v1`` Table, as
kubectl does, so the columns of ``pictl get`` are the apiserver's.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from typing import Any

import msgspec

from master.api import meta, registry
from master.client import errors, transport
from master.client.rest import PATCH_CONTENT_TYPES, ApiClient, PatchType, resource_path

__all__ = ["TABLE_ACCEPT", "Rest", "decode"]

TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"

_decoder = msgspec.json.Decoder()


def decode(data: bytes, what: str = "response") -> Any:
    try:
        return _decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise errors.DecodeError(f"the server sent a {what} that is not JSON: {exc}") from exc


def _params(**kw: Any) -> list[tuple[str, str]]:
    return [(k, "true" if v is True else str(v)) for k, v in kw.items() if v not in (None, "", False)]


class Rest:
    """Dict-in, dict-out verbs over an ``ApiClient``'s transport."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    async def get(
        self, res: registry.Resource, name: str, namespace: str, *, table: bool = False, include_object: str = ""
    ) -> dict[str, Any]:
        if not name:
            raise errors.DecodeError(f"a {res.singular} name is required")
        data = await self.api.request(
            "GET",
            resource_path(res, namespace, name),
            params=_params(includeObject=include_object),
            accept=TABLE_ACCEPT if table else "",
        )
        return dict(decode(data))

    async def list(
        self,
        res: registry.Resource,
        namespace: str | None,
        *,
        label_selector: str = "",
        field_selector: str = "",
        table: bool = False,
        include_object: str = "",
    ) -> dict[str, Any]:
        """One list (or Table) of every matching object; ``namespace=None`` means all namespaces."""
        data = await self.api.request(
            "GET",
            resource_path(res, namespace),
            params=_params(labelSelector=label_selector, fieldSelector=field_selector, includeObject=include_object),
            accept=TABLE_ACCEPT if table else "",
        )
        return dict(decode(data))

    async def items(
        self, res: registry.Resource, namespace: str | None, *, label_selector: str = "", field_selector: str = ""
    ) -> builtins.list[dict[str, Any]]:
        found = await self.list(res, namespace, label_selector=label_selector, field_selector=field_selector)
        return list(found.get("items") or [])

    async def create(
        self, res: registry.Resource, namespace: str, obj: dict[str, Any], *, dry_run: bool = False
    ) -> dict[str, Any]:
        data = await self.api.request(
            "POST",
            resource_path(res, namespace),
            params=_params(dryRun="All" if dry_run else None),
            body=msgspec.json.encode(obj),
        )
        return dict(decode(data))

    async def patch(
        self,
        res: registry.Resource,
        name: str,
        namespace: str,
        patch: Any,
        patch_type: PatchType = "strategic",
        *,
        subresource: str = "",
        dry_run: bool = False,
    ) -> dict[str, Any]:
        data = await self.api.request(
            "PATCH",
            resource_path(res, namespace, name, subresource),
            params=_params(dryRun="All" if dry_run else None),
            body=patch if isinstance(patch, bytes) else msgspec.json.encode(patch),
            content_type=PATCH_CONTENT_TYPES[patch_type],
        )
        return dict(decode(data))

    async def delete(
        self,
        res: registry.Resource,
        name: str,
        namespace: str,
        *,
        grace_period: int | None = None,
        propagation: str | None = None,
        uid: str = "",
    ) -> dict[str, Any]:
        """DELETE; the object's last state (or the server's Status when it is already gone)."""
        options = meta.DeleteOptions(
            grace_period_seconds=grace_period,
            propagation_policy=propagation,
            preconditions=meta.Preconditions(uid=uid) if uid else None,
        )
        data = await self.api.request(
            "DELETE", resource_path(res, namespace, name), body=msgspec.json.encode(options)
        )
        return dict(decode(data))

    async def raw(self, path: str, params: builtins.list[tuple[str, str]] | None = None) -> bytes:
        """GET a path as is (``/version``, ``/api/v1/nodes/pi-1/proxy/metrics/resource``)."""
        return await self.api.request("GET", path, params=params, accept="*/*")

    async def watch(
        self,
        res: registry.Resource,
        namespace: str | None,
        *,
        resource_version: str = "",
        label_selector: str = "",
        field_selector: str = "",
        table: bool = False,
        timeout_seconds: int | None = None,
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """(type, object) events until the server ends the watch; an ERROR event raises its
        ``errors.ApiError`` (410 ``Gone``: relist)."""
        params = _params(
            watch=True,
            resourceVersion=resource_version,
            labelSelector=label_selector,
            fieldSelector=field_selector,
            timeoutSeconds=timeout_seconds,
        )
        read_timeout = None if timeout_seconds is None else timeout_seconds + 30.0
        async with self.api.transport.stream(
            "GET",
            resource_path(res, namespace),
            params=params,
            read_timeout=read_timeout,
            accept=TABLE_ACCEPT if table else "",
        ) as resp:
            lines = transport.lines(resp)
            while True:
                try:
                    line = await anext(lines)
                except StopAsyncIteration:
                    return
                except TimeoutError as exc:
                    raise errors.Timeout(
                        f"watch of {res.plural}: no data from {self.api.config.host_port} for {read_timeout:g}s",
                        server=self.api.config.host_port,
                    ) from exc
                except OSError as exc:
                    raise self.api.transport.connection_error(exc) from exc
                event = decode(line, "watch event")
                kind, obj = event.get("type", ""), event.get("object") or {}
                if kind == "ERROR":
                    raise errors.from_status(_status(obj))
                yield kind, obj


def _status(obj: Any) -> meta.Status:
    try:
        return msgspec.convert(obj, meta.Status)
    except msgspec.ValidationError:
        return meta.Status(code=500, message=str(obj)[:200])
