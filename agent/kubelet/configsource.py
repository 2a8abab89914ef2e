"""Where the kubelet reads the ConfigMaps and Secrets that pods use (env and volumes).

``ApiConfigSource`` GETs each object when a container starts or a volume is refreshed and keeps
the last answer: while the apiserver is unreachable the last known content is used, so a
container that crashes while the master is down still restarts with its env. A 404 is an
answer (``None``), not a failure; any other failure without a known copy raises
``ConfigUnavailable``.

``StaticConfigSource`` holds objects in dicts, for tests.
"""

from __future__ import annotations

import logging
from typing import Protocol

from master.api.core import ConfigMap, Secret
from master.client import errors
from master.client.rest import ApiClient

__all__ = ["ApiConfigSource", "ConfigSource", "ConfigUnavailable", "StaticConfigSource"]

log = logging.getLogger("picluster.agent.kubelet")


class ConfigUnavailable(Exception):
    """The object could not be read and no earlier copy is known."""


class ConfigSource(Protocol):
    async def config_map(self, namespace: str, name: str) -> ConfigMap | None: ...

    async def secret(self, namespace: str, name: str) -> Secret | None: ...


class ApiConfigSource:
    def __init__(self, api: ApiClient) -> None:
        self._api = api
        self._known: dict[tuple[str, str, str], ConfigMap | Secret | None] = {}

    async def _get(self, cls: type[ConfigMap] | type[Secret], namespace: str, name: str) -> ConfigMap | Secret | None:
        key = (cls.KIND, namespace, name)
        try:
            obj: ConfigMap | Secret | None = await self._api.get(cls, name, namespace=namespace)
        except errors.NotFound:
            obj = None
        except errors.ClientError as exc:
            if key in self._known:
                log.debug("%s %s/%s: using the last known copy: %s", cls.KIND, namespace, name, exc)
                return self._known[key]
            raise ConfigUnavailable(f"cannot read {cls.KIND.lower()} {namespace}/{name}: {exc}") from exc
        self._known[key] = obj
        return obj

    async def config_map(self, namespace: str, name: str) -> ConfigMap | None:
        obj = await self._get(ConfigMap, namespace, name)
        return obj if isinstance(obj, ConfigMap) else None

    async def secret(self, namespace: str, name: str) -> Secret | None:
        obj = await self._get(Secret, namespace, name)
        return obj if isinstance(obj, Secret) else None


class StaticConfigSource:
    def __init__(self) -> None:
        self.config_maps: dict[tuple[str, str], ConfigMap] = {}
        self.secrets: dict[tuple[str, str], Secret] = {}
        self.unavailable = False

    def add(self, obj: ConfigMap | Secret) -> None:
        key = (obj.metadata.namespace or "default", obj.metadata.name)
        if isinstance(obj, ConfigMap):
            self.config_maps[key] = obj
        else:
            self.secrets[key] = obj

    async def config_map(self, namespace: str, name: str) -> ConfigMap | None:
        if self.unavailable:
            raise ConfigUnavailable(f"cannot read configmap {namespace}/{name}: unavailable")
        return self.config_maps.get((namespace, name))

    async def secret(self, namespace: str, name: str) -> Secret | None:
        if self.unavailable:
            raise ConfigUnavailable(f"cannot read secret {namespace}/{name}: unavailable")
        return self.secrets.get((namespace, name))
