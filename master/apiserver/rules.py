"""The object rules the verbs apply, per resource: prune, default, prepare, validate.

The rules themselves (types, defaults, validation, strategies) belong to ``master.api``; this
module is the seam between the apiserver's dict-shaped request pipeline and them. Objects enter
and leave as JSON dicts; ``Cause`` is (reason, field, message) as in a 422's details.causes.

What the server guarantees whatever the strategy says:

- create: status is dropped for resources with a status subresource; generation is 1.
- update of the main resource: status is the stored one; generation +1 when spec changed.
- update of the status subresource: everything but status (and metadata) is the stored one.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from master.apiserver.registry import Served

__all__ = ["Cause", "Rules", "rules_for"]

Cause = tuple[str, str, str]

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME_RESOURCES = frozenset({"namespaces", "services"})

# Metadata fields only the server sets; a client's values are ignored on update.
_SERVER_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation")


def _name_causes(served: Served, name: str) -> list[Cause]:
    if not name:
        return [("FieldValueRequired", "metadata.name", "Required value: name or generateName is required")]
    if served.plural in _LABEL_NAME_RESOURCES:
        if len(name) > 63 or not _DNS1123_LABEL.match(name):
            return [("FieldValueInvalid", "metadata.name",
                     f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of lower case '
                     "alphanumeric characters or '-', and must start and end with an alphanumeric character "
                     "(e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")]
        return []
    if len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        return [("FieldValueInvalid", "metadata.name",
                 f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case '
                 "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character "
                 "(e.g. 'example.com', regex used for validation is "
                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")]
    return []


class Rules:
    """The generic rules; a resource's ``master.api`` strategy refines them."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.has_status = "status" in served.subresources

    def prune(self, obj: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The object with unknown fields dropped, and the dropped fields' paths."""
        return obj, []

    def prepare_create(self, obj: dict[str, Any]) -> dict[str, Any]:
        if self.has_status:
            obj.pop("status", None)
        obj["metadata"]["generation"] = 1
        return obj

    def validate_create(self, obj: dict[str, Any]) -> list[Cause]:
        return _name_causes(self.served, obj["metadata"].get("name", ""))

    def prepare_update(self, new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
        _keep_server_meta(new, old)
        if self.has_status:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        generation = int(old["metadata"].get("generation") or 1)
        if _spec_of(new) != _spec_of(old):
            generation += 1
        new["metadata"]["generation"] = generation
        return new

    def validate_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
        return []

    def prepare_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in old.items() if k != "status"}
        meta = out["metadata"]
        meta["resourceVersion"] = new["metadata"].get("resourceVersion", "")
        if "status" in new:
            out["status"] = new["status"]
        return out

    def validate_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
        return []


def _spec_of(obj: dict[str, Any]) -> Any:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "kind", "apiVersion")}


def _keep_server_meta(new: dict[str, Any], old: dict[str, Any]) -> None:
    new_meta, old_meta = new["metadata"], old["metadata"]
    for f in _SERVER_META:
        if f in old_meta:
            new_meta[f] = old_meta[f]
        else:
            new_meta.pop(f, None)
    for f in ("name", "namespace"):
        if f in old_meta:
            new_meta[f] = old_meta[f]


_RULES: dict[str, Rules] = {}


def rules_for(served: Served) -> Rules:
    rules = _RULES.get(served.plural)
    if rules is None:
        rules = _RULES[served.plural] = Rules(served)
    return rules
