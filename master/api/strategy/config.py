"""ConfigMap, Secret and ServiceAccount."""

from __future__ import annotations

import base64
import binascii
from typing import ClassVar

from master.api import field, validation
from master.api.core.config import ConfigMap, Secret, ServiceAccount
from master.api.field import FieldError
from master.api.strategy.base import Strategy

__all__ = ["ConfigMapStrategy", "SecretStrategy", "ServiceAccountStrategy"]

MAX_DATA_SIZE = 1024 * 1024  # ConfigMaps and Secrets hold at most 1 MiB
SECRET_TYPE_OPAQUE = "Opaque"
SECRET_TYPE_SA_TOKEN = "kubernetes.io/service-account-token"
SECRET_TYPE_TLS = "kubernetes.io/tls"
SECRET_TYPE_DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson"


def _validate_immutable_data(new_immutable: bool | None, old_immutable: bool | None, same_data: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    if old_immutable:
        if not new_immutable:
            errs.append(field.forbidden("immutable", "field is immutable when `immutable` is set"))
        if not same_data:
            errs.append(field.forbidden("data", "field is immutable when `immutable` is set"))
    return errs


class ConfigMapStrategy(Strategy[ConfigMap]):
    def validate(self, obj: ConfigMap) -> list[FieldError]:
        errs = super().validate(obj)
        total = 0
        for k, v in obj.data.items():
            errs.extend(field.invalid("data", k, m) for m in validation.is_config_map_key(k))
            if k in obj.binary_data:
                errs.append(field.invalid("data", k, "duplicate of key present in binaryData"))
            total += len(v)
        for k, v in obj.binary_data.items():
            errs.extend(field.invalid("binaryData", k, m) for m in validation.is_config_map_key(k))
            try:
                total += len(base64.b64decode(v, validate=True))
            except (binascii.Error, ValueError):
                errs.append(field.invalid(field.key("binaryData", k), "<value omitted>", "must be base64 encoded"))
        if total > MAX_DATA_SIZE:
            errs.append(field.too_long("", MAX_DATA_SIZE))
        return errs

    def validate_update(self, new: ConfigMap, old: ConfigMap) -> list[FieldError]:
        same = new.data == old.data and new.binary_data == old.binary_data
        return super().validate_update(new, old) + _validate_immutable_data(new.immutable, old.immutable, same)


class SecretStrategy(Strategy[Secret]):
    field_selector_keys: ClassVar[frozenset[str]] = frozenset({"metadata.name", "metadata.namespace", "type"})

    def default(self, obj: Secret) -> Secret:
        if not obj.type:
            obj.type = SECRET_TYPE_OPAQUE
        if obj.string_data:
            # stringData is write-only: folded into data, never stored or returned.
            encoded = {k: base64.b64encode(v.encode()).decode() for k, v in obj.string_data.items()}
            obj.data = {**obj.data, **encoded}
            obj.string_data = {}
        return obj

    def validate(self, obj: Secret) -> list[FieldError]:
        errs = super().validate(obj)
        total = 0
        for k, v in obj.data.items():
            errs.extend(field.invalid("data", k, m) for m in validation.is_config_map_key(k))
            try:
                total += len(base64.b64decode(v, validate=True))
            except (binascii.Error, ValueError):
                errs.append(field.invalid(field.key("data", k), "<secret contents redacted>", "must be base64 encoded"))
        if total > MAX_DATA_SIZE:
            errs.append(field.too_long("data", MAX_DATA_SIZE))
        if obj.type == SECRET_TYPE_TLS:
            for k in ("tls.crt", "tls.key"):
                if k not in obj.data:
                    errs.append(field.required(field.key("data", k), ""))
        if obj.type == SECRET_TYPE_SA_TOKEN and not obj.metadata.annotations.get("kubernetes.io/service-account.name"):
            errs.append(field.required("metadata.annotations[kubernetes.io/service-account.name]"))
        return errs

    def validate_update(self, new: Secret, old: Secret) -> list[FieldError]:
        errs = super().validate_update(new, old)
        if new.type != old.type:
            errs.append(field.invalid("type", new.type, "field is immutable"))
        return errs + _validate_immutable_data(new.immutable, old.immutable, new.data == old.data)

    def field_attrs(self, obj: Secret) -> dict[str, str]:
        return {"metadata.name": obj.metadata.name, "metadata.namespace": obj.metadata.namespace, "type": obj.type}


class ServiceAccountStrategy(Strategy[ServiceAccount]):
    def validate(self, obj: ServiceAccount) -> list[FieldError]:
        errs = super().validate(obj)
        for i, ref in enumerate(obj.secrets):
            if ref.name:
                errs.extend(
                    field.invalid(field.child(field.index("secrets", i), "name"), ref.name, m)
                    for m in validation.is_dns1123_subdomain(ref.name)
                )
        return errs
